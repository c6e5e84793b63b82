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

try:  # orjson parses kubectl's JSON lists ~2x faster (50,000 pods: issue 13)
    from orjson import loads as _orjson_loads

    _json_loads: Any = _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency
    _json_loads = json.loads

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


# Kinds whose objects in any namespace can change a call between two others (a VirtualService or
# ServiceEntry exported to every namespace, a Gateway route, Istio's root-namespace config): kept
# from every namespace when a question scopes the read. They are few next to pods and policies.
EVERY_NAMESPACE_KINDS = frozenset(
    {"VirtualService", "ServiceEntry", "DestinationRule", "Gateway", "HTTPRoute", "GRPCRoute", "TCPRoute",
     "TLSRoute", "ReferenceGrant", "Sidecar", "EnvoyFilter", "WorkloadEntry", "WorkloadGroup", "ConfigMap"}
)  # fmt: skip


class Scope:
    """Namespaces to keep (cluster-scoped objects and ``EVERY_NAMESPACE_KINDS`` always are); counts
    what it leaves out."""

    __slots__ = ("left_out", "namespaces")

    def __init__(self, namespaces: frozenset[str]) -> None:
        self.namespaces = namespaces
        self.left_out = 0

    def keeps(self, doc: Any) -> bool:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        if not ns or ns in self.namespaces or (isinstance(doc, dict) and isinstance(doc.get("items"), list)):
            return True
        if isinstance(doc, dict) and doc.get("kind") in EVERY_NAMESPACE_KINDS:
            return True
        self.left_out += 1
        return False


def _flatten(doc: Any, origin: str, out: list[RawObject], gaps: list[str], scope: Scope | None = None) -> None:
    if doc is None:
        return
    if scope is not None and not scope.keeps(doc):
        return  # before the origin strings and the checks: most of a large list is left out here
    if not isinstance(doc, dict):
        gaps.append(f"{origin}: not a Kubernetes object (a {type(doc).__name__}); skipped")
        return
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if scope is None or scope.keeps(item):
                _flatten(item, f"{origin} items[{index}]", out, gaps, scope)
        return
    if not isinstance(kind, str) or not kind or not isinstance(doc.get("metadata"), dict):
        gaps.append(f"{origin}: document without kind/metadata; skipped")
        return
    out.append(RawObject(doc, origin))


def decode_yaml(text: str, path: str, scope: Scope | None = None) -> tuple[list[RawObject], list[str]]:
    objects: list[RawObject] = []
    gaps: list[str] = []
    for first_line, chunk in _split_documents(text):
        if not chunk.strip():
            continue
        try:
            doc = yaml.load(chunk, Loader=_Loader)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = first_line + mark.line if mark is not None else first_line
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise InputError(path, line, f"malformed YAML: {problem}") from None
        _flatten(doc, f"{path}:{first_line}", objects, gaps, scope)
    return objects, gaps


def decode_json(text: str | bytes, path: str, scope: Scope | None = None) -> tuple[list[RawObject], list[str]]:
    """``text`` may be the file's bytes: orjson checks the UTF-8 itself, without a decoded copy."""
    try:
        doc = _json_loads(text)
    except json.JSONDecodeError as err:  # orjson's error is a subclass, with the same lineno/msg
        raise InputError(path, err.lineno, f"malformed JSON: {err.msg}") from None
    objects: list[RawObject] = []
    gaps: list[str] = []
    _flatten(doc, f"{path}:1", objects, gaps, scope)
    return objects, gaps


def decode_documents(text: str, path: str, scope: Scope | None = None) -> tuple[list[RawObject], list[str]]:
    if path.endswith(".json"):
        return decode_json(text, path, scope)
    return decode_yaml(text, path, scope)
