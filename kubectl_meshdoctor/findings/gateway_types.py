"""What a gateway on the path did with the request (issue 20): the listener that took it, the route
and rule that matched, what the gateway answered itself, and the backends that answer, with their
share of the traffic. Plain values, so the JSON and text renderers need no engine types."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackendAnswer:
    kind: str
    namespace: str
    name: str
    port: int | None
    weight: int
    share: float  # of the matched rule's traffic, 0..1
    problem: str | None = None  # ResolvedRefs reason when the gateway cannot use it (it answers 500)
    why: str = ""


@dataclass(frozen=True, slots=True)
class GatewayAnswer:
    kind: str  # Gateway (Gateway API) | Gateway (Istio)
    namespace: str
    name: str
    gateway_class: str | None
    controller: str | None
    implementation: str  # istio | cilium | unknown
    listener: str | None
    port: int | None
    protocol: str | None
    hostname: str | None
    tls: str | None  # Terminate | Passthrough | None
    route: str | None = None  # "HTTPRoute ns/name"
    rule: str | None = None  # "spec.rules[1]"
    rule_name: str | None = None
    match: str | None = None  # "spec.rules[1].matches[0]"
    status: int | None = None  # what the gateway answers itself (404, 500, 3xx); None = a backend answers
    location: str | None = None  # a redirect's Location
    backends: tuple[BackendAnswer, ...] = ()
    filters: tuple[str, ...] = ()  # "URLRewrite spec.rules[0].filters[0]"
    timeouts: tuple[tuple[str, str], ...] = ()  # ("request", "10s")
    forwarded_path: str | None = None  # the path the backend receives (after rewrites)
    forwarded_host: str | None = None

    @property
    def answering(self) -> tuple[BackendAnswer, ...]:
        """The backends that answer some requests (valid, weight > 0)."""
        return tuple(b for b in self.backends if b.share > 0 and b.problem is None)


@dataclass(frozen=True, slots=True)
class MeshRouteAnswer:
    """GAMMA (issue 20 §3): the HTTPRoute attached to the called Service, with the route, rule and
    backend fields a gateway's answer has; ``applied`` False when no proxy applies it (an ambient
    client without a waypoint, or a VirtualService that wins for this client)."""

    parent: str  # "Service ns/name"
    applied: bool
    applied_by: str  # "sidecar" | "waypoint NS/NAME" | "none"
    reason: str = ""  # why it is not applied, or which object it won against
    route: str | None = None  # "HTTPRoute ns/name"
    rule: str | None = None
    rule_name: str | None = None
    match: str | None = None
    status: int | None = None  # what the proxy answers itself (404, 500, 3xx); None = a backend answers
    location: str | None = None
    backends: tuple[BackendAnswer, ...] = ()
    filters: tuple[str, ...] = ()
    timeouts: tuple[tuple[str, str], ...] = ()
    forwarded_path: str | None = None
    forwarded_host: str | None = None

    @property
    def answering(self) -> tuple[BackendAnswer, ...]:
        """The backends that answer some requests (valid, weight above 0) when the route applies."""
        return tuple(b for b in self.backends if b.share > 0 and b.problem is None) if self.applied else ()
