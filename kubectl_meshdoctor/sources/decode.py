"""Kubernetes documents from YAML/JSON text: single, multi-document, ``kind: List``.

Each object keeps its origin ``file:line`` so findings can point at the proof
offline (architecture habit 7). Unparsable text is an InputError naming the file
and line; documents without a kind become gaps, never exceptions.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from kubectl_meshdoctor.errors import InputError
from kubectl_meshdoctor.sources.base import RawObject

try:  # the C loader is ~10x faster; fall back when libyaml is missing
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the pyyaml build
    _Loader = yaml.SafeLoader

_DOC_SEP = re.compile(r"^---[ \t]*(#.*)?$", re.MULTILINE)


def _split_documents(text: str) -> list[tuple[int, str]]:
    """Split multi-document YAML on '---' lines; returns (first line number, text)."""
    parts: list[tuple[int, str]] = []
    start = 0
    line = 1
    for match in _DOC_SEP.finditer(text):
        chunk = text[start : match.start()]
        parts.append((line, chunk))
        line += chunk.count("\n") + 1
        start = match.end() + 1
    parts.append((line, text[start:]))
    return parts


def _normalize(text: str) -> str:
    """CRLF (Windows editors, some generators) and a BOM must not hide '---' separators."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _item_kind(list_kind: str | None) -> str | None:
    """``PodList`` items may omit ``kind`` (kubectl's typed lists): it is the list's kind minus 'List'."""
    if list_kind and list_kind.endswith("List") and list_kind != "List":
        return list_kind[: -len("List")]
    return None


def _flatten(doc: Any, origin: str, out: list[RawObject], gaps: list[str], implied_kind: str | None = None) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        gaps.append(f"{origin}: not a Kubernetes object (a {type(doc).__name__}); skipped")
        return
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(items, list) and (kind is None or (isinstance(kind, str) and kind.endswith("List"))):
        item_kind = _item_kind(kind if isinstance(kind, str) else None)
        for index, item in enumerate(items):
            _flatten(item, f"{origin} items[{index}]", out, gaps, item_kind)
        return
    if kind is None and implied_kind is not None:
        doc = {**doc, "kind": implied_kind}
        kind = implied_kind
    if not isinstance(kind, str) or not kind or not isinstance(doc.get("metadata"), dict):
        gaps.append(f"{origin}: document without kind/metadata; skipped")
        return
    out.append(RawObject(doc, origin))


def decode_yaml(text: str, path: str) -> tuple[list[RawObject], list[str]]:
    objects: list[RawObject] = []
    gaps: list[str] = []
    for first_line, chunk in _split_documents(_normalize(text)):
        if not chunk.strip():
            continue
        try:
            doc = yaml.load(chunk, Loader=_Loader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = first_line + mark.line if mark is not None else first_line
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise InputError(path, line, f"malformed YAML: {problem}") from None
        _flatten(doc, f"{path}:{first_line}", objects, gaps)
    return objects, gaps


def decode_json(text: str, path: str) -> tuple[list[RawObject], list[str]]:
    try:
        doc = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as err:
        raise InputError(path, err.lineno, f"malformed JSON: {err.msg}") from None
    objects: list[RawObject] = []
    gaps: list[str] = []
    _flatten(doc, f"{path}:1", objects, gaps)
    return objects, gaps


def decode_documents(text: str, path: str) -> tuple[list[RawObject], list[str]]:
    if path.endswith(".json"):
        return decode_json(text, path)
    return decode_yaml(text, path)
