"""At the Istio egress gateway (issue 20 §5; semantics-gateways.md E1, GB18): the Gateway server that
listens on the port the sidecar sends to and accepts the host, the VirtualService bound to that Gateway
and its route to the outside host, the ServiceEntry that gives the gateway a cluster for it (resolution
DNS: with NONE the gateway sends the request back to itself), and the DestinationRule that originates
TLS when the route leaves on a TLS port.

Every missing piece is `istio-egress-gateway-misrouted`, with the symptom the client's sidecar reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.egress_mesh_route import MeshLeg, gateways_for, qualified
from kubectl_meshdoctor.diagnosis.gateway_binding import bound_vs_in, server_host_matches
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.istio import DestinationRule, TLSSetting
from kubectl_meshdoctor.model.istio_routes import HttpRoute
from kubectl_meshdoctor.model.istio_traffic import GatewayServer, IstioGateway, ServiceEntry, VirtualService
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model

HOP = Hop.GATEWAY
_TLS_PROTOCOLS = ("HTTPS", "TLS")


@dataclass(slots=True)
class GatewayExit:
    """What the gateway sends on: filled by the hop, read by the leg after it."""

    host: str = ""
    port: int = 0
    entry: ServiceEntry | None = None


def _misrouted(leg: MeshLeg, by: tuple[ObjectRef, ...], why: str, symptom: Symptom, fix: str) -> HopResult:
    gw = f"{leg.svc.namespace}/{leg.svc.name}"
    cause = Cause(
        "istio-egress-gateway-misrouted",
        by,
        {"host": leg.host, "gateway": gw, "why": why, "fix_hint": fix, "status": symptom.value},
        detail=why,
    )
    return HopResult(HOP, Decision.BREAK, by, why, symptom, Verdict.BROKEN, (cause,))


def dr_tls(model: Model, host: str, port: int, namespaces: list[str]) -> tuple[DestinationRule, TLSSetting] | None:
    """The DestinationRule TLS setting for an outside host and port, looked up from the gateway: its
    namespace, the ServiceEntry's, then the root namespace (A4); port-level settings win."""
    for ns in dict.fromkeys(namespaces):
        for dr in model.istio.dest_rules:
            if dr.ref.namespace != ns or dr.workload_selector or not rt.host_matches(dr.host, host):
                continue
            tls = dr.port_tls.get(port) or dr.tls
            if tls is not None:
                return dr, tls
    return None


Bound = tuple[IstioGateway, GatewayServer, VirtualService]


def bind(model: Model, pod: Pod, leg: MeshLeg) -> Bound | HopResult:
    """The Gateway server on the port the sidecar sends to that accepts the host, and the VirtualService
    bound to it for the host; the misroute when one is missing."""
    host = leg.host
    gw_label = f"egress gateway {leg.svc.namespace}/{leg.svc.name}"
    gateways = gateways_for(model, pod)
    servers = [(g, s) for g in gateways for s in g.servers if s.port == leg.port]
    if not servers:
        have = ", ".join(f"{g.ref.namespace}/{g.ref.name}" for g in gateways) or "none"
        why = (
            f"no Istio Gateway selecting the {gw_label} pods has a server on port {leg.port} (Gateways: {have}): "
            "nothing listens there, the client's sidecar answers 503 (UF)"
        )
        by = tuple(g.ref.with_rule("spec.servers") for g in gateways) or leg.by
        fix = (
            f"create a Gateway selecting the egress gateway pods ({_selector(pod.labels)}) with a server "
            f"{{port: {{number: {leg.port}, protocol: HTTP}}, hosts: [{host}]}}"
        )
        return _misrouted(leg, by, why, Symptom.HTTP_503, fix)
    accepting = [(g, s) for g, s in servers if any(server_host_matches(h, host) for h in s.hosts)]
    if not accepting:
        g, s = servers[0]
        why = f"Gateway {g.ref.namespace}/{g.ref.name} {s.path} on port {leg.port} does not accept host {host} → 404 NR"
        fix = f"add {host} to {s.path}.hosts: kubectl -n {g.ref.namespace} edit gateway {g.ref.name}"
        return _misrouted(leg, (g.ref.with_rule(f"{s.path}.hosts"),), why, Symptom.HTTP_404, fix)
    bound = [(g, s, vs) for g, s in accepting if (vs := bound_vs_in(model, g, s, host)) is not None]
    if bound:
        return bound[0]
    g, s = accepting[0]
    key = f"{g.ref.namespace}/{g.ref.name}"
    why = (
        f"Gateway {key} {s.path} accepts {host}, but no VirtualService bound to it (gateways: [{key}]) "
        "routes it → 404 NR"
    )
    name = g.ref.name if leg.vs.ref.namespace == g.ref.namespace else key
    fix = (
        f"bind the VirtualService for {host} to the gateway too (gateways: [{name}, mesh]) with an http route "
        f"matching gateways: [{name}] whose destination is {{host: {host}}}: kubectl -n "
        f"{leg.vs.ref.namespace} edit virtualservice {leg.vs.ref.name}"
    )
    return _misrouted(leg, (g.ref.with_rule(s.path), leg.vs.ref.with_rule("spec.gateways")), why, Symptom.HTTP_404, fix)


