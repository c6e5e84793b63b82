"""References between Istio objects (what `istioctl analyze` checks, with our codes):
VirtualService -> Gateway (exists, binds the host), Sidecar workloadSelector, route order."""

from __future__ import annotations

from collections.abc import Mapping

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis.gateway_binding import _admits, server_host_matches
from kubectl_meshdoctor.diagnosis.gateway_hop import _admitted
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Cause, ObjectRef
from kubectl_meshdoctor.model.build import Model
from kubectl_meshdoctor.model.istio_routes import HttpRoute
from kubectl_meshdoctor.model.istio_traffic import IstioGateway, KubeGateway, VirtualService


def _gateways(model: Model) -> dict[str, IstioGateway]:
    return {f"{g.ref.namespace or 'default'}/{g.ref.name}": g for g in model.traffic.gateways}


def _kube_gateways(model: Model) -> dict[str, KubeGateway]:
    return {f"{g.ref.namespace or 'default'}/{g.ref.name}": g for g in model.traffic.kube_gateways}


def _vs_gateway_refs(model: Model, vs: VirtualService, gateways: dict[str, IstioGateway]) -> list[Cause]:
    out: list[Cause] = []
    ns = vs.ref.namespace or "default"
    key = f"{ns}/{vs.ref.name}"
    kube = _kube_gateways(model)
    bound: list[tuple[str, ObjectRef, IstioGateway]] = []
    for i, name in enumerate(vs.gateways):
        if name == "mesh":
            continue
        full = rt.fqdn_gw(name, ns)
        ref = vs.ref.with_rule(f"spec.gateways[{i}]")
        gw = gateways.get(full)
        if gw is None:
            kgw = kube.get(full)
            if kgw is None:
                out.append(Cause("istio-gateway-not-found", (ref,), {"vs": key, "gateway": full}))
            elif not any(rt.host_matches(ln.hostname or "*", h) for ln in kgw.listeners for h in vs.hosts):
                names = ", ".join(ln.hostname or "*" for ln in kgw.listeners) or "no listeners"
                why = f"VirtualService {key} binds to it, but its listeners serve only {names}"
                params = {"gateway": full, "host": ", ".join(vs.hosts), "why": why}
                out.append(Cause("istio-gateway-host-not-bound", (ref, kgw.ref.with_rule("spec.listeners")), params))
            continue
        bound.append((full, ref, gw))

    # every bound Gateway must serve one of the hosts (else that binding does nothing), and every host
    # must be served by one of the bound Gateways (else nothing routes it)
    def admits(gw: IstioGateway, host: str) -> bool:
        g_ns = gw.ref.namespace or "default"
        return any(server_host_matches(e, host) and _admits(e, ns, g_ns) for srv in gw.servers for e in srv.hosts)

    for full, ref, gw in bound:
        if not any(admits(gw, h) for h in vs.hosts):
            hosts = ", ".join(vs.hosts)
            why = f"VirtualService {key} binds to it, but none of its hosts ({hosts}) is a server host there"
            params = {"gateway": full, "host": ", ".join(vs.hosts), "why": why}
            out.append(Cause("istio-gateway-host-not-bound", (ref, gw.ref.with_rule("spec.servers")), params))
    unserved = [h for h in vs.hosts if not any(admits(gw, h) for _, _, gw in bound)]
    if bound and unserved and len(unserved) < len(vs.hosts):
        names = ", ".join(full for full, _, _ in bound)
        why = f"VirtualService {key} routes {', '.join(unserved)}, but no server of {names} lists it"
        params = {"gateway": names, "host": ", ".join(unserved), "why": why}
        first = bound[0]
        out.append(Cause("istio-gateway-host-not-bound", (first[1].with_rule("spec.hosts"), first[2].ref), params))
    return out


def _catch_all(route: HttpRoute) -> str | None:
    """A route that matches every request: no match block, or a match with no condition at all."""
    if not route.matches:
        return f"http[{route.index}] (no match: every request)"
    for m in route.matches:
        if (
            m.uri is None
            and m.method is None
            and not m.headers
            and not m.without_headers
            and m.port is None
            and m.source_labels is None
            and m.source_namespace is None
            and not m.gateways
        ):
            return f"http[{route.index}] ({m.path} is empty: every request)"
        if m.uri is not None and m.uri.kind == "prefix" and m.uri.value == "/" and _only_uri(m):
            return f"http[{route.index}] ({m.path} prefix / : every request)"
    return None


