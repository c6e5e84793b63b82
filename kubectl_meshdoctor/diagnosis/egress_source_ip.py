"""Which pod a CiliumEgressGatewayPolicy must select when an Istio egress gateway is in use (issue 20
§5; semantics-gateways.md E4, GB22): the connection to the outside host is opened by the egress gateway
pod, so a policy that selects the application pods does not apply to it; the outside server sees the
gateway pod's node (or the policy that selects the gateway pods), not the egress IP meant for the app.
A warning: the call works, from another source IP than the policy intends."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.cilium_egress_gateway import covers, feature_off, policy_selects
from kubectl_meshdoctor.findings.types import Cause, Severity
from kubectl_meshdoctor.model.egress_gateway import KIND
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model


def bypassed(model: Model, client: Pod, relay: Pod, host: str, ip: str | None) -> Cause | None:
    """A policy meant for ``client``'s traffic to ``host`` that the ``relay`` pod's connection escapes."""
    if feature_off(model) or client.host_network:
        return None
    policies = sorted(model.egress.policies, key=lambda p: p.ref.name)
    relay_ips = {
        g.egress_ip
        for p in policies
        if policy_selects(model, p, relay) is True and covers(p, ip) is True
        for g in p.gateways
        if g.egress_ip
    }
    for policy in policies:
        if policy_selects(model, policy, client) is not True or covers(policy, ip) is False:
            continue
        meant = {g.egress_ip for g in policy.gateways if g.egress_ip}
        if policy_selects(model, policy, relay) is True or (meant and meant <= relay_ips):
            continue  # the gateway pods leave through the same egress IP: as meant
        who = f"{client.namespace}/{client.workload_name or client.name}"
        gateway = f"{relay.namespace}/{relay.workload_name or relay.name}"
        ips = ", ".join(g.egress_ip for g in policy.gateways if g.egress_ip) or "its gateway's address"
        params = {
            "policy": policy.ref.name,
            "client": who,
            "host": host,
            "why": f"the connection to {host} is opened by Istio egress gateway {gateway}, which {KIND} "
            f"{policy.ref.name} does not select",
            "egress": ips,
            "fix_hint": f"select the egress gateway pods ({gateway}) in {KIND} {policy.ref.name} (podSelector "
            f"with their labels and io.kubernetes.pod.namespace: {relay.namespace}): "
            f"kubectl edit ciliumegressgatewaypolicy {policy.ref.name}",
        }
        return Cause(
            "cilium-egress-source-ip", (policy.ref.with_rule("spec.selectors"),), params, severity=Severity.WARNING
        )
    return None
