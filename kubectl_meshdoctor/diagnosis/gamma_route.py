"""GAMMA: HTTPRoutes attached to a Service (semantics-gateways.md M1-M4, GB4, GB8, GB9; issue 20 §3), for
a mesh client's call to that Service. Istio applies them in the client's proxy (sidecar) or in the
Service's waypoint (ambient): routes in the client's namespace (consumer) win over those in the
Service's namespace (producer); once a route is attached, a request no rule matches gets 404. An
ambient client without a waypoint gets no routing at all (the route has no effect: the Service's pods
answer). A client outside the Istio mesh: Istio does not route it; Cilium's GAMMA (producer routes,
Service frontend) is not evaluated. A VirtualService for the same host: a sidecar uses one of the two
by Istio's order (diagnosis/gamma_precedence.py), reported as a conflict; in ambient the mix is
undefined (unknown). Returns None when no GAMMA route governs the call (the mesh route stands)."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.gamma_cilium import mesh_client_hop, outside_mesh_hop
from kubectl_meshdoctor.diagnosis.gamma_precedence import decide
from kubectl_meshdoctor.diagnosis.gateway_api_causes import backend_cause, no_backend_cause, redirect_cause
from kubectl_meshdoctor.diagnosis.routing_hop import HOP, _break
from kubectl_meshdoctor.engines import gateway_api_match as gm
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.gateway_api_attach import Attachment
from kubectl_meshdoctor.engines.gateway_api_backends import RuleOutcome, outcome
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer, MeshRouteAnswer
from kubectl_meshdoctor.findings.types import (
    ALL_KINDS,
    Cause,
    Decision,
    Gap,
    HopResult,
    Mesh,
    ObjectRef,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.gateway_api import ApiRoute
from kubectl_meshdoctor.model.istio_traffic import VirtualService
from kubectl_meshdoctor.model.objects import Service

_VS_KINDS = frozenset({"VirtualService", "DestinationRule"})


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


def _unknown(detail: str, causes: tuple[Cause, ...] = ()) -> HopResult:
    return HopResult(HOP, Decision.UNKNOWN, (), detail, Symptom.UNKNOWN, Verdict.UNKNOWN, causes, gaps=(detail,))


def _with_cause(result: HopResult, cause: Cause | None, note: str = "") -> HopResult:
    if cause is None:
        return result
    detail = f"{result.detail}; {note}" if note else result.detail
    return replace(result, detail=detail, causes=(*result.causes, cause))


def _conflict(vs: VirtualService, routes: list[ApiRoute], host: str, client_ns: str, why: str) -> Cause:
    refs = (vs.ref, *(r.ref for r in routes))
    params = {
        "vs": f"{vs.ref.namespace or 'default'}/{vs.ref.name}",
        "routes": ", ".join(f"{r.ref.namespace}/{r.ref.name}" for r in routes),
        "host": host,
        "client_ns": client_ns,
        "why": why,
    }
    return Cause("istio-route-api-conflict", refs, params)


def _from_vs(base: HopResult) -> bool:
    """The mesh route hop decided by a VirtualService (and its DestinationRule), not by scope or visibility."""
    return bool(base.by) and all(r.kind in _VS_KINDS for r in base.by)


def gamma_route_hop(call: Call, base: HopResult) -> HopResult | None:
    """``base``: what the mesh's own routing (VirtualService) decided for this call."""
    svc = call.svc
    if svc is None or not call.http:
        return None
    if base.decision in (Decision.DENY, Decision.BREAK, Decision.UNKNOWN) and not _from_vs(base):
        return None  # scope and visibility breaks come first
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
    parent = f"Service {key}"
    if call.client_mesh is Mesh.NONE:
        if all(r.ref.namespace not in (svc.namespace, call.client.namespace) for r in routes):
            return None  # consumer routes of other namespaces apply to no client here, in any implementation
        outside = outside_mesh_hop(call, svc, routes)  # GB10: Cilium ignores consumer routes
        if outside is not None:
            return outside
        return _unknown(
            f"HTTPRoute(s) {names} attach to Service {key}: Istio does not route a client outside its mesh, and "
            "whether Cilium's GAMMA applies them (producer routes) is not evaluated"
        )
    if call.client_mesh is Mesh.AMBIENT and (call.waypoint is None or call.waypoint.problem):
        why = call.waypoint.problem if call.waypoint is not None else "no istio.io/use-waypoint on it or its namespace"
        reason = f"Service {key} has no usable waypoint ({why}): ztunnel is L4 only, the Service's pods answer"
        reason += _would(call, [r for r in routes if r.ref.namespace == svc.namespace] or routes)
        call.mesh_route = MeshRouteAnswer(parent, False, "none", reason, route=f"HTTPRoute {names}")
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
    bypassed = mesh_client_hop(call, svc, chosen)  # GB11: routes only Cilium applies
    if bypassed is not None:
        return bypassed
    host = rt.service_host(svc)
    aliases = rt.service_aliases(svc, client_ns) | ({call.request.host} if call.request.host else set())
    found = rt.find_virtual_service(call.model.traffic, host, aliases, client_ns)
    conflict: Cause | None = None
    note = ""
    if found is not None:
        vs = found[0]
        vs_key = f"VirtualService {vs.ref.namespace or 'default'}/{vs.ref.name}"
        if call.client_mesh is Mesh.AMBIENT:
            why = "mixing Istio's classic API and Gateway API routes in ambient mode is undefined behaviour"
            conflict = _conflict(vs, chosen, host, client_ns, why)
            return _unknown(f"{vs_key} and HTTPRoute(s) {names} both route {host}: {why}", (conflict,))
        order = decide(vs, chosen, client_ns, call.model.traffic.default_export)
        conflict = _conflict(vs, chosen, host, client_ns, order.why)
        if not order.winner:
            return _unknown(f"{vs_key} and HTTPRoute(s) {names} both route {host}: {order.why}", (conflict,))
        if order.winner == "VirtualService":
            reason = f"{vs_key} routes {host} for this client instead: {order.why}"
            call.mesh_route = MeshRouteAnswer(parent, False, "none", reason, route=f"HTTPRoute {names}")
            return _with_cause(base, conflict, f"HTTPRoute(s) {names} not used: {order.why}")
        note = f"{vs_key} not used: {order.why}"
        call.route = rt.RouteOutcome(host, rule=call.route.rule if call.route is not None else None)
    result = _route(call, svc, chosen, host)
    return _with_cause(result, conflict, note)


