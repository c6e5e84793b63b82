"""Mesh-wide routing findings (issue 7 §6), pure: routes to subsets no DestinationRule defines,
routes to hosts not in the registry, Istio Gateways whose selector matches no pod.

``routing_findings(model)`` is the entry point; it is not registered in ``checks.ALL`` here
(the `check` command owns that list)."""

from __future__ import annotations

import dataclasses

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis import visibility
from kubectl_meshdoctor.diagnosis.route_endpoints import check_endpoints, service_of
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Cause, Severity
from kubectl_meshdoctor.model.istio_routes import HttpRoute, RouteDestination
from kubectl_meshdoctor.model.istio_traffic import IstioGateway, VirtualService
from kubectl_meshdoctor.model.view import Model


def _client_namespaces(vs: VirtualService) -> list[str]:
    """Where the VirtualService applies (its exportTo): its own namespace stands for `.` and `*`."""
    own = vs.ref.namespace or "default"
    named = [n for n in vs.export_to if n not in (".", "*", "~")]
    return ([own] if not vs.export_to or any(n in (".", "*") for n in vs.export_to) else []) + named


def _vs_findings(model: Model, vs: VirtualService, views: set[str]) -> list[Cause]:
    out: list[Cause] = []
    for client_ns in _client_namespaces(vs):
        out.extend(_vs_findings_from(model, vs, views, client_ns))
    return out


def _vs_findings_from(model: Model, vs: VirtualService, views: set[str], client_ns: str) -> list[Cause]:
    """Each destination as the proxies of ``client_ns`` see it: the routing engine's registry lookup,
    exportTo visibility, the Service port and the subset's endpoints (diagnosis.route_endpoints).
    Mirror destinations are checked the same way; every problem of a destination is reported."""
    out: list[Cause] = []
    for route in vs.http:
        total = sum(d.weight for d in route.destinations) or 100
        for dest in route.destinations:
            out.extend(_destination_findings(model, vs, views, client_ns, dest, total))
        for mirror in route.mirrors:
            out.extend(_as_mirror(c, mirror) for c in _destination_findings(model, vs, views, client_ns, mirror, 100))
    return out


def _as_mirror(cause: Cause, mirror: RouteDestination) -> Cause:
    """A broken mirror loses the shadow copies only: Envoy drops mirror responses, so the caller's
    request is unaffected (a warning, not an error)."""
    p = cause.params
    target = {
        "istio-subset-not-found": f"subset {p.get('subset')} of {p.get('host')}, but {p.get('dr_state')}",
        "istio-destination-host-unknown": f"{p.get('host')}, which no Service or ServiceEntry visible from "
        f"{p.get('client_ns')} defines",
        "istio-route-port-unknown": f"{p.get('host')} port {p.get('port')}, which that Service does not expose "
        f"(ports {p.get('ports')})",
    }.get(cause.code)
    ref = cause.objects[0]
    what = (
        f"VirtualService {ref.namespace}/{ref.name} {mirror.path} mirrors requests to {target}"
        if target
        else catalog.summary(cause).split("; ")[0]
    )
    detail = f"{what}: Envoy has no cluster for the shadow copies and drops them; the caller's response is unaffected"
    return dataclasses.replace(cause, detail=detail, severity=Severity.WARNING)


