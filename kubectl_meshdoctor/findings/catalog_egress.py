"""Cause codes of calls to hosts outside the cluster (issue 20 §5; semantics-gateways.md Part E, GB18-GB22):
Cilium toFQDNs and egress gateways, Istio egress gateways."""

from __future__ import annotations

from kubectl_meshdoctor.findings.cause_spec import CauseSpec, E, spec

SPECS: tuple[CauseSpec, ...] = (
    spec(
        "cilium-fqdn-no-dns-visibility",
        E,
        "{policy_kind} {policy} allows {host} only by toFQDNs ({rule}), but {why}: Cilium never learns the IPs "
        "{client} resolves, sees identity world and drops the connection (POLICY_DENIED)",
        "let Cilium's DNS proxy see the lookups: {fix_hint}",
        "semantics-gateways GB20; semantics A1.6",
    ),
)
