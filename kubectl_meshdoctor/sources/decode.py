"""Kubernetes documents from YAML/JSON text: single, multi-document, ``kind: List``.

Each object keeps its origin ``file:line`` so findings can point at the proof
offline (architecture habit 7). Unparsable text is an InputError naming the file
and line; documents without a kind become gaps, never exceptions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kubectl_meshdoctor.errors import InputError
from kubectl_meshdoctor.raw import RawObject

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
     "TLSRoute", "ReferenceGrant", "Sidecar", "EnvoyFilter", "WorkloadEntry", "WorkloadGroup", "ConfigMap",
     "CiliumEnvoyConfig"}
)  # fmt: skip


# Gateway and waypoint objects (pods, Deployments, Services) carry one of these labels: a waypoint
# may serve a namespace from another one (istio.io/use-waypoint-namespace), so they stay too.
GATEWAY_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name", "gateway.istio.io/managed")


def _gateway_part(doc: dict[str, Any], meta: dict[str, Any]) -> bool:
    labels = meta.get("labels")
    spec = doc.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    tmeta = template.get("metadata") if isinstance(template, dict) else None
    tlabels = tmeta.get("labels") if isinstance(tmeta, dict) else None
    return any(isinstance(ls, dict) and any(k in ls for k in GATEWAY_LABELS) for ls in (labels, tlabels))


class Scope:
    """Namespaces to keep (cluster-scoped objects, ``EVERY_NAMESPACE_KINDS`` and gateway/waypoint
    parts always are); counts what it leaves out."""

    __slots__ = ("left_out", "namespaces")

    def __init__(self, namespaces: frozenset[str]) -> None:
        self.namespaces = namespaces
        self.left_out = 0

    def keeps(self, doc: Any, implied_kind: str | None = None) -> bool:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        if not ns or ns in self.namespaces or (isinstance(doc, dict) and isinstance(doc.get("items"), list)):
            return True
        if isinstance(doc, dict) and (doc.get("kind") or implied_kind) in EVERY_NAMESPACE_KINDS:
            return True
        if isinstance(doc, dict) and isinstance(meta, dict) and _gateway_part(doc, meta):
            return True
        self.left_out += 1
        return False


def _normalize(text: str) -> str:
    """CRLF (Windows editors, some generators) and a BOM must not hide '---' separators."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _item_kind(list_kind: str | None) -> str | None:
    """``PodList`` items may omit ``kind`` (kubectl's typed lists): it is the list's kind minus 'List'."""
    if list_kind and list_kind.endswith("List") and list_kind != "List":
        return list_kind[: -len("List")]
    return None


def _flatten(
    doc: Any,
    origin: str,
    out: list[RawObject],
    gaps: list[str],
    implied_kind: str | None = None,
    scope: Scope | None = None,
) -> None:
    if doc is None:
        return
    if scope is not None and not scope.keeps(doc, implied_kind):
        return  # before the origin strings and the checks: most of a large list is left out here
    if not isinstance(doc, dict):
        gaps.append(f"{origin}: not a Kubernetes object (a {type(doc).__name__}); skipped")
        return
    kind = doc.get("kind")
    items = doc.get("items")
    if isinstance(items, list) and (kind is None or (isinstance(kind, str) and kind.endswith("List"))):
        item_kind = _item_kind(kind if isinstance(kind, str) else None)
        for index, item in enumerate(items):
            if scope is not None and not scope.keeps(item, item_kind):
                continue
            if type(item) is dict:  # the usual item, an object of its own kind, taken as the call below would
                inner = item.get("kind")
                # inner[-4:] is endswith("List") without its argument parsing (~1 % of the read)
                if type(inner) is str and inner and inner[-4:] != "List" and type(item.get("metadata")) is dict:
                    out.append(RawObject(item, f"{origin} items[{index}]"))
                    continue
            _flatten(item, f"{origin} items[{index}]", out, gaps, item_kind, scope)
        return
    if kind is None and implied_kind is not None:
        doc = {**doc, "kind": implied_kind}
        kind = implied_kind
    if not isinstance(kind, str) or not kind or not isinstance(doc.get("metadata"), dict):
        gaps.append(f"{origin}: document without kind/metadata; skipped")
        return
    out.append(RawObject(doc, origin))


def decode_yaml(text: str, path: str, scope: Scope | None = None) -> tuple[list[RawObject], list[str]]:
    import yaml  # only for YAML files: a kubectl JSON snapshot never needs it

    from kubectl_meshdoctor.model import yamlcore

    objects: list[RawObject] = []
    gaps: list[str] = []
    for first_line, chunk in _split_documents(_normalize(text)):
        if not chunk.strip():
            continue
        try:
            doc = yamlcore.load(chunk)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = first_line + mark.line if mark is not None else first_line
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise InputError(path, line, f"malformed YAML: {problem}") from None
        _flatten(doc, f"{path}:{first_line}", objects, gaps, scope=scope)
    return objects, gaps


def decode_json(text: str | bytes, path: str, scope: Scope | None = None) -> tuple[list[RawObject], list[str]]:
    """``text`` may be the file's bytes: orjson checks the UTF-8 itself, without a decoded copy."""
    try:
        bare = text.removeprefix(b"\xef\xbb\xbf") if isinstance(text, bytes) else text.removeprefix("\ufeff")
        doc = _json_loads(bare)
    except json.JSONDecodeError as err:  # orjson's error is a subclass, with the same lineno/msg
        raise InputError(path, err.lineno, f"malformed JSON: {err.msg}") from None
    objects: list[RawObject] = []
    gaps: list[str] = []
    _flatten(doc, f"{path}:1", objects, gaps, scope=scope)
    return objects, gaps


def decode_documents(text: str, path: str, scope: Scope | None = None) -> tuple[list[RawObject], list[str]]:
    if path.endswith(".json"):
        return decode_json(text, path, scope)
    return decode_yaml(text, path, scope)
