"""The first policy point of a north-south call (issue 20, semantics-gateways): the packets from the
outside client reach the gateway's proxy pod as identity `world`, so the Cilium and Kubernetes ingress
policies that select that pod decide them on the port the pod listens on, before any listener or
route is looked at. A policy that refuses `world` there drops the call (the client times out)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.fixes import edit_cmd
from kubectl_meshdoctor.diagnosis.inputs import hop_gaps, mark_unknown
from kubectl_meshdoctor.engines.cilium.decide import evaluate, selecting_rules
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.objects import Pod, world_peer
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model


def _pod_port(model: Model, pod: Pod, port: int) -> int:
    """The port the proxy pod receives a listener's traffic on: the gateway Service's targetPort for
    that port when it maps one (Istio's deployed gateways listen on the listener port itself)."""
    for svc in services_for(model, [pod]):
        for sp in svc.ports:
            if sp.port == port and isinstance(sp.target_port, int):
                return sp.target_port
    return port


def _address_rules(model: Model, pod: Pod) -> tuple[ObjectRef, ...]:
    """Ingress entries at the pod that admit peers by address (fromCIDR/fromCIDRSet, ipBlock): whether
    an outside client passes depends on its IP."""
    return tuple(
        rule.policy.with_rule(entry.path)
        for rule in selecting_rules(model, pod)
        for entry in rule.ingress
        if entry.cidrs
    )


def world_ingress_hop(model: Model, pods: list[Pod], port: int, gateway: str, client: str) -> HopResult | None:
    """Cilium/NetworkPolicy ingress at the gateway's proxy pod for the outside client; None when the
    gateway has no proxy pod in view (its legs already say so)."""
    if not pods:
        return None
    pod = pods[0]
    target = _pod_port(model, pod, port)
    peer = world_peer(client if client != "world" else None)
    result = evaluate(model, pod, "ingress", peer, target, "TCP")
    leg = f"world → gateway {gateway}"
    where = f"{pod.namespace}/{pod.name} (the gateway's proxy) on TCP/{target}"
    cidr_rules = _address_rules(model, pod) if peer.ip is None else ()
    if result.decision is Decision.DENY and cidr_rules and not result.explicit_deny:
        named = ", ".join(dict.fromkeys(r.key() for r in cidr_rules))
        why = (
            f"{where}: {result.detail}; but {named} admits outside clients by address, and the question names "
            "none: it depends on the client's IP (give it as SOURCE)"
        )
        hop = HopResult(Hop.CILIUM_INGRESS, Decision.UNKNOWN, result.by, why, Symptom.UNKNOWN, Verdict.UNKNOWN, leg=leg)
        return mark_unknown(hop, hop_gaps(Hop.CILIUM_INGRESS, model.gaps, pod.namespace, pod.namespace))
    if result.decision is Decision.DENY:
        policy = result.by[0] if result.by else ObjectRef("CiliumNetworkPolicy", None, "enable-policy=always")
        hint = (
            f"{edit_cmd(policy)}   # allow the outside clients (fromEntities: [world], or their CIDRs) "
            f"to TCP/{target} of the gateway's pods"
        )
        cause = Cause(
            "cilium-policy-denied",
            result.by,
            {
                "policy_kind": policy.kind,
                "policy": f"{policy.namespace}/{policy.name}" if policy.namespace else policy.name,
                "subject": f"{pod.namespace}/{pod.name} (gateway {gateway})",
                "direction": "ingress",
                "peer": peer.name,
                "port": f"TCP/{target}",
                "deny_note": " (an explicit deny rule matches)" if result.explicit_deny else "",
                "fix_hint": hint,
            },
        )
        hop = HopResult(
            Hop.CILIUM_INGRESS, Decision.BREAK, result.by, f"{where}: {result.detail}", Symptom.TIMEOUT,
            Verdict.DENIED, (cause,), leg=leg,
        )  # fmt: skip
    elif result.unsure:
        hop = HopResult(
            Hop.CILIUM_INGRESS, Decision.UNKNOWN, result.by, f"{where}: {result.unsure}", Symptom.UNKNOWN,
            Verdict.UNKNOWN, leg=leg,
        )  # fmt: skip
    else:
        hop = HopResult(Hop.CILIUM_INGRESS, Decision.ALLOW, result.by, f"{where}: {result.detail}", leg=leg)
    ns = pod.namespace
    return mark_unknown(hop, hop_gaps(Hop.CILIUM_INGRESS, model.gaps, ns, ns))
