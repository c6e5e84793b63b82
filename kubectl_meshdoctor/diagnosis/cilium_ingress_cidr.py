"""Client-IP rules written on a backend behind Cilium's Envoy (issue 20 §4; semantics-gateways.md C2,
GB14): Cilium's Envoy opens the upstream connection as the reserved identity `ingress` from the node's
ingress IP, so a backend's `fromCIDR` / `fromCIDRSet` rule meant for the outside clients of a Cilium
Ingress or Gateway never matches that traffic. Said beside the denial at the backend
(`cilium-ingress-client-ip-invisible`, a warning); the fix puts the CIDR rule on a policy selecting the
ingress endpoint and admits `ingress` at the backend."""

from __future__ import annotations

from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.engines.cilium.peers import matching_port_rules
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model


def client_ip_causes(model: Model, pod: Pod, port: int, entry: str) -> list[Cause]:
    """One cause per backend policy rule that admits clients by CIDR on the target port."""
    out: list[Cause] = []
    for rule in selecting_rules(model, pod):
        for peer in rule.ingress:
            if not peer.cidrs or peer.deny or not matching_port_rules(peer, port, "TCP", pod):
                continue
            ref = rule.policy.with_rule(peer.path)
            where = f"{rule.policy.namespace}/{rule.policy.name}" if rule.policy.namespace else rule.policy.name
            params = {
                "policy": f"{rule.policy.kind} {where}",
                "rule": peer.path,
                "server": f"{pod.namespace}/{pod.name}",
                "cidrs": ", ".join(c.cidr for c in peer.cidrs),
                "cidr": peer.cidrs[0].cidr,
                "entry": entry,
                "port": str(port),
            }
            out.append(Cause("cilium-ingress-client-ip-invisible", (ref,), params))
    return out
