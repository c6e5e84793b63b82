"""The shape of one catalog entry (CauseSpec) and how entries are written; the entries themselves live
in the catalog_* modules by family, assembled in catalog.py."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import Severity


@dataclass(frozen=True, slots=True)
class CauseSpec:
    code: str
    severity: Severity
    summary: str  # str.format template over Cause.params
    fix: str  # str.format template over Cause.params
    doc: str  # semantics.md entry
    retired: bool = False
    planned: bool = False  # reserved in the contract, not produced yet (issue 7: traffic management)
    check: str = ""  # how `check` finds it mesh-wide ("" = only explain, for one call)
    related: tuple[str, ...] = ()  # istioctl analyze messages that cover the same problem


def spec(code: str, severity: Severity, summary: str, fix: str, doc: str, planned: bool = False) -> CauseSpec:
    return CauseSpec(code, severity, summary, fix, doc, planned=planned or doc == "issue 7")


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
