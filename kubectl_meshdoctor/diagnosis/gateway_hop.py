"""Ingress gateways as SOURCE (`explain istio-system/istio-ingressgateway blue/httpbin --host NAME`):
Gateway -> VirtualService / HTTPRoute -> destination (issue 7 §4).

Istio Gateway: servers whose selector matches the gateway pod and whose hosts accept NAME, then the
VirtualService bound to that Gateway. Gateway API: the Gateway named by the pod's
`gateway.networking.k8s.io/gateway-name` label, a listener for NAME, and an HTTPRoute attached to it
that the listener's allowedRoutes admits.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.gateway_binding import (
    bound_vs,
    mesh_only_vs,
    selector_no_match,
    server_host_matches,
)
from kubectl_meshdoctor.diagnosis.routing_hop import HOP, _break, _route
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import ALL_KINDS, Cause, Gap, HopResult, ObjectRef, Symptom
from kubectl_meshdoctor.model.istio_routes import RouteDestination
from kubectl_meshdoctor.model.istio_traffic import (
    IstioGateway,
    KubeGateway,
    KubeHTTPRoute,
    VirtualService,
)

GATEWAY_NAME_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")


def _istio_gateways(call: Call) -> list[IstioGateway]:
    labels = call.client.labels
    return [
        g for g in call.model.traffic.gateways if g.selector and all(labels.get(k) == v for k, v in g.selector.items())
    ]


def _kube_gateway(call: Call) -> KubeGateway | None:
    name = next((call.client.labels[k] for k in GATEWAY_NAME_LABELS if k in call.client.labels), None)
    if name is None:
        return None
    ns = call.client.namespace
    return next((g for g in call.model.traffic.kube_gateways if g.ref.name == name and g.ref.namespace == ns), None)


_BIND_HINT = (
    "add the host to a Gateway server that selects the gateway pods (spec.servers[].hosts), or a Gateway API "
    "listener hostname, then bind a VirtualService/HTTPRoute to it"
)


def _not_bound(call: Call, host: str, gateways: list[ObjectRef], why: str, hint: str = _BIND_HINT) -> HopResult:
    orphan = selector_no_match(call, host)
    if orphan is not None:
        return orphan
    cause = Cause(
        "istio-gateway-host-not-bound",
        tuple(gateways),
        {"gateway": call.src.label, "host": host, "why": why, "fix_hint": hint},
    )
    return _break(tuple(gateways), f"gateway {call.src.label}: {why}", Symptom.HTTP_404, cause)


def gateway_route_hop(call: Call) -> HopResult | None:
    """None when this call does not start at a gateway (or no --host was given)."""
    host = call.query.host
    if not host:
        return None
    kube = _kube_gateway(call)
    if kube is not None:
        return _via_kube(call, kube, host)
    gateways = _istio_gateways(call)
    if not gateways:
        why = f"no Istio Gateway selects its pods and it carries no {GATEWAY_NAME_LABELS[0]} label"
        return _not_bound(call, host, [call.client.ref()], why)
    bound = [(g, s) for g in gateways for s in g.servers if any(server_host_matches(h, host) for h in s.hosts)]
    if not bound:
        names = ", ".join(f"{g.ref.namespace}/{g.ref.name}" for g in gateways)
        return _not_bound(
            call,
            host,
            [g.ref.with_rule("spec.servers") for g in gateways],
            f"no server of Gateway {names} accepts host {host}",
        )
    for gw, server in bound:
        key = f"{gw.ref.namespace}/{gw.ref.name}"
        vs = bound_vs(call, gw, server, host)
        if vs is not None:
            return _match(call, vs, gw.ref.with_rule(server.path), host, key)
    gw, server = bound[0]
    key = f"{gw.ref.namespace}/{gw.ref.name}"
    unbound = mesh_only_vs(call, host, key, gw, server)
    if unbound is not None:
        return unbound
    cause = Cause(
        "istio-route-no-match",
        (gw.ref.with_rule(server.path),),
        {
            "vs": f"(none bound to Gateway {key})",
            "host": host,
            "routes": "none",
            "method": call.query.method,
            "path": call.query.path,
            "ns": gw.ref.namespace or "",
            "name": gw.ref.name,
        },
    )
    detail = (
        f"Gateway {key} {server.path} accepts {host}, but no VirtualService lists gateways: [{key}] for it → 404 NR"
    )
    return _break((gw.ref.with_rule(server.path),), detail, Symptom.HTTP_404, cause)


def _match(call: Call, vs: VirtualService, via: ObjectRef, host: str, gateway: str) -> HopResult:
    q = call.query
    req = rt.RouteRequest(
        q.method, q.path, call.request.headers, call.port, call.client.labels, call.client.namespace, gateway
    )
    matched = rt.match_route(vs.http, req)
    if matched is None:
        cause = Cause(
            "istio-route-no-match",
            (vs.ref.with_rule("http"),),
            {
                "vs": f"{vs.ref.namespace}/{vs.ref.name}",
                "host": host,
                "routes": f"{len(vs.http)} route(s)",
                "method": q.method,
                "path": q.path,
                "ns": vs.ref.namespace or "",
                "name": vs.ref.name,
            },
        )
        return _break(
            (vs.ref.with_rule("http"),),
            f"{vs.ref.key()}: no route matches {q.method} {q.path} → 404 NR",
            Symptom.HTTP_404,
            cause,
        )
    route, match = matched
    by = (via, vs.ref.with_rule(match.path if match else route.path))
    lead = f"{gateway} → {vs.ref.key()} {by[1].rule} matches {q.method} {host}{q.path}"
    result = _route(call, vs, route, by, lead)
    return _check_target(call, result, route.destinations, vs.ref.namespace or "default")


def _check_target(call: Call, result: HopResult, destinations: tuple[RouteDestination, ...], owner: str) -> HopResult:
    """A short destination host is the Service of that name in the route's own namespace."""
    if call.svc is None:
        return result
    wanted = rt.service_host(call.svc)
    hosts = {rt.fqdn(d.host, owner) for d in destinations}
    if hosts and wanted not in hosts:
        call.gaps.append(  # the later hops would judge a server the route does not send to
            Gap(
                f"the matched route sends to {', '.join(sorted(hosts))}, not to {wanted}; later hops "
                f"are checked for {wanted} as asked",
                {ALL_KINDS},
            )
        )
    return result


