"""The client sidecar's route for an outside host (issue 20 §5; semantics-gateways.md E1, GB18): a
VirtualService bound to `mesh` for the host that sends it to an Istio egress gateway Service (the first
half of the classic two-route pattern). The gateway side is egress_gateway_hop.py; the walk is laid out
by egress_legs.py.

Only what is evaluated is claimed: a route that splits between the gateway and elsewhere, or sends the
host to another in-cluster Service, is unknown with the gap named.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, Mesh, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.istio_routes import HttpRoute, RouteDestination
from kubectl_meshdoctor.model.istio_traffic import IstioGateway, VirtualService
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model

HOP = Hop.CLIENT_ROUTE


@dataclass(frozen=True, slots=True)
class MeshLeg:
    """The mesh route that sends the outside host to an egress gateway Service."""

    vs: VirtualService
    route: HttpRoute
    by: tuple[ObjectRef, ...]
    dest: RouteDestination
    svc: Service  # the egress gateway's Service
    pods: tuple[Pod, ...]  # its pods
    port: int  # the Service port the sidecar sends to
    host: str  # the outside host


@dataclass(frozen=True, slots=True)
class DirectLeg:
    """A mesh route that keeps the outside host: the sidecar connects out itself, maybe to another port
    (TLS origination: the app calls 80, the route sends to 443 and a DestinationRule says SIMPLE)."""

    vs: VirtualService
    route: HttpRoute
    by: tuple[ObjectRef, ...]
    port: int  # the port the sidecar connects to
    host: str


def qualified(vs: VirtualService) -> tuple[HttpRoute, ...]:
    """The VS's routes with `match[].gateways` written `ns/name` (as a gateway key), `mesh` kept."""
    ns = vs.ref.namespace or "default"
    out = []
    for route in vs.http:
        matches = tuple(replace(m, gateways=tuple(rt.fqdn_gw(g, ns) for g in m.gateways)) for m in route.matches)
        out.append(replace(route, matches=matches))
    return tuple(out)


def gateways_for(model: Model, pod: Pod) -> list[IstioGateway]:
    """Istio Gateways whose selector picks this pod (any namespace: Istio's default scope)."""
    return [
        g for g in model.traffic.gateways if g.selector and all(pod.labels.get(k) == v for k, v in g.selector.items())
    ]


def _is_gateway_source(model: Model, pod: Pod) -> bool:
    names = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")
    return bool(gateways_for(model, pod)) or any(k in pod.labels for k in names)


def _is_gateway(model: Model, pods: list[Pod]) -> bool:
    return any(p.labels.get("istio") == "egressgateway" or gateways_for(model, p) for p in pods)


def _unknown(why: str, by: tuple[ObjectRef, ...]) -> HopResult:
    return HopResult(HOP, Decision.UNKNOWN, by, why, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(why,))


