"""The two hop results every hop module builds the same way: an allow naming what decided it, and
a skip (not reached, or not on this call's path) naming what it rests on."""

from __future__ import annotations

from kubectl_meshdoctor.findings.types import Decision, Hop, HopResult, ObjectRef


def allow_result(hop: Hop, detail: str, by: tuple[ObjectRef, ...] = ()) -> HopResult:
    return HopResult(hop, Decision.ALLOW, by, detail)


def skip_result(hop: Hop, detail: str, reads: tuple[str, ...] | None = None) -> HopResult:
    return HopResult(hop, Decision.SKIP, (), detail, reads=reads)
