"""Every share of requests decides (issue 17): the other destinations of a weighted route are walked
too, and the shares that fail by configuration (fault aborts, destinations that break) make the call
broken for that share, exit 1, with the share in the symptom and the text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis.call import Call, Query
from kubectl_meshdoctor.diagnosis.partial import Partial, share_text
from kubectl_meshdoctor.findings.types import HOP_TITLES, Cause, Decision, Hop, HopResult, Symptom, Verdict

# a walk of the same call pinned to another destination: (results, first certain break, first unknown)
Walk = Callable[[Query], tuple[list[HopResult], HopResult | None, HopResult | None]]

_FAILS = (Verdict.BROKEN, Verdict.DENIED)


@dataclass(slots=True)
class Outcome:
    verdict: Verdict
    symptom: Symptom
    share: float | None  # percent of requests that get the symptom; None = every request
    results: list[HopResult]
    causes: list[Cause]
    gaps: list[str]


def _after_route(hop: Hop) -> bool:
    order = list(Hop)
    return order.index(hop) > order.index(Hop.CLIENT_ROUTE)


def _split_walks(call: Call, walk: Walk) -> tuple[list[Partial], list[str], list[Cause]]:
    partial: list[Partial] = []
    unknown: list[str] = []
    causes: list[Cause] = []
    for t in call.split:
        results, broken, first_unknown = walk(replace(call.query, pin=(t.service, t.subset)))
        head = f"{share_text(t.share)} of requests → {t.label}"
        if broken is not None and broken.verdict in _FAILS and _after_route(broken.hop):
            text = f"{head}: {HOP_TITLES[broken.hop]}: {broken.detail}"
            symptom = broken.symptom or Symptom.UNKNOWN
            assert broken.verdict is not None
            partial.append(Partial(t.share, symptom, broken.verdict, text, broken.by))
            causes += [c for r in results if _after_route(r.hop) for c in r.causes]
        elif first_unknown is not None:
            unknown.append(f"{head}: {HOP_TITLES[first_unknown.hop]} is unknown ({first_unknown.detail})")
    return partial, unknown, causes


def _mark_route(results: list[HopResult], decision: Decision, notes: list[str], partial: list[Partial]) -> None:
    for i, hop in enumerate(results):
        if hop.hop is Hop.CLIENT_ROUTE:
            by = tuple(dict.fromkeys(r for p in partial for r in p.by)) or hop.by
            detail = "; ".join([hop.detail, *notes])
            if decision is Decision.BREAK:
                worst = max(partial, key=lambda p: p.share)
                results[i] = replace(
                    hop, decision=decision, by=by, detail=detail, symptom=worst.symptom, verdict=worst.verdict
                )
            else:
                results[i] = replace(hop, detail=detail)
            return


def judge(
    call: Call, results: list[HopResult], broken: HopResult | None, unknown: HopResult | None, walk: Walk
) -> Outcome:
    """The verdict over every share of requests the route configures."""
    partial = list(call.partial)
    more, unknown_notes, causes = _split_walks(call, walk)
    partial += more
    failing = sum(p.share for p in partial)
    gaps: list[str] = []
    if broken is not None:
        share: float | None = None
        if _after_route(broken.hop) and call.split_main < 100:
            failing += call.split_main
            share = failing if failing < 100 else None
        notes = [p.text for p in more]
        if notes:
            _mark_route(results, Decision.ALLOW, notes, partial)
        return Outcome(
            broken.verdict or Verdict.UNKNOWN, broken.symptom or Symptom.UNKNOWN, share, results, causes, gaps
        )
    steering_unknown = unknown is not None and unknown.hop is Hop.RESOLVE  # the route may not even apply
    if partial and not steering_unknown:
        worst = max(partial, key=lambda p: p.share)
        failed = "; ".join(p.text for p in partial)
        _mark_route(results, Decision.BREAK, [f"→ broken for a share of requests: {failed}", *unknown_notes], partial)
        if unknown is not None or unknown_notes:
            gaps.append(
                "the remaining requests could not all be judged: "
                + "; ".join(unknown_notes or [unknown.detail if unknown else ""])
            )
        share = failing if failing < 100 else None
        return Outcome(worst.verdict, worst.symptom, share, results, causes, gaps)
    if unknown is not None or unknown_notes:
        if unknown_notes:
            _mark_route(results, Decision.ALLOW, unknown_notes, partial)
            gaps += unknown_notes
        return Outcome(Verdict.UNKNOWN, Symptom.UNKNOWN, None, results, causes, gaps)
    return Outcome(Verdict.ALLOWED, Symptom.OK, None, results, causes, gaps)