def _only_uri(m: object) -> bool:
    return all(
        getattr(m, f) in (None, {}, ())
        for f in ("method", "headers", "without_headers", "port", "source_labels", "source_namespace", "gateways")
    )


def _shadowed(vs: VirtualService) -> list[Cause]:
    out: list[Cause] = []
    ns = vs.ref.namespace or "default"
    for i, route in enumerate(vs.http):
        earlier = _catch_all(route)
        if earlier is None:
            continue
        for later in vs.http[i + 1 :]:
            rule = f"http[{later.index}]"
            params = {"vs": f"{ns}/{vs.ref.name}", "rule": rule, "earlier": earlier, "ns": ns, "name": vs.ref.name}
            out.append(Cause("istio-route-shadowed", (vs.ref.with_rule(rule),), params))
        break
    return out


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _sidecar_selectors(model: Model) -> list[Cause]:
    out: list[Cause] = []
    if not model.pods:
        return out
    for scope in model.traffic.sidecars:
        if not scope.selector:
            continue
        pods = model.pods_by_ns.get(scope.ref.namespace or "default", [])
        if any(_selects(scope.selector, p.labels) for p in pods):
            continue
        text = ", ".join(f"{k}={v}" for k, v in scope.selector.items())
        params = {"policy": f"Sidecar {scope.ref.namespace}/{scope.ref.name}", "selector": text}
        out.append(Cause("policy-selects-nothing", (scope.ref.with_rule("spec.workloadSelector"),), params))
    return out


def _overlap(listener: str, host: str) -> bool:
    """A listener hostname and a route hostname intersect when either pattern covers the other."""
    return rt.host_matches(listener, host) or rt.host_matches(host, listener)


def _http_routes(model: Model) -> list[Cause]:
    """Gateway API: each HTTPRoute parent exists, has a listener for one of its hostnames, and admits
    the route's namespace (allowedRoutes, decided by the gateway hop's own `_admitted`)."""
    out: list[Cause] = []
    kube = _kube_gateways(model)
    for route in sorted(model.traffic.http_routes, key=lambda r: (r.ref.namespace or "", r.ref.name)):
        key = f"{route.ref.namespace}/{route.ref.name}"
        for i, (ns, name, section) in enumerate(route.parents):
            ref = route.ref.with_rule(f"spec.parentRefs[{i}]")
            gw = kube.get(f"{ns}/{name}")
            if gw is None:
                detail = f"HTTPRoute {key} attaches to Gateway {ns}/{name}, which does not exist: it serves nothing"
                out.append(Cause("istio-gateway-not-found", (ref,), {"vs": key, "gateway": f"{ns}/{name}"}, detail))
                continue
            listeners = [x for x in gw.listeners if section is None or x.name == section]
            hosts = route.hostnames or ("*",)
            bound = [
                x
                for x in listeners
                if x.hostname is None
                or any(rt.host_matches(x.hostname, h) or rt.host_matches(h, x.hostname) for h in hosts)
            ]
            if not bound:
                names = ", ".join(x.hostname or "*" for x in listeners) or "no listeners"
                why = f"HTTPRoute {key} asks for {', '.join(hosts)} but its listeners serve only {names}"
                params = {"gateway": f"{ns}/{name}", "host": ", ".join(hosts), "why": why}
                out.append(Cause("istio-gateway-host-not-bound", (ref, gw.ref.with_rule("spec.listeners")), params))
            elif not _admitted(route, bound, ns):
                params = {"route": key, "gateway": f"{ns}/{name}", "from": bound[0].allowed_from}
                rule = gw.ref.with_rule(f"{bound[0].path}.allowedRoutes")
                out.append(Cause("istio-gateway-route-not-allowed", (ref, rule), params))
    return out


def _refs(model: Model) -> list[Cause]:
    gateways = _gateways(model)
    out: list[Cause] = []
    for vs in sorted(model.traffic.virtual_services, key=lambda v: (v.ref.namespace or "", v.ref.name)):
        out.extend(_vs_gateway_refs(model, vs, gateways))
        out.extend(_shadowed(vs))
    out.extend(_http_routes(model))
    out.extend(_sidecar_selectors(model))
    return out


REFS = Check(
    "istio.References",
    "VirtualServices and HTTPRoutes bound to missing Gateways, to Gateways without their host or not admitting "
    "them (allowedRoutes), shadowed routes, "
    "Sidecars whose workloadSelector matches no pod",
    ("VirtualService", "Gateway", "HTTPRoute", "Sidecar", "Pod"),
    _refs,
)
