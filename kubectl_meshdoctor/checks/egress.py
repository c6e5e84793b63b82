"""Egress to outside hosts, mesh-wide (issue 20 §5/§6; semantics-gateways.md GB18, GB20, GB21): egress
gateway routes that never get their traffic out (the same gateway hop functions explain walks), toFQDNs
rules whose client's lookups Cilium's DNS proxy never sees, and CiliumEgressGatewayPolicies whose
gateway no node can serve."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis import routing_fixes
from kubectl_meshdoctor.diagnosis.cilium_egress_gateway import feature_off, policy_selects, states, unusable_cause
from kubectl_meshdoctor.diagnosis.cilium_fqdn import dns_visibility, no_visibility_cause
from kubectl_meshdoctor.diagnosis.egress_gateway_hop import GatewayExit, bind, no_route, route_target
from kubectl_meshdoctor.diagnosis.egress_mesh_route import mesh_legs_of, outside, qualified
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.findings.types import Cause, HopResult, ObjectRef
from kubectl_meshdoctor.model.view import Model


def _gateway_routes(model: Model) -> list[Cause]:
    out: list[Cause] = []
    for leg in mesh_legs_of(model):
        if not leg.pods:
            continue  # no gateway pod: no-endpoints says so
        bound = bind(model, leg.pods[0], leg)
        if isinstance(bound, HopResult):
            out += bound.causes
            continue
        g, _, vs = bound
        key = f"{g.ref.namespace}/{g.ref.name}"
        applying = [
            (r, next(m for m in r.matches if not m.gateways or key in m.gateways) if r.matches else None)
            for r in qualified(vs)
            if not r.matches or any(not m.gateways or key in m.gateways for m in r.matches)
        ]
        if not applying:
            out += no_route(leg, bound).causes
        for route, match in applying:
            ref = vs.ref.with_rule(match.path if match else route.path)
            out += route_target(model, leg, bound, route, ref, GatewayExit()).causes
    return out


def _fqdn(model: Model) -> list[Cause]:
    cfg = model.cilium_config
    if cfg.enable_policy == "never" or cfg.audit_mode:
        return []
    if not any(
        e.fqdns for rules in (model.cluster_rules, *model.rules_by_ns.values()) for r in rules for e in r.egress
    ):
        return []  # no rule a pod can be selected by has a toFQDNs entry
    out: list[Cause] = []
    for pod in sorted(model.pods.values(), key=lambda p: p.key()):
        if pod.host_network:
            continue
        entries = [
            (r.policy.with_rule(f"{e.path}.toFQDNs"), e.fqdns)
            for r in selecting_rules(model, pod)
            for e in r.egress
            if e.fqdns
        ]
        if not entries:
            continue
        visible, why, _ = dns_visibility(model, pod)
        if visible:
            continue
        name = pod.workload_name or pod.name
        out += [no_visibility_cause(model, pod.namespace, name, ", ".join(names), ref, why) for ref, names in entries]
    return out


def _cilium_gateways(model: Model) -> list[Cause]:
    if not model.egress.nodes_read or feature_off(model):
        return []
    out: list[Cause] = []
    for policy in model.egress.policies:
        found = states(model, policy)
        if not found or any(s.state != "unusable" for s in found):
            continue
        pods = [p for p in model.pods.values() if not p.host_network and policy_selects(model, policy, p) is True]
        if not pods:
            continue
        who = ", ".join(sorted(f"{p.namespace}/{p.workload_name or p.name}" for p in pods)[:3])
        refs = tuple(dict.fromkeys(r for s in found for r in s.refs))
        out.append(unusable_cause(policy, found[0], refs, who, "its destinationCIDRs"))
    return out


def _unregistered(model: Model) -> list[Cause]:
    """Outside hosts a mesh VirtualService routes that no ServiceEntry registers, where outbound traffic
    is REGISTRY_ONLY (mesh-wide, or a Sidecar's): those clients get 502 from BlackHoleCluster."""
    traffic = model.traffic
    scopes: list[tuple[str | None, ObjectRef | None, str]] = []
    if traffic.outbound_policy == "REGISTRY_ONLY":
        ref = traffic.outbound_ref.with_rule("data.mesh.outboundTrafficPolicy") if traffic.outbound_ref else None
        scopes.append((None, ref, "the mesh config"))
    for sc in traffic.sidecars:
        if sc.outbound_policy == "REGISTRY_ONLY":
            scopes.append((sc.ref.namespace or "default", sc.ref.with_rule("outboundTrafficPolicy"), "the Sidecar"))
    out: list[Cause] = []
    for vs in traffic.virtual_services:
        owner = vs.ref.namespace or "default"
        if vs.gateways and "mesh" not in vs.gateways:
            continue
        for host in (h for h in vs.hosts if outside(h)):
            for ns, ref, where in scopes:
                client_ns = ns or owner
                if not rt.visible(vs.export_to, owner, client_ns, "VirtualService", traffic.default_export):
                    continue
                if any(rt.service_entry_for(traffic, host, None, client_ns, hidden) for hidden in (False, True)):
                    continue
                why = (
                    f"outboundTrafficPolicy is REGISTRY_ONLY ({where}) and no ServiceEntry registers {host}, "
                    f"which {vs.ref.key()} routes"
                )
                fix = routing_fixes.registry_only_fix(host, None, 80, client_ns, True)
                refs = (ref,) if ref else ()
                out.append(Cause("istio-egress-registry-only", refs, {"why": why, "host": host, "fix_hint": fix}))
    return out


def _run(model: Model) -> list[Cause]:
    out: list[Cause] = []
    for cause in _gateway_routes(model) + _fqdn(model) + _cilium_gateways(model) + _unregistered(model):
        if all((cause.code, cause.objects) != (c.code, c.objects) for c in out):
            out.append(cause)
    return out


EGRESS = Check(
    "egress.OutsideHosts",
    "Egress to outside hosts: Istio egress gateway routes that never get out (Gateway server, bound "
    "VirtualService, ServiceEntry, TLS origination), toFQDNs rules whose lookups bypass Cilium's DNS proxy, "
    "CiliumEgressGatewayPolicies whose gateway no node serves",
    (
        "VirtualService",
        "Gateway",
        "ServiceEntry",
        "DestinationRule",
        "Service",
        "Pod",
        "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy",
        "CiliumEgressGatewayPolicy",
        "Node",
    ),
    _run,
)
