"""Istio client-side routing (issue 7), pure: host -> VirtualService, request -> route,
destination -> registry host and DestinationRule subset, Sidecar egress scope and
outboundTrafficPolicy. What a sidecar (or a waypoint) does before the first byte leaves.

Traps handled:
* a VS/DR host without dots is relative to the *object's* namespace, not the client's;
  a host with dots is taken as written (``httpbin.blue`` is not expanded);
* a VS with ``gateways`` set and no ``mesh`` entry never applies to sidecars;
* ``exportTo`` (``*``, ``.``, namespaces) hides a VS/DR/ServiceEntry from other namespaces;
* the first matching http route wins; a route without ``match`` matches everything; within
  ``match`` the items are ORed and the fields of one item ANDed; uri regexes are full-match (RE2);
* no matching route -> Envoy 404 ``NR``; a subset no DestinationRule defines -> 503 ``NC``;
* a Sidecar ``egress.hosts`` scope or REGISTRY_ONLY sends unknown hosts to BlackHoleCluster (502).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubectl_meshdoctor.model.istio_export import effective, exported
from kubectl_meshdoctor.model.istio_routes import HttpRoute, RouteDestination, RouteMatch
from kubectl_meshdoctor.model.istio_traffic import (
    CircuitBreaker,
    ServiceEntry,
    SidecarScope,
    TrafficObjects,
    TrafficRule,
    VirtualService,
)
from kubectl_meshdoctor.model.objects import Service

DOMAIN = "svc.cluster.local"


def fqdn(host: str, namespace: str) -> str:
    """Istio ResolveShortnameToFQDN: only a name without dots is expanded, in the object's namespace."""
    if "." in host or host.startswith("*"):
        return host
    return f"{host}.{namespace}.{DOMAIN}"


def host_matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return pattern == host


def visible(
    export_to: Iterable[str],
    owner_ns: str | None,
    client_ns: str,
    kind: str = "VirtualService",
    defaults: Mapping[str, tuple[str, ...]] | None = None,
) -> bool:
    """Issue 11 §3: an object without exportTo takes the mesh default for its kind."""
    return exported(effective(export_to, kind, defaults or {}), owner_ns, client_ns)


def service_host(svc: Service) -> str:
    return f"{svc.name}.{svc.namespace}.{DOMAIN}"


def service_aliases(svc: Service, client_ns: str) -> set[str]:
    """The names a client may put in Host: Envoy's virtual host domains for a Service."""
    names = {service_host(svc), f"{svc.name}.{svc.namespace}.svc", f"{svc.name}.{svc.namespace}"}
    if svc.namespace == client_ns:
        names.add(svc.name)
    return names


def _vs_applies(vs: VirtualService, gateway: str) -> bool:
    gateways = vs.gateways or ("mesh",)
    ns = vs.ref.namespace or "default"
    return any(g == gateway or (gateway != "mesh" and fqdn_gw(g, ns) == gateway) for g in gateways)


def fqdn_gw(name: str, namespace: str) -> str:
    return name if "/" in name or name == "mesh" else f"{namespace}/{name}"


def find_virtual_service(
    traffic: TrafficObjects, host: str, aliases: set[str], client_ns: str, gateway: str = "mesh"
) -> tuple[VirtualService, str] | None:
    """The VS the proxy uses for ``host`` (FQDN) and its matching host entry; exact beats wildcard,
    then the client's namespace, then the host's own namespace (Istio's scoping preference)."""
    host_ns = host.split(".")[1] if host.endswith(DOMAIN) and host.count(".") >= 4 else ""
    found: list[tuple[tuple[int, int, str], VirtualService, str]] = []
    for vs in traffic.virtual_services:
        ns = vs.ref.namespace or "default"
        shown = visible(vs.export_to, ns, client_ns, "VirtualService", traffic.default_export)
        hidden = gateway == "mesh" and not shown
        if not _vs_applies(vs, gateway) or hidden:
            continue
        for h in vs.hosts:
            resolved = fqdn(h, ns)
            exact = resolved == host or h in aliases
            if exact or host_matches(resolved, host):
                rank = 0 if ns == client_ns else 1 if ns == host_ns else 2
                found.append(((0 if exact else 1, rank, f"{ns}/{vs.ref.name}"), vs, h))
                break
    if not found:
        return None
    _, vs, h = min(found, key=lambda x: x[0])
    return vs, h


