"""`check -o sarif`: SARIF 2.1.0 for code scanning in CI (one rule per cause code, one result per
finding, a physical location where the object came from a file)."""

from __future__ import annotations

import re
from typing import Any

from kubectl_meshdoctor import __version__
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.titles import FIXES, TITLES
from kubectl_meshdoctor.findings.types import ObjectRef

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HOME = "https://github.com/meshdoctor/kubectl-meshdoctor"
CAUSES_DOC = f"{HOME}/blob/main/docs/causes.md"
DEMOS = "kubectl_meshdoctor/demos"  # where a --demo object's file is, in the source tree
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _split_origin(origin: str) -> tuple[str, int | None]:
    """``"blue/l7.yaml:14 items[0]"`` -> (``"blue/l7.yaml"``, 14)."""
    where = origin.split(" ", 1)[0]
    path, sep, line = where.rpartition(":")
    if sep and line.isdigit():
        return path, int(line)
    return where, None


def _location(ref: ObjectRef) -> dict[str, Any]:
    name = f"{ref.kind} {ref.namespace + '/' if ref.namespace else ''}{ref.name}"
    loc: dict[str, Any] = {
        "logicalLocations": [
            {"name": ref.name, "fullyQualifiedName": name + (f" {ref.rule}" if ref.rule else ""), "kind": ref.kind}
        ]
    }
    origin = ref.origin
    if origin and origin.startswith("demo:"):  # a bundled demo: its file in the source tree
        origin = f"{DEMOS}/{origin.removeprefix('demo:')}"
    if origin and not origin.startswith("live"):
        path, line = _split_origin(origin)
        physical: dict[str, Any] = {"artifactLocation": {"uri": path.lstrip("/") if path.startswith("./") else path}}
        if line is not None:
            physical["region"] = {"startLine": max(1, line)}
        loc["physicalLocation"] = physical
    return loc


def _generic(template: str) -> str:
    """A catalog template with its per-case values shown as <name>."""
    return _PLACEHOLDER.sub(r"<\1>", template).replace("{{", "{").replace("}}", "}")


def _described(title: str, spec: catalog.CauseSpec) -> str:
    """The title, what `check` looks for mesh-wide, and the semantics reference."""
    found = f" `check` looks at: {spec.check}." if spec.check else ""
    return f"{title}.{found} Reference: {spec.doc}."


def sarif(findings: list[dict[str, Any]], refs: list[tuple[ObjectRef, ...]], gaps: list[str]) -> dict[str, Any]:
    """``findings`` as `check -o json` prints them, ``refs`` their objects (same order)."""
    codes = sorted({f["code"] for f in findings})
    rules = []
    for code in codes:
        spec = catalog.CAUSES[code]
        rule: dict[str, Any] = {
            "id": code,
            "name": "".join(part.capitalize() for part in code.split("-")),
            "shortDescription": {"text": TITLES[code]},
            "fullDescription": {"text": _described(TITLES[code], spec)},
            "defaultConfiguration": {"level": _LEVEL[spec.severity.value]},
            "helpUri": f"{CAUSES_DOC}#{code}",
            "help": {"text": "fix: " + (FIXES.get(code) or _generic(spec.fix))},
            "properties": {"reference": spec.doc, "istioctl": list(spec.related)},
        }
        rules.append(rule)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for doc, objects in zip(findings, refs, strict=True):
        result: dict[str, Any] = {
            "ruleId": doc["code"],
            "ruleIndex": index[doc["code"]],
            "level": _LEVEL[doc["severity"]],
            "message": {"text": f"{doc['summary']}\nfix: {doc['fix']}"},
            "locations": [_location(ref) for ref in objects] or [{"logicalLocations": [{"name": "cluster"}]}],
        }
        if doc.get("related"):
            result["properties"] = {"istioctl": doc["related"]}
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "meshdoctor",
                "version": __version__,
                "informationUri": HOME,
                "rules": rules,
            }
        },
        "results": results,
    }
    if gaps:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "warning", "message": {"text": g}} for g in gaps],
            }
        ]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