def mesh_leg(call: Call) -> MeshLeg | DirectLeg | HopResult | None:
    """The route to an egress gateway; a hop result when the route decides otherwise (no route
    matches, or a shape not modelled); None when no VirtualService for the host applies."""
    host = call.dst.dns_name
    if call.dst.kind != "External" or not host or call.client_mesh is not Mesh.SIDECAR:
        return None
    m = call.model
    if call.query.host and _is_gateway_source(m, call.client):
        return None  # a gateway pod as SOURCE with --host routes by its Gateway binding (gateway_hop.py)
    found = rt.find_virtual_service(m.traffic, host, {host}, call.client.namespace)
    if found is None:
        return None
    vs, _ = found
    ns = vs.ref.namespace or "default"
    if not call.http:
        why = f"{vs.ref.key()} routes {host}; its TCP/TLS routes for an outside host are not evaluated"
        return _unknown(why, (vs.ref,)) if not vs.http or vs.tcp_destinations else None
    if not vs.http:
        return None  # tcp/tls routes only: HTTP requests are not routed by it (as for in-cluster hosts)
    q = call.query
    req = rt.RouteRequest(q.method, q.path, call.request.headers, call.port, call.client.labels, call.client.namespace)
    matched = rt.match_route(qualified(vs), req)
    if matched is None:
        cause = Cause(
            "istio-route-no-match",
            (vs.ref.with_rule("http"),),
            {"vs": f"{ns}/{vs.ref.name}", "host": host, "routes": f"{len(vs.http)} route(s)", "method": q.method}
            | {"path": q.path, "ns": ns, "name": vs.ref.name},
        )
        detail = f"sidecar: {vs.ref.key()} (host {host}): no http route for mesh matches {q.method} {q.path} → 404 NR"
        return HopResult(HOP, Decision.BREAK, cause.objects, detail, Symptom.HTTP_404, Verdict.BROKEN, (cause,))
    route, match = matched
    by = (vs.ref.with_rule(match.path if match else route.path),)
    dests = [d for d in route.destinations if d.weight > 0]
    services = [(d, _service(m, rt.fqdn(d.host, ns))) for d in dests]
    to_gateway = [(d, s) for d, s in services if s is not None and _is_gateway(m, pods_for_service(m, s))]
    if not to_gateway:
        hosts = {rt.fqdn(d.host, ns) for d in dests}
        if hosts <= {host}:  # the route keeps the host (faults, timeouts, a port): the sidecar connects out itself
            ports = {d.port for d in dests if d.port is not None}
            if len(ports) > 1:
                return _unknown(f"{by[0].key()} splits {host} over ports {sorted(ports)}: not modelled", by)
            return DirectLeg(vs, route, by, ports.pop() if ports else call.port, host)
        why = f"{by[0].key()} sends {host} to {', '.join(sorted(hosts))}, which is not an egress gateway: not modelled"
        return _unknown(why, by)
    if len(dests) > 1:
        why = f"{by[0].key()} splits {host} between an egress gateway and other destinations: not modelled"
        return _unknown(why, by)
    dest, svc = to_gateway[0]
    assert svc is not None
    port = dest.port or (svc.ports[0].port if len(svc.ports) == 1 else call.port)
    return MeshLeg(vs, route, by, dest, svc, tuple(pods_for_service(m, svc)), port, host)


def outside(host: str) -> bool:
    """A host outside the cluster (not a Service name, no wildcard)."""
    return "." in host and "*" not in host and not host.endswith(rt.DOMAIN) and not host.endswith(".svc")


def _for_mesh(route: HttpRoute) -> bool:
    return not route.matches or any(not m.gateways or "mesh" in m.gateways for m in route.matches)


def mesh_legs_of(model: Model) -> list[MeshLeg]:
    """Every mesh route of a VirtualService that sends an outside host to an egress gateway (`check`)."""
    out: list[MeshLeg] = []
    for vs in model.traffic.virtual_services:
        if vs.gateways and "mesh" not in vs.gateways:
            continue
        ns = vs.ref.namespace or "default"
        for route in (r for r in qualified(vs) if _for_mesh(r)):
            dests = [d for d in route.destinations if d.weight > 0]
            for dest in dests if len(dests) == 1 else ():
                svc = _service(model, rt.fqdn(dest.host, ns))
                pods = pods_for_service(model, svc) if svc is not None else []
                port = dest.port or (svc.ports[0].port if svc is not None and len(svc.ports) == 1 else None)
                if svc is None or port is None or not _is_gateway(model, pods):
                    continue
                by = (vs.ref.with_rule(route.path),)
                out += [MeshLeg(vs, route, by, dest, svc, tuple(pods), port, h) for h in vs.hosts if outside(h)]
    return out


def _service(model: Model, fqdn: str) -> Service | None:
    parts = fqdn.split(".")
    if fqdn.endswith("." + rt.DOMAIN) and len(parts) == 5:
        return model.services.get(f"{parts[1]}/{parts[0]}")
    return None
