"""The client egress hop for a destination outside the cluster, after the policy decision (issue 20 §5):
toFQDNs and DNS visibility (cilium_fqdn), then where the connection leaves the cluster and with which
source IP (cilium_egress_gateway)."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis import cilium_egress_gateway, cilium_fqdn
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision
from kubectl_meshdoctor.findings.types import Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.objects import Peer, Pod

HOP = Hop.CLIENT_EGRESS


def _unknown(call: Call, by: tuple[ObjectRef, ...], why: str) -> HopResult:
    call.gaps.append(why)
    return HopResult(HOP, Decision.UNKNOWN, by, why, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(why,))


def after_policy(call: Call, client: Pod, peer: Peer, port: int, result: CiliumDecision) -> HopResult | CiliumDecision:
    """A hop result when toFQDNs or an egress gateway decides; else the (annotated) decision."""
    from kubectl_meshdoctor.diagnosis.hop_cilium import drop_note, drop_symptom  # (hop_cilium imports us)

    fqdn = cilium_fqdn.judge(call, client, peer, port, result)
    if fqdn.cause is not None:
        call.egress = fqdn.decision
        detail = fqdn.decision.detail + drop_note(call)
        return HopResult(
            HOP, Decision.BREAK, fqdn.decision.by, detail, drop_symptom(call, "egress"), Verdict.DENIED, (fqdn.cause,)
        )
    if fqdn.unsure:
        return _unknown(call, result.by, fqdn.unsure)
    result = fqdn.decision
    if result.decision is not Decision.ALLOW or result.unsure:
        return result
    exit_ = cilium_egress_gateway.exit_for(call, client, peer.ip, peer.dns_name or peer.ip or call.dst.label)
    if exit_ is None:
        return result
    if exit_.decision is Decision.UNKNOWN:
        return _unknown(call, result.by + exit_.by, f"{result.detail}; {exit_.detail}")
    if exit_.decision is Decision.BREAK:
        call.egress = result
        causes = (exit_.cause,) if exit_.cause is not None else ()
        detail = f"{result.detail}; {exit_.detail}" + drop_note(call)
        return HopResult(HOP, Decision.BREAK, result.by + exit_.by, detail, Symptom.TIMEOUT, Verdict.BROKEN, causes)
    return replace(result, by=result.by + exit_.by, detail=f"{result.detail}; {exit_.detail}")
