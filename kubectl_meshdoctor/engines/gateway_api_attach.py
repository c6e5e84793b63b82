"""Which listener of a Gateway takes a request, and which routes attach to it (semantics-gateways.md
G2-G4): listener isolation by hostname, parentRef sectionName/port, allowedRoutes namespaces and
kinds, route hostnames intersecting the listener's. Pure functions over the typed objects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kubectl_meshdoctor.model.gateway_api import GROUP, ApiGateway, ApiListener, ApiRoute, ParentRef

NsLabels = Callable[[str], Mapping[str, str]]

# allowedRoutes.kinds when the listener names none: what its protocol carries
DEFAULT_KINDS: Mapping[str, tuple[str, ...]] = {
    "HTTP": ("HTTPRoute", "GRPCRoute"),
    "HTTPS": ("HTTPRoute", "GRPCRoute"),
    "TLS": ("TLSRoute",),
    "TCP": ("TCPRoute",),
    "UDP": ("UDPRoute",),
}


def host_matches(pattern: str, host: str) -> bool:
    """A Gateway API hostname: exact, or `*.suffix` = one or more labels before `.suffix` (never the
    suffix itself). Case-insensitive; a port in the Host header is ignored."""
    pattern, host = pattern.lower(), host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def intersects(a: str, b: str) -> bool:
    """Do two hostnames (either may be a wildcard) admit a common host?"""
    if a.startswith("*.") and b.startswith("*."):
        return a.endswith(b[1:]) or b.endswith(a[1:])
    if a.startswith("*."):
        return host_matches(a, b)
    if b.startswith("*."):
        return host_matches(b, a)
    return a.lower() == b.lower()


def specificity(hostname: str | None) -> tuple[int, int]:
    """Listener and route hostname precedence: exact over wildcard, then the longer name."""
    if not hostname:
        return (0, 0)
    return (0 if hostname.startswith("*") else 1, len(hostname))


def listeners_for(gw: ApiGateway, port: int | None, host: str | None) -> list[ApiListener]:
    """Listeners on this port whose hostname admits host, most specific first (listener isolation:
    only the first one serves the request)."""
    on_port = [x for x in gw.listeners if port is None or x.port == port]
    fits = [x for x in on_port if x.hostname is None or (host is not None and host_matches(x.hostname, host))]
    return sorted(fits, key=lambda x: specificity(x.hostname), reverse=True)


@dataclass(frozen=True, slots=True)
class Attachment:
    route: ApiRoute
    parent: ParentRef | None
    accepted: bool
    reason: str  # Accepted | NotAllowedByListeners | NoMatchingListenerHostname | NoMatchingParent
    hostnames: tuple[str, ...]  # the route's hostnames that intersect the listener's ("" = any)


def _refers(p: ParentRef, gw: ApiGateway) -> bool:
    return (
        p.group == GROUP
        and p.kind == "Gateway"
        and p.name == gw.ref.name
        and p.namespace == (gw.ref.namespace or "default")
    )


def kind_allowed(route: ApiRoute, listener: ApiListener) -> bool:
    if listener.allowed_kinds:
        return any(k == route.ref.kind and g in (GROUP, "") for g, k in listener.allowed_kinds)
    return route.ref.kind in DEFAULT_KINDS.get(listener.protocol, ())


def namespace_allowed(route: ApiRoute, gw: ApiGateway, listener: ApiListener, ns_labels: NsLabels) -> bool:
    ns = route.ref.namespace or "default"
    if listener.allowed_from == "All":
        return True
    if listener.allowed_from == "Selector":
        return listener.allowed_selector is not None and listener.allowed_selector.matches(ns_labels(ns))
    if listener.allowed_from == "Same":
        return ns == (gw.ref.namespace or "default")
    return False  # None


def _route_hosts(route: ApiRoute, listener: ApiListener) -> tuple[str, ...]:
    if not route.hostnames:
        return ("",)
    if listener.hostname is None:
        return route.hostnames
    return tuple(h for h in route.hostnames if intersects(h, listener.hostname))


def attach(route: ApiRoute, gw: ApiGateway, listener: ApiListener, ns_labels: NsLabels) -> Attachment:
    """Does ``route`` attach to ``listener`` of ``gw``? The reason names the first rule that fails,
    in the order status conditions report them."""
    refs = [p for p in route.parents if _refers(p, gw)]
    fitting = [
        p
        for p in refs
        if (p.section is None or p.section == listener.name) and (p.port is None or p.port == listener.port)
    ]
    if not fitting:
        return Attachment(route, refs[0] if refs else None, False, "NoMatchingParent", ())
    parent = fitting[0]
    if not kind_allowed(route, listener) or not namespace_allowed(route, gw, listener, ns_labels):
        return Attachment(route, parent, False, "NotAllowedByListeners", ())
    hosts = _route_hosts(route, listener)
    if not hosts:
        return Attachment(route, parent, False, "NoMatchingListenerHostname", ())
    return Attachment(route, parent, True, "Accepted", hosts)


def parent_status(route: ApiRoute, gw: ApiGateway, parent: ParentRef, ns_labels: NsLabels) -> str:
    """The Accepted reason of ``route`` for one parentRef to ``gw`` across all its listeners (what
    `check` compares with the route's status): Accepted if any listener takes it."""
    listeners = [x for x in gw.listeners if (parent.section in (None, x.name)) and (parent.port in (None, x.port))]
    if not listeners:
        return "NoMatchingParent"
    results = [
        attach(ApiRoute(route.ref, (parent,), route.hostnames, route.rules, route.created), gw, x, ns_labels)
        for x in listeners
    ]
    if any(a.accepted for a in results):
        return "Accepted"
    if any(a.reason == "NoMatchingListenerHostname" for a in results):
        return "NoMatchingListenerHostname"
    return "NotAllowedByListeners"
