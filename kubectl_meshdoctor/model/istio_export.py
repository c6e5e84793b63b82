"""Istio visibility (issue 11 §3): ``exportTo`` on VirtualService, DestinationRule, ServiceEntry,
the ``networking.istio.io/exportTo`` annotation on Services, and the mesh-wide defaults
(meshConfig ``defaultServiceExportTo``, ``defaultVirtualServiceExportTo``,
``defaultDestinationRuleExportTo``; absent = ``*``). Values: ``*`` every namespace, ``.`` the
object's own namespace, ``~`` none, otherwise namespace names. An object without exportTo takes
the mesh default for its kind (ServiceEntry uses the Service default)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

EXPORT_ANNOTATION = "networking.istio.io/exportTo"
_MESH_KEYS = {
    "Service": "defaultServiceExportTo",
    "VirtualService": "defaultVirtualServiceExportTo",
    "DestinationRule": "defaultDestinationRuleExportTo",
}


def service_export_to(annotations: Any) -> tuple[str, ...]:
    """The Service annotation, a comma-separated list ("." , "*", "~", namespaces)."""
    if not isinstance(annotations, dict) or not annotations.get(EXPORT_ANNOTATION):
        return ()
    return tuple(x.strip() for x in str(annotations[EXPORT_ANNOTATION]).split(",") if x.strip())


def default_export_to(mesh_text: str) -> dict[str, tuple[str, ...]]:
    import yaml

    from kubectl_meshdoctor.model import yamlcore

    try:
        raw = yamlcore.load(mesh_text) or {}
    except yaml.YAMLError:
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for kind, key in _MESH_KEYS.items():
        value = raw.get(key)
        if isinstance(value, list) and value:
            out[kind] = tuple(str(x) for x in value)
    return out


def effective(export_to: Iterable[str], kind: str, defaults: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    items = tuple(export_to)
    if items:
        return items
    return defaults.get("Service" if kind == "ServiceEntry" else kind, ("*",))


def exported(export_to: Iterable[str], owner_ns: str | None, client_ns: str) -> bool:
    return any(item in ("*", client_ns) or (item == "." and owner_ns == client_ns) for item in export_to)


def describe(export_to: Iterable[str], explicit: bool) -> str:
    items = ", ".join(export_to) or "*"
    return f"exportTo [{items}]" if explicit else f"exportTo [{items}] (mesh default)"
