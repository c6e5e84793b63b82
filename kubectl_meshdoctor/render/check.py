"""`check` output: the contract's JSON document and the plain text listing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.render.document import cause_dict

if TYPE_CHECKING:
    from kubectl_meshdoctor.app import CheckResult


def check_document(result: CheckResult) -> dict[str, Any]:
    findings = []
    for f in result.findings:
        doc = cause_dict(f.cause)
        doc["related"] = list(catalog.related(f.cause))
        doc["check"] = f.check
        if f.cluster is not None:  # multi-cluster input (issue 21): a field added, none renamed
            doc["cluster"] = f.cluster
        if f.gaps:
            doc["gaps"] = list(f.gaps)
        findings.append(doc)
    return {"findings": findings, "gaps": list(result.gaps)}


def check_text(result: CheckResult) -> Iterator[str]:
    from kubectl_meshdoctor.render.text import clean

    doc = check_document(result)
    if not doc["findings"] and not result.gaps:
        yield "✓ no Cilium+Istio interop problems found"
    for item in doc["findings"]:
        related = f"  (istioctl: {', '.join(item['related'])})" if item["related"] else ""
        where = f"  [cluster {item['cluster']}]" if item.get("cluster") else ""
        yield clean(f"{item['severity'].upper():8} {item['code']}{related}{where}")
        yield clean(f"         {item['summary']}")
        for obj in item["objects"]:
            where = f"{obj['namespace']}/" if obj.get("namespace") else ""
            rule = f" {obj['rule']}" if obj.get("rule") else ""
            yield clean(f"         ↳ {obj['kind']} {where}{obj['name']}{rule}")
        yield clean("  fix    " + item["fix"].replace("\n", "\n         "))
        for gap in item.get("gaps", []):
            yield clean(f"  gap    {gap}")
    if doc["gaps"]:
        errors = any(f["severity"] == "error" for f in doc["findings"])
        if not errors:
            yield "? no error found in what could be read; the check rests on gaps:"
        for gap in doc["gaps"]:
            yield clean(f"gap      {gap}")