def _would(call: Call, routes: list[ApiRoute]) -> str:
    """What the route would do with this request if a waypoint applied it (what the client misses)."""
    q = call.query
    req = gm.HttpRequest(q.method, q.path, None, dict(call.request.headers))
    found = gm.select([Attachment(r, None, True, "Accepted", ("",)) for r in routes], req)
    if found.gaps:
        return ""
    if found.winner is None:
        return f" (applied, no rule would match {q.method} {q.path}: 404)"
    w = found.winner
    name = f"{w.route.ref.namespace}/{w.route.ref.name}"
    return f" (applied, HTTPRoute {name} {w.match.where} would match {q.method} {q.path})"


def _applied_by(call: Call) -> str:
    wp = call.waypoint
    return f"waypoint {wp.label}" if call.client_mesh is Mesh.AMBIENT and wp is not None else "sidecar"


def _route(call: Call, svc: Service, chosen: list[ApiRoute], host: str) -> HopResult:
    q = call.query
    key = f"{svc.namespace}/{svc.name}"
    req = gm.HttpRequest(q.method, q.path, None, dict(call.request.headers))
    found = gm.select([Attachment(r, None, True, "Accepted", ("",)) for r in chosen], req)
    if found.gaps:
        return _unknown("; ".join(found.gaps))
    refs = tuple(r.ref for r in chosen)
    if found.winner is None:
        params = {"gateway": f"Service {key} (mesh)", "listener": "-", "host": host, "method": q.method}
        params |= {"path": q.path, "routes": ", ".join(f"{r.ref.namespace}/{r.ref.name}" for r in chosen)}
        call.mesh_route = MeshRouteAnswer(f"Service {key}", True, _applied_by(call), route=None, status=404)
        cause = Cause("gateway-route-no-match", refs, params)
        detail = f"HTTPRoute(s) {params['routes']} attach to Service {key}; no rule matches {q.method} {q.path} → 404"
        return _break(refs, detail, Symptom.HTTP_404, cause)
    return _answer(call, svc, found.winner)


def _record(call: Call, svc: Service, win: gm.Candidate, out: RuleOutcome) -> None:
    route, rule = win.route, win.rule
    usable = out.shares == () or any(s.problem in (None, "Unevaluated") and s.share > 0 for s in out.shares)
    backends = tuple(
        BackendAnswer(s.ref.kind, s.ref.namespace, s.ref.name, s.ref.port, s.ref.weight, s.share, s.problem, s.why)
        for s in out.shares
    )
    pairs = (("request", rule.timeout_request), ("backendRequest", rule.timeout_backend))
    timeouts = tuple((k, v) for k, v in pairs if v)
    call.mesh_route = MeshRouteAnswer(
        f"Service {svc.namespace}/{svc.name}",
        True,
        _applied_by(call),
        route=f"{route.ref.kind} {route.ref.namespace}/{route.ref.name}",
        rule=rule.where,
        rule_name=rule.name,
        match=win.match.where,
        status=out.status if usable else 500,
        location=out.location,
        backends=backends,
        filters=tuple(f"{f.type} {f.where}" for f in out.filters),
        timeouts=timeouts,
        forwarded_path=out.path,
        forwarded_host=out.host,
    )


def _answer(call: Call, svc: Service, win: gm.Candidate) -> HopResult:
    route, rule, q = win.route, win.rule, call.query
    prefix = win.match.path.value if win.match.path.type == "PathPrefix" else "/"
    model = call.model

    def ports(ns: str, name: str) -> tuple[int, ...] | None:
        found = model.services.get(f"{ns}/{name}")
        return None if found is None else tuple(p.port for p in found.ports)

    out = outcome(route, rule, prefix, q.path, None, "http", call.port, model.gateway_api.grants, ports)
    _record(call, svc, win, out)
    by: tuple[ObjectRef, ...] = (route.ref.with_rule(win.match.where),)
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
        return replace(result, causes=tuple(causes))
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
