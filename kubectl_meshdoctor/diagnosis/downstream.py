"""Timeouts against known delays further down the chain (issue 22, Istio's request-timeouts task).

A route timeout bounds the whole answer of the server, including the calls the server makes while
serving it. Objects cannot tell the server's own latency, but they can show a delay injected on the
server's *own* outbound route (a VirtualService fault.delay that applies to the server's sidecar):
a route timeout shorter than that delay fires (504 UT, ``istio-timeout`` with the chain); without a
route timeout, the delay is named as the condition under which a caller's timeout fires (the
application's own timeouts are in its code, not in any object)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Cause, Mesh, ObjectRef, Severity
from kubectl_meshdoctor.model.istio_routes import HttpRoute
from kubectl_meshdoctor.model.istio_traffic import VirtualService


@dataclass(frozen=True, slots=True)
class Delay:
    seconds: float
    percent: float
    vs: VirtualService
    ref: ObjectRef  # the fault.delay rule
    host: str  # the host of the server's outbound call
    propagated: bool  # the route matched on request headers the server must forward

    def chain(self, server: str) -> str:
        headers = " (if it forwards the request headers)" if self.propagated else ""
        return (
            f"{server} → {self.host}: a {self.seconds:g}s injected delay on {self.percent:g}% of requests "
            f"({self.ref.key()}){headers}"
        )


def _outbound_route(vs: VirtualService, call: Call) -> tuple[HttpRoute, bool] | None:
    """The route of ``vs`` the server's own outbound call takes, when the objects can tell: matches on
    the request headers (forwarded) and the server's labels/namespace; a route that also matches on
    uri, method or port depends on a request the objects do not show (None)."""
    server = call.server
    assert server is not None
    req = rt.RouteRequest("", "/", call.request.headers, 0, server.labels, server.namespace)
    for route in vs.http:
        bare = tuple(replace(m, uri=None, method=None, port=None) for m in route.matches)
        if bare and rt.match_route((replace(route, matches=bare),), req) is None:
            continue
        if any(m.uri is not None or m.method is not None or m.port is not None for m in route.matches):
            return None
        return route, any(m.headers or m.without_headers for m in route.matches)
    return None


def server_delays(call: Call) -> list[Delay]:
    """Delays injected on the routes the server's sidecar applies to its own outbound calls."""
    server = call.server
    if server is None or call.server_mesh is not Mesh.SIDECAR or call.svc is None:
        return []
    own = rt.service_host(call.svc)
    m = call.model
    out: list[Delay] = []
    for vs in m.traffic.virtual_services:
        ns = vs.ref.namespace or "default"
        if "mesh" not in (vs.gateways or ("mesh",)):
            continue
        if not rt.visible(vs.export_to, ns, server.namespace, "VirtualService", m.traffic.default_export):
            continue
        hosts = [rt.fqdn(h, ns) for h in vs.hosts]
        if own in hosts or not hosts:
            continue
        found = _outbound_route(vs, call)
        fault = found[0].fault if found else None
        if found is None or fault is None or not fault.delay_seconds or fault.delay_percent <= 0:
            continue
        ref = vs.ref.with_rule(f"{fault.path}.delay")
        out.append(Delay(fault.delay_seconds, fault.delay_percent, vs, ref, hosts[0], found[1]))
    return out


def timeout_causes(call: Call, vs: VirtualService, route: HttpRoute) -> tuple[Cause | None, float, list[Cause]]:
    """(istio-timeout when the route's timeout is shorter than a known delay, its share of requests,
    notes on the other delays of the chain)."""
    server = call.server
    if server is None:
        return None, 0.0, []
    who = f"{server.namespace}/{server.workload_name or server.name}"
    delays = server_delays(call)
    timeout = route.timeout_seconds
    q = call.query
    notes: list[Cause] = []
    for d in delays:
        if timeout is not None and d.seconds > timeout:
            params = {"vs": f"{vs.ref.namespace}/{vs.ref.name}", "rule": route.path, "timeout": f"{timeout:g}s"}
            params |= {"method": q.method, "path": q.path, "ns": vs.ref.namespace or "default", "name": vs.ref.name}
            params["latency"] = f"at least {d.seconds:g}s: {d.chain(who)}"
            refs = (vs.ref.with_rule(f"{route.path}.timeout"), d.ref)
            return Cause("istio-timeout", refs, params, severity=Severity.ERROR), d.percent, notes
        condition = (
            f"the route's timeout {timeout:g}s outlasts it"
            if timeout is not None
            else "no route timeout bounds it; a caller's own timeout shorter than that fires (the application's "
            "timeouts are in its code, not in any object)"
        )
        params = {"vs": f"{d.vs.ref.namespace}/{d.vs.ref.name}", "rule": d.ref.rule or "", "what": "a delay"}
        params |= {"percent": f"{d.percent:g}", "method": "the server's own", "path": "outbound call"}
        params |= {"ns": d.vs.ref.namespace or "default", "name": d.vs.ref.name}
        params["effect"] = f"; on the chain {d.chain(who)}: {condition}"
        notes.append(Cause("istio-fault-injection", (d.ref,), params, severity=Severity.INFO))
    return None, 0.0, notes
