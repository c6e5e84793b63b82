"""YAML as Kubernetes clients read and write it (issue 17).

Reading: plain scalars resolve by the YAML 1.2 core schema (what Go's YAML libraries and kubectl
do), not PyYAML's YAML 1.1 — ``1:20`` (sexagesimal), ``yes``/``on``, ``2001-12-14`` (timestamp),
``1_000`` and ``0b1`` stay strings; ``1e3`` is a number. In a flow sequence a ``:`` that is not
followed by a space belongs to the scalar, so ``addresses: [1.2.3.4, 2001:db8::]`` holds two
strings (libyaml rejects it; the pure-Python scanner is patched for that one rule and used only
when libyaml fails).

Writing: every manifest, fix and ``-o yaml`` document goes through :func:`dump`; strings that a
1.1 or a 1.2 reader would take for another type are quoted, regexes pass through unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.resolver import BaseResolver

_CORE: list[tuple[str, re.Pattern[str], str]] = [
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
]


class CoreResolver(BaseResolver):
    """The YAML 1.2 core schema's implicit tags (plus ``<<`` merge keys, which kubectl accepts)."""


for _tag, _regexp, _first in _CORE:
    CoreResolver.add_implicit_resolver(_tag, _regexp, [*_first, *([""] if _tag.endswith("null") else [])])
CoreResolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class _CoreConstructor(yaml.constructor.SafeConstructor):
    """1.2 numbers: decimal ints (``0777`` is 777), ``0o`` octal, ``0x`` hex; no underscores."""

    def construct_yaml_int(self, node: yaml.Node) -> int:
        text = str(self.construct_scalar(node))  # type: ignore[arg-type]
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


_constructors: Any = _CoreConstructor
_constructors.add_constructor("tag:yaml.org,2002:int", _CoreConstructor.construct_yaml_int)

# the C parser is ~10x faster; constructor and resolver stay the Python ones
_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)


class _FlowColonScanner(yaml.scanner.Scanner):
    """YAML 1.2 / Go: inside ``[...]`` or ``{...}`` a ``:`` ends a plain scalar only before a blank."""

    def scan_plain(self) -> Any:  # a copy of PyYAML's rule with the one condition changed
        s: Any = self  # PyYAML's stubs do not type the scanner's mixins
        chunks: list[str] = []
        start_mark = s.get_mark()
        end_mark = start_mark
        indent = s.indent + 1
        spaces: list[str] = []
        blanks = "\0 \t\r\n\x85\u2028\u2029"
        while True:
            length = 0
            if s.peek() == "#":
                break
            while True:
                ch = s.peek(length)
                if ch in blanks or (ch == ":" and s.peek(length + 1) in blanks) or (s.flow_level and ch in ",?[]{}"):
                    break
                length += 1
            if length == 0:
                break
            s.allow_simple_key = False
            chunks.extend(spaces)
            chunks.append(s.prefix(length))
            s.forward(length)
            end_mark = s.get_mark()
            spaces = s.scan_plain_spaces(indent, start_mark)
            if not spaces or s.peek() == "#" or (not s.flow_level and s.column < indent):
                break
        return yaml.tokens.ScalarToken("".join(chunks), True, start_mark, end_mark)


class _PyCoreLoader(
    yaml.reader.Reader,
    _FlowColonScanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _CoreConstructor,
    CoreResolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        _FlowColonScanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _CoreConstructor.__init__(self)
        CoreResolver.__init__(self)


if _CParser is not None:

    class _CCoreLoader(_CParser, _CoreConstructor, CoreResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _CoreConstructor.__init__(self)
            CoreResolver.__init__(self)

    _FAST: Any = _CCoreLoader
else:  # pragma: no cover
    _FAST = _PyCoreLoader


_PY: Any = _PyCoreLoader


def load(text: str) -> Any:
    """One YAML document, read as kubectl reads it. Raises ``yaml.YAMLError`` as PyYAML does."""
    try:
        return yaml.load(text, Loader=_FAST)
    except yaml.YAMLError:
        if ":" not in text:
            raise
        try:
            return yaml.load(text, Loader=_PY)
        except yaml.YAMLError:
            pass
        raise


# --- writing ---

_V11: Any = yaml.resolver.Resolver()


def _ambiguous(value: str) -> bool:
    """True when a plain ``value`` would not read back as this string under YAML 1.1 or 1.2."""
    if _V11.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
        return True
    return any(regexp.match(value) for _, regexp, _ in _CORE)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:  # a multi-line value (a fix, a heredoc) reads and pastes as a literal block
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if _ambiguous(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump(doc: Any) -> str:
    """A YAML document (a manifest, a fix, a ``-o yaml`` answer), key order kept."""
    return str(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120))


def dump_all(docs: list[Any]) -> str:
    return str(yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120))
