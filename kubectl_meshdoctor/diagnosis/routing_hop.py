"""The client-side routing hop (issue 7, B24 step 4): what the client's sidecar, or the server's
waypoint for ambient clients, does with the request before it leaves. Sidecar egress scope and
REGISTRY_ONLY (502), the VirtualService and its matched route (404 NR), fault injection, subsets
(503 NC), unknown destination hosts. Timeout and circuit breaking need Hubble's L7 records and are
judged after the walk (``route_evidence``)."""

from __future__ import annotations

from collections.abc import Mapping

from kubectl_meshdoctor.diagnosis import downstream, visibility
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.inputs import MEMBERSHIP
from kubectl_meshdoctor.diagnosis.partial import Partial
from kubectl_meshdoctor.diagnosis.route_endpoints import RoutedTarget, check_endpoints, dest_cause, retarget
from kubectl_meshdoctor.diagnosis.routing_egress import egress_policy, egress_scope, external
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import (
    ALL_KINDS,
    Cause,
    Decision,
    Gap,
    Hop,
    HopResult,
    Mesh,
    ObjectRef,
    Severity,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.istio_routes import HttpRoute
from kubectl_meshdoctor.model.istio_traffic import VirtualService

HOP = Hop.CLIENT_ROUTE


def _skip(detail: str, reads: tuple[str, ...] | None = None) -> HopResult:
    return HopResult(HOP, Decision.SKIP, (), detail, reads=reads)


def _break(by: tuple[ObjectRef, ...], detail: str, symptom: Symptom, cause: Cause) -> HopResult:
    return HopResult(HOP, Decision.BREAK, by, detail, symptom, Verdict.BROKEN, (cause,))


def status_symptom(status: int | None) -> Symptom:
    """The closest Symptom for an HTTP status the proxy answers with."""
    if status is None:
        return Symptom.UNKNOWN
    try:
        return Symptom(f"http-{status}")
    except ValueError:
        return Symptom.HTTP_500 if status >= 500 else Symptom.HTTP_400 if status >= 400 else Symptom.OK


def _waypoint(call: Call) -> str | None:
    """Ambient: a waypoint applies L7 routing when the destination opts in (istio.io/use-waypoint,
    resolved once in resolve_call, issue 11 §1)."""
    wp = call.waypoint
    return wp.label if wp is not None and not wp.problem else None


def _vs_key(vs: VirtualService) -> str:
    return f"{vs.ref.namespace}/{vs.ref.name}"


def mesh_route_hop(call: Call) -> HopResult:
    """The client's own proxy (sidecar, or the waypoint for ambient) routing the call."""
    if call.client_mesh is Mesh.NONE:
        return _skip(f"{call.src.label} is not in the mesh: no proxy applies Istio routing", MEMBERSHIP)
    waypoint = _waypoint(call) if call.client_mesh is Mesh.AMBIENT else None
    if call.client_mesh is Mesh.AMBIENT and waypoint is None:
        return _skip("ambient client and no waypoint for the destination: ztunnel does not apply routing (L4 only)")
    if call.dst.kind == "External":
        if waypoint is not None:
            return HopResult(
                HOP,
                Decision.UNKNOWN,
                (),
                "external destination behind a waypoint: waypoint routing is not modelled yet",
                Symptom.UNKNOWN,
                Verdict.UNKNOWN,
            )
        return external(call)
    svc = call.svc
    if svc is None:
        return _skip("direct call to a pod (no Service): no VirtualService host to match")
    m, client_ns = call.model, call.client.namespace
    root = m.istio.mesh.root_namespace
    host = rt.service_host(svc)
    where = f"waypoint {waypoint}" if waypoint else "sidecar"
    if waypoint is None:
        hidden = egress_scope(call, host, svc.namespace)
        if hidden is not None:
            return hidden
        if not rt.service_visible(m.traffic, svc, client_ns):
            policy, policy_ref, _ = egress_policy(call)
            result, tls = visibility.hidden_service(m.traffic, svc, client_ns, policy, policy_ref)
            if tls is not None:
                call.tls = tls
            return result
    rule = rt.traffic_rule_for(m.traffic, host, client_ns, call.client.labels, root)
    call.route = rt.RouteOutcome(host, rule=rule)
    if not call.http:
        return HopResult(HOP, Decision.ALLOW, (), f"{where}: TCP port {call.port}, HTTP routes not applied")
    aliases = rt.service_aliases(svc, client_ns) | ({call.request.host} if call.request.host else set())
    found = rt.find_virtual_service(m.traffic, host, aliases, client_ns)
    if found is None:
        unseen = visibility.hidden_objects(m.traffic, "VirtualService", host, client_ns)
        hidden_vs = f" ({', '.join(unseen)} not exported to {client_ns}: not applied)" if unseen else ""
        return HopResult(
            HOP, Decision.ALLOW, (), f"{where}: no VirtualService for {host}: default route to the Service{hidden_vs}"
        )
    vs, vs_host = found
    q = call.query
    req = rt.RouteRequest(q.method, q.path, call.request.headers, call.port, call.client.labels, client_ns)
    matched = rt.match_route(vs.http, req)
    if matched is None:
        if not vs.http:
            return HopResult(HOP, Decision.ALLOW, (vs.ref,), f"{vs.ref.key()} has no http routes (tcp/tls only)")
        routes = "; ".join(_route_text(r) for r in vs.http)
        cause = Cause(
            "istio-route-no-match",
            (vs.ref.with_rule("http"),),
            {"vs": _vs_key(vs), "host": vs_host, "routes": routes, "method": q.method, "path": q.path}
            | {"ns": vs.ref.namespace or "default", "name": vs.ref.name},
        )
        detail = f"{vs.ref.key()} (host {vs_host}): no http route matches {q.method} {q.path} → 404 NR"
        return _break((vs.ref.with_rule("http"),), detail, Symptom.HTTP_404, cause)
    route, match = matched
    call.route = rt.RouteOutcome(host, vs, route, rule)
    by = (vs.ref.with_rule(match.path if match else route.path),)
    lead = f"{where}: {vs.ref.key()} {by[0].rule} matches {q.method} {q.path}"
    return _route(call, vs, route, by, lead)


def _route_text(r: HttpRoute) -> str:
    if not r.matches:
        return f"{r.path}: any"
    parts = [
        " ".join(x for x in (m.method.value if m.method else "", m.uri.show() if m.uri else "") if x) for m in r.matches
    ]
    return f"{r.path}: " + " | ".join(p or "headers/port only" for p in parts)


def _route(call: Call, vs: VirtualService, route: HttpRoute, by: tuple[ObjectRef, ...], lead: str) -> HopResult:
    q, m = call.query, call.model
    common = {"vs": _vs_key(vs), "method": q.method, "path": q.path, "ns": vs.ref.namespace or "default"}
    common["name"] = vs.ref.name
    causes: list[Cause] = []
    notes = [n for n in _notes(route) if n]
    fault = route.fault
    if fault is not None and fault.abort_status is not None and fault.abort_percent > 0:
        ref = vs.ref.with_rule(f"{fault.path}.abort")
        params = common | {"rule": ref.rule or "", "what": f"HTTP {fault.abort_status} aborts"}
        params["percent"] = f"{fault.abort_percent:g}"
        if fault.abort_percent >= 100:
            params["effect"] = f"; every such request gets {fault.abort_status} without reaching the server"
            cause = Cause("istio-fault-injection", (ref,), params)
            detail = f"{lead}; fault {ref.rule} aborts 100% with HTTP {fault.abort_status}"
            return _break((ref,), detail, status_symptom(fault.abort_status), cause)
        got = f"{fault.abort_percent:g}% of requests get {fault.abort_status}"
        params["effect"] = f"; {got} without reaching the server, the rest go on"
        causes.append(Cause("istio-fault-injection", (ref,), params))
        notes.append(f"fault {ref.rule} aborts {fault.abort_percent:g}% of requests with HTTP {fault.abort_status}")
        symptom = status_symptom(fault.abort_status)
        call.partial.append(Partial(fault.abort_percent, symptom, Verdict.BROKEN, f"{got} ({ref.key()})", (ref,)))
    if fault is not None and fault.delay_seconds and fault.delay_percent > 0:
        ref = vs.ref.with_rule(f"{fault.path}.delay")
        params = common | {"rule": ref.rule or "", "what": f"a {fault.delay_seconds:g}s delay"}
        params |= {"percent": f"{fault.delay_percent:g}", "effect": ""}
        causes.append(Cause("istio-fault-injection", (ref,), params, severity=Severity.WARNING))
        notes.append(f"fault delays {fault.delay_percent:g}% of requests by {fault.delay_seconds:g}s")
    client_ns, root = call.client.namespace, m.istio.mesh.root_namespace
    owner = vs.ref.namespace or "default"
    views = set(m.namespaces) | set(m.pods_by_ns) | {s.namespace for s in m.services.values()}
    bad_weight, total = 0, sum(d.weight for d in route.destinations) or 100
    broken_refs: list[ObjectRef] = []
    targets: list[RoutedTarget] = []
    for dest in route.destinations:
        if dest.weight == 0:  # an explicit weight 0 receives no request: not a share of this call
            notes.append(f"0% of requests to {dest.host}{f' subset {dest.subset}' if dest.subset else ''} (weight 0)")
            continue
        check = rt.check_destination(m.services, views, m.traffic, dest, owner, client_ns, call.client.labels, root)
        ref = vs.ref.with_rule(dest.path)
        share = f"{round(100 * dest.weight / total)}%"
        where = f"{check.host}{f' subset {dest.subset}' if dest.subset else ''}"
        problem: Cause | None = None
        flag = "NC"
        if check.problem == "not-in-view":
            # the destination's namespace was not read: its server hops cannot be evaluated
            note = f"{vs.ref.key()} {dest.path} routes to {check.host}: namespace not in this view"
            call.gaps.append(Gap(note, {ALL_KINDS}))
            continue
        if check.problem is not None:
            problem = dest_cause(call, vs, check, ref, common, total)
        else:
            problem, target = check_endpoints(m, check, ref, _vs_key(vs), total, call.port)
            flag = "UH" if problem is not None and problem.code == "istio-subset-no-endpoints" else flag
            if target is not None:
                targets.append(target)
        if problem is not None:
            causes.append(problem)
            bad_weight += dest.weight
            broken_refs.append(ref)
            notes.append(f"{share} of requests to {where}: 503 {flag}")
            if dest.weight < total:
                text = f"{share} of requests get 503 {flag} ({ref.key()}: {where})"
                call.partial.append(Partial(100 * dest.weight / total, Symptom.HTTP_503, Verdict.BROKEN, text, (ref,)))
        else:
            sub = f" ({check.rule.ref.key()})" if dest.subset and check.rule else ""
            notes.append(f"{share} of requests → {where}{sub}")
    if broken_refs and bad_weight >= total:
        detail = f"{lead}; " + "; ".join(notes)
        return HopResult(
            HOP, Decision.BREAK, tuple(broken_refs), detail, Symptom.HTTP_503, Verdict.BROKEN, tuple(causes)
        )
    note = retarget(call, targets, total)
    timeout, delayed, chain = downstream.timeout_causes(call, vs, route)
    causes += chain
    detail = "; ".join([lead, *notes, *([note] if note else [])])
    if timeout is not None:
        fired = f"timeout {route.timeout_seconds:g}s < {timeout.params['latency']} → 504 (UT)"
        if delayed >= 100:
            return HopResult(
                HOP, Decision.BREAK, timeout.objects, f"{detail}; {fired}", Symptom.HTTP_504, Verdict.BROKEN,
                (timeout, *causes),
            )  # fmt: skip
        causes.append(timeout)
        text = f"{delayed:g}% of requests get 504 ({fired})"
        call.partial.append(Partial(delayed, Symptom.HTTP_504, Verdict.BROKEN, text, timeout.objects))
    return HopResult(HOP, Decision.ALLOW, by, detail, causes=tuple(causes))


def _notes(route: HttpRoute) -> list[str]:
    return [
        f"timeout {route.timeout_seconds:g}s (an answer slower than that gets 504 UT)"
        if route.timeout_seconds is not None
        else "",
        f"retries {route.retries}" if route.retries is not None else "",
        f"mirror to {route.mirror}" if route.mirror else "",
        f"rewrite uri to {route.rewrite}" if route.rewrite else "",
        "redirect" if route.redirect else "",
        f"direct response {route.direct_status}" if route.direct_status is not None else "",
        f"delegated to {route.delegate} (not evaluated)" if route.delegate else "",
    ]


def route_evidence(
    call: Call, http_status: Mapping[str, int], max_latency_s: float
) -> tuple[list[Cause], Symptom | None]:
    """After the walk: circuit breaking (info unless Hubble shows 503s) and route timeouts shorter
    than the latency Hubble's L7 records show (504 UT). Returns causes and a symptom when the
    evidence shows the call failing although the objects alone predict success."""
    out = call.route
    if out is None:
        return [], None
    causes: list[Cause] = []
    worse: Symptom | None = None
    q = call.query
    rule = out.rule
    limits = rt.tight_limits(rule.circuit_breaker if rule else None)
    if rule is not None and rule.circuit_breaker is not None and limits:
        shed = http_status.get("503", 0)
        params = {"dr": f"{rule.ref.namespace}/{rule.ref.name}", "rule": rule.circuit_breaker.path, "host": out.host}
        params |= {"limits": ", ".join(f"{k}: {v}" for k, v in limits.items()), "name": rule.ref.name}
        params |= {"ns": rule.ref.namespace or "default"}
        params["observed"] = f"; Hubble shows {shed} HTTP 503 answer(s) for this request" if shed else ""
        ref = rule.ref.with_rule(rule.circuit_breaker.path)
        causes.append(Cause("istio-circuit-breaker", (ref,), params, severity=Severity.WARNING if shed else None))
    route, vs = out.route, out.vs
    timeout = route.timeout_seconds if route is not None else None
    if vs is not None and route is not None and timeout is not None and max_latency_s > timeout:
        ref = vs.ref.with_rule(f"{route.path}.timeout")
        params = {"vs": _vs_key(vs), "rule": route.path, "timeout": f"{timeout:g}s", "method": q.method}
        params |= {"path": q.path, "latency": f"{max_latency_s:.3g}s (Hubble L7 latency)"}
        params["ns"] = vs.ref.namespace or "default"
        params["name"] = vs.ref.name
        causes.append(Cause("istio-timeout", (ref,), params))
        worse = Symptom.HTTP_504
    return causes, worse


def route_contradiction(broken: HopResult | None, observed: str) -> str:
    """B23 for the routing hop: the server answered although the route predicts an Envoy answer."""
    if broken is not None and broken.hop is HOP and observed == "ok":
        return (
            "the request reached the server although the client's routing predicts "
            f"{broken.symptom.value if broken.symptom else 'a failure'} (a VirtualService/Sidecar missing from "
            "this view, another Host header, or the proxy not yet updated?)"
        )
    return ""
