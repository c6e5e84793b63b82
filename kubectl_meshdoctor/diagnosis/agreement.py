"""When may the answer say its flows "agree"? (issue 10 §4, B23)

Flows earn "agrees" only when they show the request the answer predicts: on the port the server
really receives it on (after Service translation; 15008 for HBONE), and, where the prediction rests
on HTTP (an L7 rule, a route, an HTTP status), with HTTP records of that very method and path. A
pair's flows on other ports or for other paths say nothing about this request, and flows never
corroborate an answer whose deciding objects could not all be read.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.evidence import FlowTally
from kubectl_meshdoctor.findings.types import Decision, Evidence, Hop, HopResult, Symptom

_L7_HOPS = {Hop.CILIUM_L7, Hop.CLIENT_ROUTE}


def request_ports(call: Call) -> frozenset[int]:
    """The server-side ports this request's packets carry (post-translation, on the wire)."""
    ports = {call.wire_port}
    if call.target_port is not None:
        ports.add(call.target_port)
    return frozenset(ports)


def _rests_on_http(broken: HopResult | None, tally: FlowTally) -> bool:
    if broken is not None:
        if broken.hop is Hop.CILIUM_L7 and broken.decision is Decision.BREAK:
            return False  # predicted: redirected to the proxy, which never sees HTTP (no L7 records)
        if broken.hop in _L7_HOPS:
            return True
        if broken.symptom is not None and broken.symptom.value.startswith("http-"):
            return broken.hop is not Hop.RESOLVE
    # Hubble has L7 visibility on this pair: then it must show this request, not others
    return tally.l7_records > 0


def judge_agreement(evidence: Evidence, tally: FlowTally, broken: HopResult | None, unknown: HopResult | None) -> None:
    """Set ``evidence.agrees`` to None (inconclusive) unless the flows show this request.

    Runs after the contradiction check: a contradiction (agrees False) stands, since flows that
    contradict the objects are a finding whatever the request.
    """
    if evidence.agrees is False or not tally.flows:
        return
    reason = ""
    if unknown is not None:
        reason = "inconclusive: the answer rests on objects that could not all be read"
    elif not tally.on_port:
        ports = ", ".join(str(p) for p in sorted(tally.ports))
        reason = f"no flows for this request: none of the pair's flows is on port {ports}"
    elif _rests_on_http(broken, tally) and not tally.this_request_l7 and not tally.l7_denied_requests:
        dropped_before_http = broken is not None and broken.symptom in (Symptom.TIMEOUT, Symptom.RESET)
        if not dropped_before_http:
            reason = f"inconclusive: no HTTP records of {tally.method} {tally.path} for this pair"
    elif evidence.observed is None:
        reason = "inconclusive: the flows show no outcome of this request"
    if reason:
        evidence.agrees = None
        evidence.summary = f"{evidence.summary}; {reason}" if evidence.summary else reason