def no_route(leg: MeshLeg, bound: Bound) -> HopResult:
    g, _, vs = bound
    key = f"{g.ref.namespace}/{g.ref.name}"
    why = f"{vs.ref.key()} is bound to Gateway {key}, but none of its http routes matches there → 404 NR"
    fix = f"give {vs.ref.key()} an http route matching gateways: [{g.ref.name}] (port {leg.port})"
    return _misrouted(leg, (vs.ref.with_rule("http"),), why, Symptom.HTTP_404, fix)


def gateway_hop(call: Call, leg: MeshLeg, out: GatewayExit) -> HopResult:
    """``call`` is the client → gateway Service leg (its server is the gateway pod)."""
    pod = call.server or (leg.pods[0] if leg.pods else None)
    if pod is None:
        return HopResult(HOP, Decision.SKIP, (), f"egress gateway {leg.svc.namespace}/{leg.svc.name} has no pod")
    bound = bind(call.model, pod, leg)
    if isinstance(bound, HopResult):
        return bound
    g, _, vs = bound
    key = f"{g.ref.namespace}/{g.ref.name}"
    q = call.query
    req = rt.RouteRequest(q.method, q.path, call.request.headers, leg.port, pod.labels, pod.namespace, key)
    matched = rt.match_route(qualified(vs), req)
    if matched is None:
        return no_route(leg, bound)
    route, match = matched
    return route_target(call.model, leg, bound, route, vs.ref.with_rule(match.path if match else route.path), out)


def route_target(
    model: Model, leg: MeshLeg, bound: Bound, route: HttpRoute, route_ref: ObjectRef, out: GatewayExit
) -> HopResult:
    """Where the gateway's matched route sends the host, and whether it can get there."""
    g, s, vs = bound
    host, key = leg.host, f"{g.ref.namespace}/{g.ref.name}"
    dests = [d for d in route.destinations if d.weight > 0]
    owner = vs.ref.namespace or "default"
    if len(dests) != 1:
        why = f"{route_ref.key()} has {len(dests)} weighted destinations at the gateway: not modelled"
        return HopResult(HOP, Decision.UNKNOWN, (route_ref,), why, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(why,))
    dest = dests[0]
    target = rt.fqdn(dest.host, owner)
    lead = f"Gateway {key} {s.path} accepts {host}:{leg.port}; {route_ref.key()} sends it to {target}"
    if target == rt.service_host(leg.svc):
        why = f"{lead}, the egress gateway itself: the request loops"
        fix = f"route the gateway's match of {vs.ref.key()} to {host}, not to the gateway Service"
        return _misrouted(leg, (route_ref,), why, Symptom.HTTP_503, fix)
    if target.endswith("." + rt.DOMAIN):
        why = f"{lead}, an in-cluster Service: that leg is not evaluated"
        return HopResult(HOP, Decision.UNKNOWN, (route_ref,), why, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(why,))
    return _to_outside(model, leg, out, lead, (g.ref.with_rule(s.path), route_ref), target, dest.port or leg.port)


