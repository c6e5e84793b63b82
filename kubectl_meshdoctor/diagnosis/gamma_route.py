"""GAMMA: HTTPRoutes attached to a Service (semantics-gateways.md M1-M4, GB4, GB9; issue 20 §3), for a
mesh client's call to that Service. Istio applies them in the client's proxy (sidecar) or in the
Service's waypoint (ambient): routes in the client's namespace (consumer) win over those in the
Service's namespace (producer); once a route is attached, a request no rule matches gets 404. An
ambient client without a waypoint gets no routing at all (the route has no effect). A client outside
the Istio mesh: Istio does not route it; Cilium's GAMMA (producer routes, Service frontend) is not
evaluated. A VirtualService for the same host next to a GAMMA route: which one a proxy uses is not
evaluated (GB8). Returns None when no GAMMA route is attached to the destination Service."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.gateway_api_causes import backend_cause, no_backend_cause, redirect_cause
from kubectl_meshdoctor.diagnosis.routing_hop import HOP, _break
from kubectl_meshdoctor.engines import gateway_api_match as gm
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.gateway_api_attach import Attachment
from kubectl_meshdoctor.engines.gateway_api_backends import outcome
from kubectl_meshdoctor.findings.types import ALL_KINDS, Cause, Decision, Gap, HopResult, Mesh, Symptom, Verdict
from kubectl_meshdoctor.model.gateway_api import ApiRoute
from kubectl_meshdoctor.model.objects import Service


def attached_routes(call: Call, svc: Service) -> list[ApiRoute]:
    """HTTPRoutes whose parentRefs name this Service (group "", kind Service; port when given)."""
    out = []
    for r in call.model.gateway_api.routes:
        if r.ref.kind != "HTTPRoute":
            continue
        for p in r.parents:
            named = p.group == "" and p.kind == "Service" and (p.namespace, p.name) == (svc.namespace, svc.name)
            if named and (p.port is None or p.port == call.port):
                out.append(r)
                break
    return out


def _names(r: ApiRoute, svc: Service) -> bool:
    return any(p.kind == "Service" and (p.namespace, p.name) == (svc.namespace, svc.name) for p in r.parents)


def _unknown(detail: str) -> HopResult:
    return HopResult(HOP, Decision.UNKNOWN, (), detail, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(detail,))


def gamma_route_hop(call: Call) -> HopResult | None:
    svc = call.svc
    if svc is None or not call.http:
        return None
    routes = attached_routes(call, svc)
    grpc = [r for r in call.model.gateway_api.routes if r.ref.kind == "GRPCRoute" and _names(r, svc)]
    if grpc:  # gRPC mesh routes: not evaluated yet
        names = ", ".join(f"{r.ref.namespace}/{r.ref.name}" for r in grpc)
        return _unknown(
            f"GRPCRoute(s) {names} attach to Service {svc.namespace}/{svc.name}: not evaluated for mesh calls"
        )
    if not routes:
        return None
    names = ", ".join(f"{r.ref.namespace}/{r.ref.name}" for r in routes)
    key = f"{svc.namespace}/{svc.name}"
    if call.client_mesh is Mesh.NONE:
        return _unknown(
            f"HTTPRoute(s) {names} attach to Service {key}: Istio does not route a client outside its mesh, and "
            "whether Cilium's GAMMA applies them (producer routes) is not evaluated"
        )
    if call.client_mesh is Mesh.AMBIENT and (call.waypoint is None or call.waypoint.problem):
        cause = Cause("gamma-no-waypoint", tuple(r.ref for r in routes), {"routes": names, "service": key})
        return HopResult(
            HOP,
            Decision.ALLOW,
            tuple(r.ref for r in routes),
            f"HTTPRoute(s) {names} attach to Service {key}, which has no usable waypoint: ambient clients are not "
            "routed by them (ztunnel is L4 only); the call goes to the Service's pods",
            causes=(cause,),
        )
    client_ns = call.client.namespace
    consumer = [r for r in routes if r.ref.namespace == client_ns and client_ns != svc.namespace]
    if consumer and call.client_mesh is Mesh.AMBIENT:
        return _unknown(
            f"consumer HTTPRoute(s) in {client_ns} for Service {key}: how a waypoint applies consumer routes is not "
            "settled (semantics-gateways.md Part D) and not evaluated"
        )
    chosen = consumer or [r for r in routes if r.ref.namespace == svc.namespace]
    if not chosen:
        return None  # only other namespaces' consumer routes: they do not apply to this client
    host = rt.service_host(svc)
    if rt.find_virtual_service(call.model.traffic, host, rt.service_aliases(svc, client_ns), client_ns) is not None:
        return _unknown(
            f"a VirtualService and HTTPRoute(s) {names} both route {host}: which one this client's proxy uses is "
            "not evaluated (semantics-gateways.md GB8)"
        )
    q = call.query
    req = gm.HttpRequest(q.method, q.path, None, dict(call.request.headers))
    found = gm.select([Attachment(r, None, True, "Accepted", ("",)) for r in chosen], req)
    if found.gaps:
        return _unknown("; ".join(found.gaps))
    refs = tuple(r.ref for r in chosen)
    if found.winner is None:
        params = {"gateway": f"Service {key} (mesh)", "listener": "-", "host": host, "method": q.method}
        params |= {"path": q.path, "routes": ", ".join(f"{r.ref.namespace}/{r.ref.name}" for r in chosen)}
        cause = Cause("gateway-route-no-match", refs, params)
        detail = f"HTTPRoute(s) {params['routes']} attach to Service {key}; no rule matches {q.method} {q.path} → 404"
        return _break(refs, detail, Symptom.HTTP_404, cause)
    return _answer(call, svc, found.winner)


def _answer(call: Call, svc: Service, win: gm.Candidate) -> HopResult:
    route, rule, q = win.route, win.rule, call.query
    prefix = win.match.path.value if win.match.path.type == "PathPrefix" else "/"
    model = call.model

    def ports(ns: str, name: str) -> tuple[int, ...] | None:
        found = model.services.get(f"{ns}/{name}")
        return None if found is None else tuple(p.port for p in found.ports)

    out = outcome(route, rule, prefix, q.path, None, "http", call.port, model.gateway_api.grants, ports)
    by = (route.ref.with_rule(win.match.where),)
    lead = f"HTTPRoute {route.ref.namespace}/{route.ref.name} {win.match.where} (attached to Service {svc.name})"
    if out.gaps:
        return _unknown(f"{lead}: {'; '.join(out.gaps)}")
    if out.status is not None and out.status < 400:
        cause = redirect_cause(route, rule, out.status, out.location or "")
        return HopResult(HOP, Decision.ALLOW, by, f"{lead}: redirect {out.status} to {out.location}", causes=(cause,))
    if out.status is not None:
        return _break(by, f"{lead}: no backend → 500", Symptom.HTTP_500, no_backend_cause(route, rule))
    bad = [s for s in out.shares if s.problem not in (None, "Unevaluated") and s.share > 0]
    if bad:
        causes = [backend_cause(route, rule, s.ref, s.problem or "", s.why, f"{s.share:.0%}") for s in bad]
        result = _break(by, f"{lead}: {'; '.join(s.why for s in bad)} → 500", Symptom.HTTP_500, causes[0])
        return HopResult(
            result.hop, result.decision, result.by, result.detail, result.symptom, result.verdict, tuple(causes)
        )
    names = {(s.ref.namespace, s.ref.name) for s in out.shares if s.share > 0 and s.problem is None}
    if (svc.namespace, svc.name) not in names or len(names) > 1:
        where = ", ".join(f"{ns}/{n}" for ns, n in sorted(names))
        call.gaps.append(  # the later hops would judge a server the route may not send to
            Gap(
                f"the HTTPRoute sends to {where}; later hops are checked for {svc.namespace}/{svc.name} as asked",
                {ALL_KINDS},
            )
        )
    targets = ", ".join(
        f"{s.ref.namespace}/{s.ref.name}:{s.ref.port} ({s.share:.0%})" for s in out.shares if s.share > 0
    )
    return HopResult(HOP, Decision.ALLOW, by, f"{lead} matches {q.method} {q.path} → {targets}")
