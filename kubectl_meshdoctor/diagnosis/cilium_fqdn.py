"""Cilium `toFQDNs` on a client's egress to an outside host (issue 20 §5; semantics.md A1.6,
semantics-gateways.md E3/GB20).

A toFQDNs rule allows the IPs Cilium's DNS proxy saw in DNS answers for a name the rule matches.
The proxy sees a lookup only when a DNS rule (`toPorts … rules.dns`) on the client's egress to
kube-dns puts it in the path (and the L7 proxy is enabled). So:

* a name the rule matches, lookups visible → allowed (the IPs become an fqdn identity);
* a name the rule matches, lookups not visible → the IPs stay `world`: dropped (POLICY_DENIED);
* an IP destination: which names answered with that IP is unknown, so a toFQDNs rule on the port
  makes the hop unknown unless another rule decides (an allow by CIDR/entity, a deny entry), or no
  lookup can be visible (then the IP is certainly never learned: the drop stands).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate, selecting_rules
from kubectl_meshdoctor.engines.cilium.identity import assumed_kube_dns
from kubectl_meshdoctor.engines.cilium.peers import fqdn_pattern_matches, matching_port_rules
from kubectl_meshdoctor.findings.types import Cause, Decision, ObjectRef
from kubectl_meshdoctor.model.objects import Peer, Pod, pod_peer, world_peer
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class FqdnVerdict:
    """What toFQDNs changes about an egress decision to an outside host."""

    decision: CiliumDecision  # the decision to use (possibly turned into a deny)
    cause: Cause | None = None  # set when the allow fails for lack of DNS visibility
    unsure: str = ""  # set when an IP destination may or may not be a learned one


def _fqdn_entries(call: Call, client: Pod, port: int, name: str | None) -> list[tuple[ObjectRef, tuple[str, ...]]]:
    """Allow entries with toFQDNs covering the port (and the name, when there is one)."""
    out: list[tuple[ObjectRef, tuple[str, ...]]] = []
    protocol = call.query.protocol
    for rule in selecting_rules(call.model, client):
        for entry in rule.egress:
            if not entry.fqdns or not matching_port_rules(entry, port, protocol, None):
                continue
            if name is not None and not any(fqdn_pattern_matches(p, name) for p in entry.fqdns):
                continue
            out.append((rule.policy.with_rule(f"{entry.path}.toFQDNs"), entry.fqdns))
    return out


def _cidr_entry(call: Call, client: Pod, port: int) -> ObjectRef | None:
    """An allow entry by CIDR on the port: it admits the host if its IPs fall inside."""
    for rule in selecting_rules(call.model, client):
        for entry in rule.egress:
            if entry.cidrs and matching_port_rules(entry, port, call.query.protocol, None):
                return rule.policy.with_rule(entry.path)
    return None


def _kube_dns_peer(m: Model) -> Peer:
    svc = m.services.get("kube-system/kube-dns")
    pods = (
        pods_for_service(m, svc)
        if svc
        else [p for p in m.pods_by_ns.get("kube-system", []) if p.labels.get("k8s-app") == "kube-dns"]
    )
    return pod_peer(pods[0], "kube-system/kube-dns") if pods else assumed_kube_dns(m)


def dns_visibility(m: Model, client: Pod) -> tuple[bool, str, tuple[ObjectRef, ...]]:
    """(visible, why, refs): do the client's lookups to kube-dns pass Cilium's DNS proxy?"""
    if not m.cilium_config.l7_proxy:
        return False, "enable-l7-proxy is false, so Cilium runs no DNS proxy", ()
    dns = evaluate(m, client, "egress", _kube_dns_peer(m), 53, "UDP")
    if dns.decision is Decision.ALLOW and dns.l7_kind == "dns" and dns.redirect:
        return True, f"{dns.redirect[0].key()} sends the lookups through Cilium's DNS proxy", dns.redirect[:1]
    why = "no egress rule of the client puts a DNS rule (toPorts … rules.dns) on its lookups to kube-dns port 53"
    return False, why, ()


def judge(call: Call, client: Pod, peer: Peer, port: int, result: CiliumDecision) -> FqdnVerdict:
    """Apply toFQDNs semantics to ``result`` (the engine's decision for an outside ``peer``)."""
    if result.audit or not result.enforced or call.model.cilium_config.enable_policy == "never":
        return FqdnVerdict(result)
    protocol = call.query.protocol
    if peer.dns_name:
        if result.decision is Decision.DENY and not result.explicit_deny and not peer.ip:
            cidr = _cidr_entry(call, client, port)  # a CIDR rule admits the name if it resolves inside
            if cidr is not None:
                unsure = (
                    f"{cidr.key()} allows {peer.dns_name} on {protocol}/{port} only if it resolves inside its CIDRs, "
                    "which is not known offline (no other rule allows it)"
                )
                return FqdnVerdict(result, unsure=unsure)
        if result.decision is not Decision.ALLOW or result.unsure:
            return FqdnVerdict(result)
        bare = evaluate(call.model, client, "egress", world_peer(peer.ip, None), port, protocol)
        if bare.decision is not Decision.DENY:
            return FqdnVerdict(result)  # another rule (CIDR, entity, L4-only) allows it without a name
        entries = _fqdn_entries(call, client, port, peer.dns_name)
        if not entries:
            return FqdnVerdict(result)
        visible, why, via = dns_visibility(call.model, client)
        if visible:
            detail = f"{result.detail} (toFQDNs: the IPs are learned from DNS answers; {why})"
            return FqdnVerdict(replace(result, detail=detail, by=result.by + via))
        cidr = _cidr_entry(call, client, port)
        if cidr is not None:
            unsure = (
                f"{entries[0][0].key()} allows {peer.dns_name} by name, but {why}, so toFQDNs learns no IP; "
                f"{cidr.key()} still allows it if {peer.dns_name} resolves inside its CIDRs, which is not known offline"
            )
            return FqdnVerdict(result, unsure=unsure)
        return _no_visibility(call, client, peer.dns_name, port, entries, why)
    if result.decision is not Decision.DENY or result.explicit_deny:
        return FqdnVerdict(result)
    entries = _fqdn_entries(call, client, port, None)
    if not entries:
        return FqdnVerdict(result)
    visible, why, _ = dns_visibility(call.model, client)
    names = ", ".join(p for _, patterns in entries for p in patterns)
    if not visible:
        detail = f"{result.detail}; toFQDNs {entries[0][0].key()} ({names}) learns no IP: {why}"
        return FqdnVerdict(replace(result, detail=detail))
    unsure = (
        f"{peer.ip} is allowed only if Cilium's DNS proxy saw it in an answer for a name toFQDNs "
        f"{entries[0][0].key()} allows ({names}); which names resolve to this IP is not known offline "
        "(call the host by name to decide)"
    )
    return FqdnVerdict(result, unsure=unsure)


def _no_visibility(
    call: Call, client: Pod, host: str, port: int, entries: list[tuple[ObjectRef, tuple[str, ...]]], why: str
) -> FqdnVerdict:
    ref = entries[0][0]
    detail = (
        f"{ref.key()} allows {host} by name only, but {why}: the IPs the client resolves are never learned, "
        f"so Cilium sees identity world and drops TCP/{port} (POLICY_DENIED)"
    )
    cause = no_visibility_cause(call.model, client.namespace, client.workload_name or client.name, host, ref, why)
    decision = CiliumDecision(Decision.DENY, (ref,), detail, True, selecting=(ref,))
    return FqdnVerdict(decision, Cause(cause.code, cause.objects, cause.params, detail=detail))


def no_visibility_cause(m: Model, namespace: str, client: str, host: str, ref: ObjectRef, why: str) -> Cause:
    """cilium-fqdn-no-dns-visibility for the toFQDNs entry ``ref`` (explain and check say it alike)."""
    fix = (
        f"{fixes.edit_cmd(ref)}   # add under the egress rules:\n{fixes.indent(fixes.dns_egress_yaml(), 2)}"
        if m.cilium_config.l7_proxy
        else "set enable-l7-proxy: true in the cilium-config ConfigMap and restart the agents"
    )
    params = {
        "policy_kind": ref.kind,
        "policy": f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name,
        "rule": ref.rule or "",
        "host": host,
        "why": why,
        "client": f"{namespace}/{client}",
        "fix_hint": fix,
    }
    return Cause("cilium-fqdn-no-dns-visibility", (ref,), params)