def _destination_findings(
    model: Model, vs: VirtualService, views: set[str], client_ns: str, dest: RouteDestination, total: int
) -> list[Cause]:
    ns = vs.ref.namespace or "default"
    root = model.istio.mesh.root_namespace
    key = f"{ns}/{vs.ref.name}"
    check = rt.check_destination(model.services, views, model.traffic, dest, ns, client_ns, {}, root)
    ref = vs.ref.with_rule(dest.path)
    common = {"vs": key, "rule": dest.path, "host": check.host, "method": "any", "path": "request"}
    common |= {"ns": ns, "name": vs.ref.name}
    if check.problem == "not-in-view" and dest.subset is not None:
        # the Service's namespace is not in view, but the DestinationRule the proxy would use is
        rule = rt.traffic_rule_for(model.traffic, check.host, client_ns, {}, root)
        if rule is not None and all(s.name != dest.subset for s in rule.subsets):
            check = rt.DestinationCheck(dest, check.host, "no-subset", rule)
    if check.problem == "not-exported":
        svc = service_of(model, check.host)
        if svc is not None and check.entry is None:
            hidden = visibility.service_cause(model.traffic, svc, client_ns)
        elif check.entry is not None:
            hidden = visibility.entry_cause(model.traffic, check.entry, check.host, client_ns)
        else:
            return []
        return [Cause(hidden.code, (ref, *hidden.objects), hidden.params)]
    if check.problem == "unknown-host":
        return [Cause("istio-destination-host-unknown", (ref,), common | {"client_ns": client_ns, "suggest": ""})]
    out: list[Cause] = []
    if check.problem == "no-subset":
        rule = check.rule
        state = (
            f"DestinationRule {rule.ref.namespace}/{rule.ref.name} defines only "
            f"[{', '.join(s.name for s in rule.subsets) or 'none'}]"
            if rule
            else "no DestinationRule for that host is visible"
        )
        params = common | {"weight": str(dest.weight), "subset": dest.subset or "", "dr_state": state}
        params["yaml"] = f"add subset {dest.subset} to the DestinationRule for {check.host}"
        objects = (ref, rule.ref.with_rule("subsets")) if rule else (ref,)
        out.append(Cause("istio-subset-not-found", objects, params))
        check = rt.DestinationCheck(dest, check.host, None, None)  # the port is checked all the same
    if check.problem is None:
        svc = service_of(model, check.host)
        default_port = svc.ports[0].port if svc is not None and svc.ports else 80
        problem, _ = check_endpoints(model, check, ref, key, total, default_port)
        if problem is not None:
            out.append(problem)
    return out


def _topology(key: str) -> bool:
    return key.startswith(("topology.kubernetes.io/", "topology.istio.io/")) or key == "kubernetes.io/hostname"


def _dr_subsets(model: Model, views: set[str]) -> list[Cause]:
    """DestinationRule subsets whose labels select no ready pod of the host's Service, whether or not
    a route uses them yet (the same endpoint check as a routed subset: route_endpoints.check_endpoints)."""
    out: list[Cause] = []
    for rule in sorted(model.traffic.traffic_rules, key=lambda r: (r.ref.namespace or "", r.ref.name)):
        owner = rule.ref.namespace or "default"
        host = rt.fqdn(rule.host, owner)
        svc = service_of(model, host)
        if svc is None or svc.namespace not in views:
            continue  # no Service: reported as an unknown host
        for subset in rule.subsets:
            if any(_topology(k) and v for k, v in subset.labels.items()):
                continue  # endpoints also carry their node's topology labels, which this view does not hold
            dest = RouteDestination(host, subset.name, None, 100, subset.path)
            check = rt.DestinationCheck(dest, host, None, rule)
            ref = rule.ref.with_rule(subset.path)
            key = f"{owner}/{rule.ref.name}"
            default_port = svc.ports[0].port if svc.ports else 80
            problem, _ = check_endpoints(model, check, ref, key, 100, default_port)
            if problem is not None and problem.code == "istio-subset-no-endpoints":
                out.append(Cause(problem.code, problem.objects[1:], problem.params))
    return out


def _faults(vs: VirtualService) -> list[Cause]:
    """Fault injection is usually a test left behind. An abort fails its share of requests: an error, the
    severity explain gives it (issue 17). A delay is a warning (explain says whether a timeout fires)."""
    out: list[Cause] = []
    ns = vs.ref.namespace or "default"
    for route in vs.http:
        fault = route.fault
        if fault is None:
            continue
        method, path = _matching(route)
        common = {"vs": f"{ns}/{vs.ref.name}", "method": method, "path": path, "ns": ns, "name": vs.ref.name}
        if fault.abort_status is not None and fault.abort_percent > 0:
            ref = vs.ref.with_rule(f"{fault.path}.abort")
            params = common | {"rule": ref.rule or "", "what": f"HTTP {fault.abort_status} aborts"}
            share = "every matching request gets" if fault.abort_percent >= 100 else "those requests get"
            params |= {"percent": f"{fault.abort_percent:g}", "effect": f"; {share} {fault.abort_status}"}
            out.append(Cause("istio-fault-injection", (ref,), params))  # an error, as in explain (issue 17)
        if fault.delay_seconds and fault.delay_percent > 0:
            ref = vs.ref.with_rule(f"{fault.path}.delay")
            params = common | {"rule": ref.rule or "", "what": f"a {fault.delay_seconds:g}s delay"}
            params |= {"percent": f"{fault.delay_percent:g}", "effect": ""}
            out.append(Cause("istio-fault-injection", (ref,), params, severity=Severity.WARNING))
    return out


