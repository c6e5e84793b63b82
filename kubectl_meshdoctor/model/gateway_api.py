"""Gateway API objects as the north-south walk reads them (issue 20, semantics-gateways.md Part G):
GatewayClass (who implements it), Gateway listeners (port, protocol, hostname, TLS mode,
allowedRoutes), HTTPRoute in full (matches, filters, weighted backendRefs, timeouts, status), the
other route kinds (only to see that they attach), and ReferenceGrant, as typed values (parsed in
gateway_api_parse.py). Rule paths follow the YAML (``rules[1].matches[0]``) so findings point at
their proof."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.selectors import Selector

GROUP = "gateway.networking.k8s.io"
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"})
KINDS = frozenset({"GatewayClass", "Gateway", "ReferenceGrant", "ListenerSet", "BackendTLSPolicy"} | ROUTE_KINDS)
ISTIO_CONTROLLER = "istio.io/gateway-controller"
CILIUM_CONTROLLER = "io.cilium/gateway-controller"


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApiListener:
    name: str
    port: int
    protocol: str  # HTTP | HTTPS | TLS | TCP | UDP
    hostname: str | None
    tls_mode: str | None  # Terminate | Passthrough | None (plain)
    allowed_from: str  # Same | All | Selector | None
    allowed_selector: Selector | None
    allowed_kinds: tuple[tuple[str, str], ...]  # (group, kind); empty = the protocol's defaults
    path: str  # "spec.listeners[0]"


@dataclass(frozen=True, slots=True)
class ApiGateway:
    ref: ObjectRef
    class_name: str
    listeners: tuple[ApiListener, ...]
    addresses: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    listener_conditions: tuple[tuple[str, tuple[Condition, ...]], ...] = ()  # status.listeners[] by name

    def listener_status(self, name: str) -> tuple[Condition, ...] | None:
        return next((c for n, c in self.listener_conditions if n == name), None)


@dataclass(frozen=True, slots=True)
class ParentRef:
    group: str
    kind: str
    namespace: str
    name: str
    section: str | None
    port: int | None
    path: str


@dataclass(frozen=True, slots=True)
class ValueMatch:
    type: str  # Exact | PathPrefix | RegularExpression
    name: str  # header / query parameter name ("" for the path)
    value: str


@dataclass(frozen=True, slots=True)
class RuleMatch:
    path: ValueMatch  # default PathPrefix "/"
    headers: tuple[ValueMatch, ...]
    query: tuple[ValueMatch, ...]
    method: str | None
    where: str  # "rules[0].matches[1]"
    grpc: tuple[str, str, str] | None = None  # GRPCRoute method match: (type, service, method); "" = any


@dataclass(frozen=True, slots=True)
class Filter:
    type: str  # RequestHeaderModifier | RequestRedirect | URLRewrite | ...
    config: dict[str, Any]  # the filter's own block (read by the engine for redirect/rewrite)
    where: str


@dataclass(frozen=True, slots=True)
class BackendRef:
    group: str
    kind: str
    namespace: str
    name: str
    port: int | None
    weight: int
    filters: tuple[Filter, ...]
    where: str


@dataclass(frozen=True, slots=True)
class ApiRule:
    index: int
    name: str | None
    matches: tuple[RuleMatch, ...]
    filters: tuple[Filter, ...]
    backends: tuple[BackendRef, ...]
    timeout_request: str | None
    timeout_backend: str | None
    where: str  # "rules[0]"


@dataclass(frozen=True, slots=True)
class RouteStatus:
    parent: str  # "ns/name" of the parent (sectionName appended as "ns/name/section")
    controller: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class ApiRoute:
    ref: ObjectRef
    parents: tuple[ParentRef, ...]
    hostnames: tuple[str, ...]
    rules: tuple[ApiRule, ...]
    created: str  # metadata.creationTimestamp ("" when absent)
    status: tuple[RouteStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class GrantFrom:
    group: str
    kind: str
    namespace: str


@dataclass(frozen=True, slots=True)
class ReferenceGrant:
    ref: ObjectRef
    sources: tuple[GrantFrom, ...]
    targets: tuple[tuple[str, str, str | None], ...]  # (group, kind, name or None)


@dataclass(slots=True)
class GatewayApiObjects:
    classes: dict[str, str] = field(default_factory=dict)  # class name -> controllerName
    class_refs: dict[str, ObjectRef] = field(default_factory=dict)
    gateways: list[ApiGateway] = field(default_factory=list)
    routes: list[ApiRoute] = field(default_factory=list)  # every route kind; ref.kind tells which
    grants: list[ReferenceGrant] = field(default_factory=list)
    unmodelled: list[ObjectRef] = field(default_factory=list)  # ListenerSet, BackendTLSPolicy