@dataclass(frozen=True, slots=True)
class RouteRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    port: int
    client_labels: Mapping[str, str]
    client_ns: str
    gateway: str = "mesh"


def _match_one(m: RouteMatch, r: RouteRequest) -> bool:
    if m.uri is not None and not m.uri.matches(r.path.split("?")[0]):
        return False
    if m.method is not None and not m.method.matches(r.method):
        return False
    headers = {k.lower(): v for k, v in r.headers.items()}
    for name, sm in m.headers.items():
        if name not in headers or (sm is not None and not sm.matches(headers[name])):
            return False
    if any(name in headers for name in m.without_headers):
        return False
    if m.port is not None and m.port != r.port:
        return False
    if m.source_labels and any(r.client_labels.get(k) != v for k, v in m.source_labels.items()):
        return False
    if m.source_namespace is not None and m.source_namespace != r.client_ns:
        return False
    return not m.gateways or r.gateway in m.gateways


def match_route(routes: Iterable[HttpRoute], r: RouteRequest) -> tuple[HttpRoute, RouteMatch | None] | None:
    """The first route whose match list has an item that matches (empty list = catch-all)."""
    for route in routes:
        if not route.matches:
            return route, None
        for m in route.matches:
            if _match_one(m, r):
                return route, m
    return None


@dataclass(frozen=True, slots=True)
class DestinationCheck:
    dest: RouteDestination
    host: str  # FQDN
    problem: str | None  # None | "unknown-host" | "no-subset" | "not-in-view" | "not-exported"
    rule: TrafficRule | None  # the DestinationRule consulted for the subset
    entry: ServiceEntry | None = None


def service_entry_for(
    traffic: TrafficObjects, host: str | None, ip: str | None, client_ns: str, hidden: bool = False
) -> ServiceEntry | None:
    """The ServiceEntry visible from client_ns for host/ip (``hidden=True``: one that exportTo hides)."""
    for se in traffic.service_entries:
        if visible(se.export_to, se.ref.namespace, client_ns, "ServiceEntry", traffic.default_export) == hidden:
            continue
        if host and any(host_matches(h, host) for h in se.hosts):
            return se
        if ip:
            for cidr in se.addresses:
                try:
                    if ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False):
                        return se
                except ValueError:
                    continue
    return None


def traffic_rule_for(
    traffic: TrafficObjects, host: str, client_ns: str, client_labels: Mapping[str, str], root_ns: str
) -> TrafficRule | None:
    """A4 lookup: the client's namespace, then the host's namespace, then the root namespace (exportTo)."""
    host_ns = host.split(".")[1] if host.endswith(DOMAIN) else None
    for ns in dict.fromkeys(x for x in (client_ns, host_ns, root_ns) if x):
        best: TrafficRule | None = None
        for dr in traffic.traffic_rules:
            owner = dr.ref.namespace or "default"
            if owner != ns or not visible(dr.export_to, owner, client_ns, "DestinationRule", traffic.default_export):
                continue
            if dr.workload_selector and (
                owner != client_ns or any(client_labels.get(k) != v for k, v in dr.workload_selector.items())
            ):
                continue
            resolved = fqdn(dr.host, owner)
            if resolved == host:
                return dr
            if best is None and host_matches(resolved, host):
                best = dr
        if best is not None:
            return best
    return None