def _to_outside(
    m: Model, leg: MeshLeg, out: GatewayExit, lead: str, by: tuple[ObjectRef, ...], target: str, port: int
) -> HopResult:
    gw_ns = leg.svc.namespace
    entry = rt.service_entry_for(m.traffic, target, None, gw_ns)
    if entry is None:
        hidden = rt.service_entry_for(m.traffic, target, None, gw_ns, hidden=True)
        seen = f" ({hidden.ref.key()} exists but exportTo hides it from {gw_ns})" if hidden else ""
        why = (
            f"{lead}, but no ServiceEntry visible in {gw_ns} registers {target}{seen}: the gateway has no cluster "
            "for it → 503"
        )
        fix = (
            f"create a ServiceEntry {{hosts: [{target}], ports: [{{number: {port}, protocol: "
            f"{'HTTPS' if port == 443 else 'HTTP'}}}], resolution: DNS, location: MESH_EXTERNAL}} exported to {gw_ns}"
        )
        return _misrouted(
            leg, by + ((hidden.ref.with_rule("spec.exportTo"),) if hidden else ()), why, Symptom.HTTP_503, fix
        )
    by = (*by, entry.ref)
    if entry.resolution == "NONE":
        why = (
            f"{lead}; {entry.ref.key()} has resolution NONE, so the gateway forwards to the original destination "
            "address, which is the gateway itself: the request loops"
        )
        fix = f"set resolution: DNS: kubectl -n {entry.ref.namespace} edit serviceentry {entry.ref.name}"
        return _misrouted(leg, (*by[:-1], entry.ref.with_rule("spec.resolution")), why, Symptom.HTTP_503, fix)
    if entry.ports and port not in entry.ports:
        listed = ", ".join(str(p) for p in entry.ports)
        why = f"{lead}:{port}, but {entry.ref.key()} declares ports [{listed}] only: the gateway has no cluster → 503"
        fix = f"add port {port} to {entry.ref.key()}, or route to a declared port"
        return _misrouted(leg, (*by[:-1], entry.ref.with_rule("spec.ports")), why, Symptom.HTTP_503, fix)
    root = m.istio.mesh.root_namespace
    tls = dr_tls(m, target, port, [gw_ns, entry.ref.namespace or gw_ns, root])
    originates = tls is not None and tls[1].mode in ("SIMPLE", "MUTUAL")
    declared = entry.port_protocols.get(port, "")
    out.host, out.port, out.entry = target, port, entry
    if originates:
        assert tls is not None
        note = f"; {tls[0].ref.key()} {tls[1].path} mode {tls[1].mode}: the gateway originates TLS to {target}:{port}"
        return HopResult(HOP, Decision.ALLOW, (*by, tls[0].ref.with_rule(tls[1].path)), f"{lead}:{port}{note}")
    if declared in _TLS_PROTOCOLS:
        why = (
            f"{lead}:{port}, which {entry.ref.key()} declares {declared}, but no DestinationRule originates TLS "
            f"(tls.mode SIMPLE) for it: the gateway sends plain HTTP to a TLS port (typically answered 400 or reset)"
        )
        fix = (
            f"create a DestinationRule {{host: {target}, trafficPolicy: {{portLevelSettings: "
            f"[{{port: {{number: {port}}}, tls: {{mode: SIMPLE, sni: {target}}}}}]}}}} in {gw_ns}"
        )
        return _misrouted(leg, by, why, Symptom.HTTP_400, fix)
    return HopResult(HOP, Decision.ALLOW, by, f"{lead}:{port} ({entry.ref.key()}, resolution {entry.resolution})")


def _selector(labels: dict[str, str] | object) -> str:
    if isinstance(labels, dict) and "istio" in labels:
        return f"istio: {labels['istio']}"
    return "its labels"
