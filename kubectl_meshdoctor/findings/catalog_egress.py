"""Cause codes of calls to hosts outside the cluster (issue 20 §5; semantics-gateways.md Part E, GB18-GB22):
Cilium toFQDNs and egress gateways, Istio egress gateways."""

from __future__ import annotations

from kubectl_meshdoctor.findings.cause_spec import CauseSpec, E, W, spec

SPECS: tuple[CauseSpec, ...] = (
    spec(
        "cilium-fqdn-no-dns-visibility",
        E,
        "{policy_kind} {policy} allows {host} only by toFQDNs ({rule}), but {why}: Cilium never learns the IPs "
        "{client} resolves, sees identity world and drops the connection (POLICY_DENIED)",
        "let Cilium's DNS proxy see the lookups: {fix_hint}",
        "semantics-gateways GB20; semantics A1.6",
    ),
    spec(
        "cilium-egress-gateway-unusable",
        E,
        "CiliumEgressGatewayPolicy {policy} selects {client} for {host} ({cidrs}), but {why}: Cilium drops the "
        "connection ({drop}) and the client times out",
        "make a node the gateway (kubectl label node NODE {label}) or point the policy's egressGateway.nodeSelector at "
        "an existing gateway node (kubectl edit ciliumegressgatewaypolicy {policy}); egress IP changes need the "
        "policy re-applied",
        "semantics-gateways GB21, E3",
    ),
    spec(
        "istio-egress-gateway-misrouted",
        E,
        "{host} is routed through egress gateway {gateway}, but the wiring is incomplete: {why}",
        "{fix_hint}",
        "semantics-gateways GB18, E1",
    ),
    spec(
        "cilium-egress-source-ip",
        W,
        "CiliumEgressGatewayPolicy {policy} selects {client} for {host}, but {why}: the outside server sees another "
        "source IP than {egress} (a firewall that allows only that IP refuses or drops the call)",
        "{fix_hint}",
        "semantics-gateways GB22, E4",
    ),
)