def check_destination(
    services: Mapping[str, Service],
    namespaces_in_view: set[str],
    traffic: TrafficObjects,
    dest: RouteDestination,
    owner_ns: str,
    client_ns: str,
    client_labels: Mapping[str, str],
    root_ns: str,
) -> DestinationCheck:
    host = fqdn(dest.host, owner_ns)
    parts = host.split(".")
    entry = service_entry_for(traffic, host, None, client_ns)
    if host.endswith("." + DOMAIN) and len(parts) == 5:
        svc = services.get(f"{parts[1]}/{parts[0]}")
        if svc is not None and entry is None and not service_visible(traffic, svc, client_ns):
            return DestinationCheck(dest, host, "not-exported", None)
        if svc is None and entry is None:
            if parts[1] not in namespaces_in_view:
                return DestinationCheck(dest, host, "not-in-view", None)
            hidden = service_entry_for(traffic, host, None, client_ns, hidden=True)
            return DestinationCheck(dest, host, "not-exported" if hidden else "unknown-host", None, hidden)
    elif entry is None:
        hidden = service_entry_for(traffic, host, None, client_ns, hidden=True)
        return DestinationCheck(dest, host, "not-exported" if hidden else "unknown-host", None, hidden)
    rule = traffic_rule_for(traffic, host, client_ns, client_labels, root_ns)
    if dest.subset is not None and (rule is None or all(s.name != dest.subset for s in rule.subsets)):
        return DestinationCheck(dest, host, "no-subset", rule, entry)
    return DestinationCheck(dest, host, None, rule, entry)


def service_visible(traffic: TrafficObjects, svc: Service, client_ns: str) -> bool:
    """Issue 11 §3: the Service's networking.istio.io/exportTo annotation (or the mesh default)."""
    return visible(svc.export_to, svc.namespace, client_ns, "Service", traffic.default_export)


def sidecar_for(traffic: TrafficObjects, labels: Mapping[str, str], ns: str, root_ns: str) -> SidecarScope | None:
    """The Sidecar that configures a workload: a selector match in its namespace, else the
    namespace-wide one, else the root namespace's namespace-wide one."""
    mine = [s for s in traffic.sidecars if (s.ref.namespace or "default") == ns]
    for s in mine:
        if s.selector and all(labels.get(k) == v for k, v in s.selector.items()):
            return s
    for s in mine:
        if not s.selector:
            return s
    return next((s for s in traffic.sidecars if s.ref.namespace == root_ns and not s.selector), None)


def egress_allows(scope: SidecarScope, host: str, host_ns: str, client_ns: str) -> str | None:
    """The ``egress.hosts`` entry that imports host (``ns/dnsName``), or None when hidden."""
    if scope.egress_hosts is None:
        return "(no egress section)"
    for entry in scope.egress_hosts:
        ns, _, name = entry.partition("/") if "/" in entry else ("*", "", entry)
        ns_ok = ns == "*" or (ns == "." and host_ns == client_ns) or ns == host_ns
        if ns_ok and host_matches(fqdn(name, host_ns) if name != "*" else "*", host):
            return entry
    return None


def tight_limits(cb: CircuitBreaker | None) -> dict[str, int]:
    """Settings that shed load under any concurrency (503 UO): pool limits of 1 or 0, or
    ejecting every host after a single 5xx."""
    if cb is None:
        return {}
    out = {k: v for k, v in cb.limits.items() if k.startswith("connectionPool") and "PerConnection" not in k and v <= 1}
    if (
        cb.limits.get("outlierDetection.consecutive5xxErrors", 99) <= 1
        and cb.limits.get("outlierDetection.maxEjectionPercent", 10) >= 100
    ):
        out["outlierDetection.consecutive5xxErrors"] = cb.limits["outlierDetection.consecutive5xxErrors"]
    return out


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    """What the routing hop decided, kept on the Call for evidence (timeout, circuit breaker)."""

    host: str
    vs: VirtualService | None = None
    route: HttpRoute | None = None
    rule: TrafficRule | None = None  # the DestinationRule for the destination host