def _matching(route: HttpRoute) -> tuple[str, str]:
    """What the route matches, as the ``{method} {path}`` of the fault finding's sentence."""
    if not route.matches:
        return "any", "request"
    parts = []
    for m in route.matches:
        what = [x for x in (m.method.value if m.method else "", m.uri.show() if m.uri else "") if x]
        parts.append(" ".join(what) or "headers/port only")
    return "requests", "with " + " or ".join(parts)


def _circuit_breakers(model: Model) -> list[Cause]:
    out: list[Cause] = []
    for rule in model.traffic.traffic_rules:
        limits = rt.tight_limits(rule.circuit_breaker)
        if rule.circuit_breaker is None or not limits:
            continue
        params = {"dr": f"{rule.ref.namespace}/{rule.ref.name}", "rule": rule.circuit_breaker.path, "host": rule.host}
        params |= {"limits": ", ".join(f"{k}: {v}" for k, v in limits.items()), "name": rule.ref.name}
        params |= {"ns": rule.ref.namespace or "default", "observed": ""}
        out.append(Cause("istio-circuit-breaker", (rule.ref.with_rule(rule.circuit_breaker.path),), params))
    return out


def _gateway_findings(model: Model, gw: IstioGateway) -> list[Cause]:
    if not gw.selector or not model.pods:
        return []
    if any(all(p.labels.get(k) == v for k, v in gw.selector.items()) for p in model.pods.values()):
        return []
    selector = ", ".join(f"{k}={v}" for k, v in gw.selector.items())
    hosts = ", ".join(h for s in gw.servers for h in s.hosts) or "no hosts"
    params = {
        "gateway": f"{gw.ref.namespace}/{gw.ref.name}",
        "selector": selector,
        "selector_arg": ",".join(f"{k}={v}" for k, v in gw.selector.items()),
        "hosts": hosts,
    }
    return [Cause("istio-gateway-selector-no-match", (gw.ref.with_rule("selector"),), params)]


def _dr_hosts(model: Model, views: set[str]) -> list[Cause]:
    """A DestinationRule whose host is no Service or ServiceEntry configures nothing (the same lookups
    as a route destination: engines.istio_routing.check_destination)."""
    out: list[Cause] = []
    for rule in sorted(model.traffic.traffic_rules, key=lambda r: (r.ref.namespace or "", r.ref.name)):
        owner = rule.ref.namespace or "default"
        dest = RouteDestination(rule.host, None, None, 100, "spec.host")
        check = rt.check_destination(model.services, views, model.traffic, dest, owner, owner, {}, "")
        if check.problem != "unknown-host":
            continue
        key = f"{owner}/{rule.ref.name}"
        detail = (
            f"DestinationRule {key} spec.host {check.host} is neither a Service nor a ServiceEntry visible from "
            f"{owner}: its traffic policy and subsets apply to nothing"
        )
        params = {"vs": key, "rule": "spec.host", "host": check.host, "client_ns": owner, "suggest": ""}
        out.append(Cause("istio-destination-host-unknown", (rule.ref.with_rule("spec.host"),), params, detail))
    return out


def routing_findings(model: Model) -> list[Cause]:
    """Static routing problems mesh-wide: istio-subset-not-found, istio-destination-host-unknown,
    istio-gateway-selector-no-match. Namespaces absent from the view are not judged (never guess)."""
    views = set(model.namespaces) | set(model.pods_by_ns) | {s.namespace for s in model.services.values()}
    out: list[Cause] = []
    for vs in sorted(model.traffic.virtual_services, key=lambda v: (v.ref.namespace or "", v.ref.name)):
        out.extend(_vs_findings(model, vs, views))
        out.extend(_faults(vs))
    out.extend(_circuit_breakers(model))
    out.extend(_dr_hosts(model, views))
    out.extend(_dr_subsets(model, views))
    for gw in sorted(model.traffic.gateways, key=lambda g: (g.ref.namespace or "", g.ref.name)):
        out.extend(_gateway_findings(model, gw))
    return out


def _routing_check() -> Check:
    return Check(
        "istio.Routing",
        "routes to undefined subsets or unknown hosts, and Gateways whose selector matches no pod",
        ("VirtualService", "DestinationRule", "ServiceEntry", "Gateway", "Service", "Pod"),
        routing_findings,
    )


ROUTING = _routing_check()
