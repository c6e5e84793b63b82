"""Shares of requests (issue 17): a fault that aborts some requests, a weighted route whose
destinations fare differently. A call that fails for a configured share of requests is broken,
with the share in the answer ("30% of requests get 503")."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import Cause, ObjectRef, Symptom, Verdict


@dataclass(frozen=True, slots=True)
class Partial:
    """A share of requests that certainly fails while the others go on."""

    share: float  # percent of requests, 0-100
    symptom: Symptom
    verdict: Verdict
    text: str  # "30% of requests get 503 (VirtualService default/ratings http[0].fault.abort)"
    by: tuple[ObjectRef, ...]
    causes: tuple[Cause, ...] = ()


@dataclass(frozen=True, slots=True)
class SplitTarget:
    """Another destination of a weighted route: its Service ("ns/name"), subset and share."""

    service: str
    subset: str | None
    share: float

    @property
    def label(self) -> str:
        return f"{self.service}{f' subset {self.subset}' if self.subset else ''}"


def share_text(share: float) -> str:
    return f"{share:.3g}%"