def _via_kube(call: Call, gw: KubeGateway, host: str) -> HopResult:
    listeners = [x for x in gw.listeners if x.hostname is None or rt.host_matches(x.hostname, host)]
    if not listeners:
        return _not_bound(
            call,
            host,
            [gw.ref.with_rule("spec.listeners")],
            f"no listener of Gateway {gw.ref.namespace}/{gw.ref.name} has hostname {host}",
        )
    gw_ns = gw.ref.namespace or "default"
    attached = [
        r
        for r in call.model.traffic.http_routes
        if any(p[0] == gw_ns and p[1] == gw.ref.name for p in r.parents)
        and (not r.hostnames or any(rt.host_matches(h, host) for h in r.hostnames))
    ]
    allowed = [r for r in attached if _admitted(r, listeners, gw_ns)]
    if attached and not allowed:
        route = attached[0]
        cause = Cause(
            "istio-gateway-route-not-allowed",
            (route.ref, gw.ref.with_rule(f"{listeners[0].path}.allowedRoutes")),
            {
                "route": f"{route.ref.namespace}/{route.ref.name}",
                "gateway": f"{gw_ns}/{gw.ref.name}",
                "from": listeners[0].allowed_from,
            },
        )
        detail = (
            f"HTTPRoute {route.ref.namespace}/{route.ref.name} attaches to Gateway {gw_ns}/{gw.ref.name}, "
            f"but its listener admits routes from {listeners[0].allowed_from} namespaces only → 404"
        )
        return _break(cause.objects, detail, Symptom.HTTP_404, cause)
    if not allowed:
        cause = Cause(
            "istio-route-no-match",
            (gw.ref,),
            {
                "vs": f"(no HTTPRoute attached to Gateway {gw_ns}/{gw.ref.name})",
                "host": host,
                "routes": "none",
                "method": call.query.method,
                "path": call.query.path,
                "ns": gw_ns,
                "name": gw.ref.name,
            },
        )
        return _break(
            (gw.ref,),
            f"no HTTPRoute for {host} is attached to Gateway {gw_ns}/{gw.ref.name} → 404",
            Symptom.HTTP_404,
            cause,
        )
    route = allowed[0]
    vs = VirtualService(route.ref, route.hostnames, (f"{gw_ns}/{gw.ref.name}",), ("*",), route.rules)
    return _match(call, vs, gw.ref.with_rule(listeners[0].path), host, f"{gw_ns}/{gw.ref.name}")


def _admitted(route: KubeHTTPRoute, listeners: list, gw_ns: str) -> bool:  # type: ignore[type-arg]
    for x in listeners:
        if x.allowed_from == "All" or (x.allowed_from == "Same" and route.ref.namespace == gw_ns):
            return True
        if x.allowed_from == "Selector":
            return True  # namespace label selectors are not evaluated [uncertain]
    return False


__all__ = ["HOP", "gateway_route_hop"]
