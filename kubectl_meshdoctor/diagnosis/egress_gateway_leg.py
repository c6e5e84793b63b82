"""Cilium on the legs of an Istio egress gateway (issue 20 §5; semantics-gateways.md E4, GB19): the
client's sidecar talks to the egress gateway pod (Istio mTLS on the pod's target port), and the gateway
pod opens the connection to the outside host. A Cilium policy that drops either leg is
`cilium-policy-denied` as anywhere else, said with the detail `egress-gateway-leg` and the leg it sits
on: the client's egress must admit the gateway pods on their target port (not the outside host), the
gateway pods' ingress must admit the client, and the gateway pods' egress must admit the outside host
(toFQDNs needs a DNS rule on the gateway pods' lookups too)."""

from __future__ import annotations

import dataclasses
import ipaddress

from kubectl_meshdoctor.diagnosis.fixes import edit_cmd, indent, to_yaml
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Cause, Hop, HopResult

DETAIL = "egress-gateway-leg"

_WHAT = {
    Hop.CLIENT_EGRESS: "on the leg {leg}: the client's egress policy must admit the egress gateway pods "
    "on their target port (the outside host is reached by the gateway, not by the client)",
    Hop.CILIUM_INGRESS: "on the leg {leg}: the egress gateway pods' ingress policy must admit the client",
}
_OUT = (
    "on the leg {leg}: the egress gateway pods open the connection out, so their egress policy must "
    "admit the outside host (toFQDNs with a DNS rule on their kube-dns egress, or toCIDRSet)"
)


def _mark(cause: Cause, text: str) -> Cause:
    summary = f"{DETAIL}: {text}; {catalog.summary(cause)}"
    return dataclasses.replace(cause, params={**cause.params, "detail": DETAIL}, detail=summary)


def on_gateway_leg(result: HopResult, leg: str, outbound: bool) -> HopResult:
    """``outbound``: the gateway pod → outside host leg (else the client → gateway pod leg)."""
    if not any(c.code == "cilium-policy-denied" for c in result.causes):
        return result
    template = _OUT if outbound else _WHAT.get(result.hop)
    if template is None:
        return result
    text = template.format(leg=leg)
    causes = tuple(_mark(c, text) if c.code == "cilium-policy-denied" else c for c in result.causes)
    return dataclasses.replace(result, causes=causes)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def outbound_fix(result: HopResult, host: str, port: int) -> HopResult:
    """The gateway pods' egress drop toward an outside name: the rule to add is a toFQDNs for that name
    on the leg's port, with the DNS rule that lets Cilium's DNS proxy see the gateway pods' lookups."""
    if not host or _is_ip(host):
        return result
    entry = [
        {"toFQDNs": [{"matchName": host}], "toPorts": [{"ports": [{"port": str(port), "protocol": "TCP"}]}]},
        {
            "toEndpoints": [
                {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}
            ],
            "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
        },
    ]
    causes = []
    for c in result.causes:
        hint = c.params.get("fix_hint", "")
        if c.code != "cilium-policy-denied" or not c.objects or "# allow the peer on" not in hint:
            causes.append(c)
            continue
        section = hint.rsplit(" under ", 1)[-1] if " under " in hint else "egress"
        fix = (
            f"{edit_cmd(c.objects[0])}   # add under {section} (the DNS rule only if no rule there gives the "
            f"gateway pods' lookups to Cilium's DNS proxy):\n{indent(to_yaml(entry), 2)}"
        )
        causes.append(dataclasses.replace(c, params={**c.params, "fix_hint": fix}))
    return dataclasses.replace(result, causes=tuple(causes))
