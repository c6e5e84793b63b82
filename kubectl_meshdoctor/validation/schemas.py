"""The schemas shipped in ``schemas/``: which kind and apiVersion each covers, as JSON Schema draft 4.

Kubernetes structural schemas are OpenAPI v3; three of their extensions change what a value may be
and are rewritten here: ``x-kubernetes-int-or-string`` (integer or string), ``nullable`` (null is
allowed) and ``format`` (the API server checks only some formats: of those in our schemas, ``cidr``;
the others, e.g. ``int32`` or ``idn-hostname``, are descriptive and dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

CHECKED_FORMATS = frozenset({"cidr"})
# Built-in kinds decode JSON null as "unset"; custom resources reject null unless `nullable`.
BUILTIN_FILE = "core.yaml"
FILES = ("core.yaml", "cilium.yaml", "istio.json")


@dataclass(frozen=True, slots=True)
class KindSchema:
    kind: str
    api_versions: tuple[str, ...]
    schema: dict[str, Any]  # draft 4, `definitions` attached
    builtin: bool  # nulls are dropped before validation

    def group(self) -> str:
        return self.api_versions[0].rpartition("/")[0] if self.api_versions else ""


METADATA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {
            "type": "object",
            "additionalProperties": {
                "type": "string",
                "maxLength": 63,
                "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
            },
        },
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "ownerReferences": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {k: {"type": "string"} for k in ("apiVersion", "kind", "name", "uid")},
            },
        },
    },
}


def to_draft4(node: Any) -> Any:
    """Rewrite the Kubernetes extensions that change which values are valid (module docstring)."""
    if isinstance(node, list):
        return [to_draft4(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: to_draft4(sub) for name, sub in value.items()}
        elif key == "format" and value not in CHECKED_FORMATS:
            continue
        elif key in ("x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"):
            continue  # evaluated by rules.py
        elif key == "enum" or key == "default":
            out[key] = value
        else:
            out[key] = to_draft4(value)
    if node.get("x-kubernetes-int-or-string") and "type" not in out:
        out.pop("anyOf", None)
        out["type"] = ["integer", "string"]
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    return out


def _read(name: str) -> dict[str, Any]:
    text = resources.files("kubectl_meshdoctor.validation").joinpath("schemas", name).read_text()
    if name.endswith(".json"):
        data: dict[str, Any] = json.loads(text)
        return data
    import yaml

    loaded: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


def read_kinds(name: str) -> dict[str, list[KindSchema]]:
    """One schema file -> {kind: [KindSchema per distinct schema]}; both file layouts (see schemas/)."""
    data = _read(name)
    builtin = name == BUILTIN_FILE
    out: dict[str, list[KindSchema]] = {}
    if "kinds" in data:  # hand-written: shared `definitions`, one entry per kind
        definitions = data.get("definitions", {})
        for kind, entry in data["kinds"].items():
            schema = dict(entry["schema"])
            schema["definitions"] = definitions
            out[kind] = [KindSchema(kind, tuple(entry["apiVersions"]), schema, builtin)]
        return out
    for kind, entries in data.items():  # generated from published CRDs (scripts/gen-validation-schemas)
        out[kind] = [KindSchema(kind, tuple(e["apiVersions"]), e["schema"], builtin) for e in entries]
    return out


def with_metadata(schema: dict[str, Any]) -> dict[str, Any]:
    """ObjectMeta is validated by the API server for every kind, whatever the kind's own schema says."""
    return {"allOf": [schema, {"properties": {"metadata": METADATA}}], "definitions": schema.get("definitions", {})}
