"""Istio traffic management objects as typed values (issue 7): VirtualService, full DestinationRule
(subsets, connectionPool, outlierDetection), ServiceEntry, Sidecar, Istio Gateway, Gateway API
Gateway/HTTPRoute, and the mesh config's outboundTrafficPolicy. Rule paths follow the YAML
(``http[1].fault.abort``) so findings point at their proof."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.istio_routes import (
    HttpRoute,
    RouteDestination,
    RouteMatch,
    StringMatch,
    as_dict,
    as_list,
    destinations,
    http_route,
    labels_of,
    seconds,
    strs,
)

ISTIO_NETWORKING = "networking.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"
TRAFFIC_KINDS = frozenset({"VirtualService", "ServiceEntry", "Sidecar", "Gateway", "HTTPRoute"})


@dataclass(frozen=True, slots=True)
class VirtualService:
    ref: ObjectRef
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]  # empty = ("mesh",)
    export_to: tuple[str, ...]
    http: tuple[HttpRoute, ...]
    tcp_destinations: tuple[RouteDestination, ...] = ()
    created: str = ""  # metadata.creationTimestamp; orders public routes against GAMMA routes (GB8)


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    limits: Mapping[str, int]  # "connectionPool.http.http1MaxPendingRequests" -> 1
    path: str


@dataclass(frozen=True, slots=True)
class Subset:
    name: str
    labels: Mapping[str, str]
    path: str  # "subsets[0]"


@dataclass(frozen=True, slots=True)
class TrafficRule:
    """The routing side of a DestinationRule (its TLS side is model.istio.DestinationRule)."""

    ref: ObjectRef
    host: str
    export_to: tuple[str, ...]
    subsets: tuple[Subset, ...]
    circuit_breaker: CircuitBreaker | None
    workload_selector: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    ref: ObjectRef
    hosts: tuple[str, ...]
    addresses: tuple[str, ...]
    ports: tuple[int, ...]
    export_to: tuple[str, ...]
    location: str  # MESH_EXTERNAL | MESH_INTERNAL
    resolution: str = "NONE"  # NONE | STATIC | DNS | DNS_ROUND_ROBIN (issue 20 §5: NONE loops at an egress gateway)
    port_protocols: Mapping[int, str] = field(default_factory=dict)  # number -> HTTP | HTTPS | TLS | TCP ...


@dataclass(frozen=True, slots=True)
class SidecarScope:
    ref: ObjectRef
    selector: Mapping[str, str] | None
    egress_hosts: tuple[str, ...] | None  # None = no egress section (everything visible)
    outbound_policy: str | None  # REGISTRY_ONLY | ALLOW_ANY | None (mesh default)


@dataclass(frozen=True, slots=True)
class GatewayServer:
    port: int
    hosts: tuple[str, ...]
    path: str


@dataclass(frozen=True, slots=True)
class IstioGateway:
    ref: ObjectRef
    selector: Mapping[str, str]
    servers: tuple[GatewayServer, ...]


@dataclass(frozen=True, slots=True)
class Listener:
    name: str
    port: int
    hostname: str | None
    allowed_from: str  # Same | All | Selector
    path: str


@dataclass(frozen=True, slots=True)
class KubeGateway:
    ref: ObjectRef
    class_name: str
    listeners: tuple[Listener, ...]
    labels: Mapping[str, str] = field(default_factory=dict)  # istio.io/waypoint-for on waypoints


@dataclass(frozen=True, slots=True)
class KubeHTTPRoute:
    ref: ObjectRef
    parents: tuple[tuple[str, str, str | None], ...]  # (namespace, name, sectionName)
    hostnames: tuple[str, ...]
    rules: tuple[HttpRoute, ...]


@dataclass(slots=True)
class TrafficObjects:
    virtual_services: list[VirtualService] = field(default_factory=list)
    traffic_rules: list[TrafficRule] = field(default_factory=list)
    service_entries: list[ServiceEntry] = field(default_factory=list)
    sidecars: list[SidecarScope] = field(default_factory=list)
    gateways: list[IstioGateway] = field(default_factory=list)
    kube_gateways: list[KubeGateway] = field(default_factory=list)
    http_routes: list[KubeHTTPRoute] = field(default_factory=list)
    outbound_policy: str = "ALLOW_ANY"
    outbound_ref: ObjectRef | None = None
    # meshConfig defaultServiceExportTo / defaultVirtualServiceExportTo / defaultDestinationRuleExportTo
    default_export: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def parse_vs(doc: dict[str, Any], ref: ObjectRef) -> VirtualService:
    spec = as_dict(doc.get("spec"))
    tcp = tuple(
        d for i, r in enumerate(as_list(spec.get("tcp"))) for d in destinations(as_dict(r).get("route"), f"tcp[{i}]")
    )
    return VirtualService(
        ref,
        strs(spec.get("hosts")),
        strs(spec.get("gateways")),
        strs(spec.get("exportTo")),
        tuple(http_route(r, i) for i, r in enumerate(as_list(spec.get("http")))),
        tcp,
        str(as_dict(doc.get("metadata")).get("creationTimestamp") or ""),
    )


_CB_FIELDS = (
    ("connectionPool.tcp.maxConnections", "tcp", "maxConnections"),
    ("connectionPool.http.http1MaxPendingRequests", "http", "http1MaxPendingRequests"),
    ("connectionPool.http.http2MaxRequests", "http", "http2MaxRequests"),
    ("connectionPool.http.maxRequestsPerConnection", "http", "maxRequestsPerConnection"),
)


def _circuit_breaker(policy: dict[str, Any], base: str) -> CircuitBreaker | None:
    limits: dict[str, int] = {}
    pool = as_dict(policy.get("connectionPool"))
    for name, section, key in _CB_FIELDS:
        value = as_dict(pool.get(section)).get(key)
        if value is not None and str(value).lstrip("-").isdigit():
            limits[name] = int(value)
    outlier = as_dict(policy.get("outlierDetection"))
    for key in ("consecutive5xxErrors", "consecutiveGatewayErrors", "maxEjectionPercent"):
        if outlier.get(key) is not None and str(outlier[key]).isdigit():
            limits[f"outlierDetection.{key}"] = int(outlier[key])
    return CircuitBreaker(limits, f"{base}trafficPolicy") if limits else None


def parse_traffic_rule(doc: dict[str, Any], ref: ObjectRef) -> TrafficRule:
    spec = as_dict(doc.get("spec"))
    subsets = tuple(
        Subset(str(as_dict(s).get("name") or ""), labels_of(as_dict(s).get("labels")) or {}, f"subsets[{i}]")
        for i, s in enumerate(as_list(spec.get("subsets")))
    )
    return TrafficRule(
        ref,
        str(spec.get("host") or ""),
        strs(spec.get("exportTo")),
        subsets,
        _circuit_breaker(as_dict(spec.get("trafficPolicy")), ""),
        labels_of(as_dict(spec.get("workloadSelector")).get("matchLabels")),
    )


def _parse_se(doc: dict[str, Any], ref: ObjectRef) -> ServiceEntry:
    spec = as_dict(doc.get("spec"))
    ports = tuple(int(as_dict(p)["number"]) for p in as_list(spec.get("ports")) if as_dict(p).get("number") is not None)
    return ServiceEntry(
        ref,
        strs(spec.get("hosts")),
        strs(spec.get("addresses")),
        ports,
        strs(spec.get("exportTo")),
        str(spec.get("location") or "MESH_EXTERNAL"),
        str(spec.get("resolution") or "NONE").upper(),
        {
            int(as_dict(p)["number"]): str(as_dict(p).get("protocol") or "").upper()
            for p in as_list(spec.get("ports"))
            if str(as_dict(p).get("number", "")).isdigit()
        },
    )


def _parse_sidecar(doc: dict[str, Any], ref: ObjectRef) -> SidecarScope:
    spec = as_dict(doc.get("spec"))
    egress = spec.get("egress")
    hosts = tuple(h for e in as_list(egress) for h in strs(as_dict(e).get("hosts"))) if egress is not None else None
    mode = as_dict(spec.get("outboundTrafficPolicy")).get("mode")
    return SidecarScope(
        ref, labels_of(as_dict(spec.get("workloadSelector")).get("labels")), hosts, str(mode).upper() if mode else None
    )


def _parse_istio_gateway(doc: dict[str, Any], ref: ObjectRef) -> IstioGateway:
    spec = as_dict(doc.get("spec"))
    servers = tuple(
        GatewayServer(
            int(as_dict(as_dict(s).get("port")).get("number") or 0), strs(as_dict(s).get("hosts")), f"servers[{i}]"
        )
        for i, s in enumerate(as_list(spec.get("servers")))
    )
    return IstioGateway(ref, labels_of(spec.get("selector")) or {}, servers)


def _parse_kube_gateway(doc: dict[str, Any], ref: ObjectRef) -> KubeGateway:
    spec = as_dict(doc.get("spec"))
    listeners = tuple(
        Listener(
            str(as_dict(x).get("name") or ""),
            int(as_dict(x).get("port") or 0),
            str(as_dict(x)["hostname"]) if as_dict(x).get("hostname") else None,
            str(as_dict(as_dict(as_dict(x).get("allowedRoutes")).get("namespaces")).get("from") or "Same"),
            f"listeners[{i}]",
        )
        for i, x in enumerate(as_list(spec.get("listeners")))
    )
    labels = labels_of(as_dict(doc.get("metadata")).get("labels")) or {}
    return KubeGateway(ref, str(spec.get("gatewayClassName") or ""), listeners, labels)


def _parse_kube_route(doc: dict[str, Any], ref: ObjectRef) -> KubeHTTPRoute:
    spec = as_dict(doc.get("spec"))
    ns = ref.namespace or "default"
    parents = tuple(
        (str(as_dict(p).get("namespace") or ns), str(as_dict(p).get("name") or ""), as_dict(p).get("sectionName"))
        for p in as_list(spec.get("parentRefs"))
    )
    rules = []
    for i, rule in enumerate(as_list(spec.get("rules"))):
        rule = as_dict(rule)
        matches = []
        for k, m in enumerate(as_list(rule.get("matches"))):
            m = as_dict(m)
            p = as_dict(m.get("path"))
            kind = {"Exact": "exact", "PathPrefix": "prefix", "RegularExpression": "regex"}.get(str(p.get("type")))
            uri = StringMatch(kind or "prefix", str(p.get("value") or "/")) if p else None
            method = StringMatch("exact", str(m["method"])) if m.get("method") else None
            headers = {
                str(as_dict(h).get("name", "")).lower(): StringMatch("exact", str(as_dict(h).get("value")))
                for h in as_list(m.get("headers"))
            }
            matches.append(RouteMatch(f"rules[{i}].matches[{k}]", uri, method, headers))
        backends = tuple(
            RouteDestination(
                f"{as_dict(b).get('name')}.{as_dict(b).get('namespace') or ns}.svc.cluster.local",
                None,
                int(as_dict(b)["port"]) if as_dict(b).get("port") is not None else None,
                int(as_dict(b).get("weight", 1)),
                f"rules[{i}].backendRefs[{j}]",
            )
            for j, b in enumerate(as_list(rule.get("backendRefs")))
        )
        rules.append(
            HttpRoute(
                i, None, tuple(matches), backends, timeout_seconds=seconds(as_dict(rule.get("timeouts")).get("request"))
            )
        )
    return KubeHTTPRoute(ref, parents, strs(spec.get("hostnames")), tuple(rules))


def add_traffic_object(traffic: TrafficObjects, doc: dict[str, Any], ref: ObjectRef) -> bool:
    """Parse one traffic object into ``traffic``; False when the kind/group is not one of ours."""
    kind = str(doc.get("kind"))
    group = str(doc.get("apiVersion") or "").split("/")[0]
    if group == ISTIO_NETWORKING:
        if kind == "VirtualService":
            traffic.virtual_services.append(parse_vs(doc, ref))
        elif kind == "ServiceEntry":
            traffic.service_entries.append(_parse_se(doc, ref))
        elif kind == "Sidecar":
            traffic.sidecars.append(_parse_sidecar(doc, ref))
        elif kind == "Gateway":
            traffic.gateways.append(_parse_istio_gateway(doc, ref))
        elif kind == "DestinationRule":
            traffic.traffic_rules.append(parse_traffic_rule(doc, ref))
        else:
            return False
        return True
    if group == GATEWAY_API and kind in ("Gateway", "HTTPRoute"):
        if kind == "Gateway":
            traffic.kube_gateways.append(_parse_kube_gateway(doc, ref))
        else:
            traffic.http_routes.append(_parse_kube_route(doc, ref))
        return True
    return False


def outbound_policy(mesh_text: str) -> str:
    """meshConfig.outboundTrafficPolicy.mode (default ALLOW_ANY)."""
    import yaml

    from kubectl_meshdoctor.model import yamlcore

    try:
        raw = yamlcore.load(mesh_text) or {}
    except yaml.YAMLError:
        return "ALLOW_ANY"
    mode = as_dict(as_dict(raw).get("outboundTrafficPolicy")).get("mode")
    return str(mode).upper() if mode else "ALLOW_ANY"
