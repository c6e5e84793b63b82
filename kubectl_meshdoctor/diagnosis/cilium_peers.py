"""Cilium hop helpers for who the peer really is and which port the rule means (issue 11 items 5, 8).

Kept beside hops.py: a host-network peer seen as `host` / `remote-node` (unknown node -> unknown
hop), and `port-mismatch` when a rule was written on the Service port (B17.1).
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate
from kubectl_meshdoctor.engines.cilium.identity import PeerView
from kubectl_meshdoctor.engines.cilium.ports import rules_on_service_port
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.objects import Peer, Pod


def service_port_causes(
    call: Call, result: CiliumDecision, subject: Pod, direction: str, peer: Peer
) -> tuple[Cause, ...]:
    """B17.1: the deny happens because a rule was written on the Service port, not the targetPort."""
    sp, target = call.svc_port, call.target_port
    if result.explicit_deny or sp is None or target is None or call.wire_port != target or call.svc is None:
        return ()
    found = rules_on_service_port(call.model, subject, direction, peer, sp, target, call.query.protocol)
    if not found:
        return ()
    svc = call.svc
    named = f" (or its name {sp.target_port!r})" if isinstance(sp.target_port, str) else ""
    pod_name = next((p.name for p in (call.server.ports if call.server else ()) if p.port == target and p.name), None)
    if pod_name and not named:
        named = f" (or the pod's port name {pod_name!r})"
    first = found[0]
    what = (
        f"names port {first.written!r}, the Service port's name, which the pod does not declare"
        if not first.written.replace("-", "").isdigit()
        else f"allows port {first.written}, which covers the Service port"
    )
    why = (
        f"{first.ref.key()} {what}: Service "
        f"{svc.namespace}/{svc.name} maps port {sp.port}{f' ({sp.name})' if sp.name else ''} to targetPort "
        f"{target}, and Cilium evaluates policy after service translation, on {target}"
    )
    hint = f"{fixes.edit_cmd(first.ref)}   # in {first.ref.rule}: use port {target}{named} instead of {first.written}"
    refs = (*dict.fromkeys(f.ref for f in found), svc.ref())
    return (Cause("port-mismatch", refs, {"why": why, "fix_hint": hint}),)


def evaluate_view(call: Call, subject: Pod, direction: str, view: PeerView) -> tuple[CiliumDecision, HopResult | None]:
    """Item 8: a host-network peer is `host` or `remote-node`; an unknown node that changes the verdict is unknown."""
    port, proto = call.wire_port, call.query.protocol
    results = [evaluate(call.model, subject, direction, p, port, proto) for p in view.peers]
    first = results[0]
    if view.note:
        first = replace(first, detail=f"{first.detail} ({view.note})")
    if len({r.decision for r in results}) == 1:
        return first, None
    hop = Hop.CILIUM_INGRESS if direction == "ingress" else Hop.CLIENT_EGRESS
    detail = f"{view.note}: same node → {results[0].detail}; other node → {results[1].detail}"
    by = tuple(dict.fromkeys(results[0].by + results[1].by))
    return first, HopResult(hop, Decision.UNKNOWN, by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)


def host_network_hint(call: Call, policy: ObjectRef, direction: str, port: int, peer_name: str) -> str:
    """Item 8: pod selectors never name a host-network peer; the fix allows its node identity."""
    if policy.kind != "NetworkPolicy":
        nodes = (call.client.node, call.server.node if call.server else None)
        entity = "host, remote-node" if None in nodes else ("host" if nodes[0] == nodes[1] else "remote-node")
        hint = (
            f"{fixes.edit_cmd(policy)}   # {peer_name} uses the host network, so pod selectors never match it; "
            f"add under {direction}:\n    - {'fromEntities' if direction == 'ingress' else 'toEntities'}: "
            f'[{entity}]\n      toPorts: [{{ports: [{{port: "{port}", protocol: {call.query.protocol}}}]}}]'
        )
    else:
        hint = (
            f"{fixes.edit_cmd(policy)}   # {peer_name} uses the host network: a NetworkPolicy peer selector never "
            "matches it under Cilium; allow its node with a CiliumNetworkPolicy fromEntities: [host, remote-node]"
        )
    return hint
