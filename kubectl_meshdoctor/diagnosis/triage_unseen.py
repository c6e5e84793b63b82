"""What triage cannot see: answers Istio's own proxies give (issue 19, observed-first).

Hubble records what Cilium sees: packets, policy verdicts, and HTTP only where Cilium's own proxy
parses it. A sidecar's, waypoint's or Istio gateway's own answer never crosses Cilium as a failure
(hubble-api.md §9.3-9.4, semantics.md "Hubble never shows Istio's 403/503"): a VirtualService
fault, a route miss (404 NR), a subset or host Envoy has no cluster for (503 NC/UH), a
connection-pool overflow (503 UO), a client-side timeout (504), an egress scope (502), an Istio
AuthorizationPolicy (403 from the server's sidecar or a waypoint), a host a gateway does not bind
(404), a Service with no ready endpoint (503 UH). Such a call leaves no failing flow, so triage
cannot list it; it names instead the objects in scope that can make Istio's proxies answer
themselves, for ``explain`` to decide call by call. (Where Cilium's HTTP proxy does parse the port,
plaintext behind PeerAuthentication DISABLE, a server sidecar's 403 passes it and is listed as a
failing call: naming its object here too costs nothing.)

Scope: every namespace (``-A``); else the asked ones, Istio's root namespace (mesh-wide Sidecars,
AuthorizationPolicies, gateways live there), the VirtualServices, DestinationRules and
ServiceEntries exported to the asked namespaces and the GAMMA producer routes (their clients' proxies
apply them; a consumer route only its own namespace's). Server-side
objects of other namespaces are left to ``-A``. Live, the objects triage read: the namespaces the
failures touch, or with no failure only ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kubectl_meshdoctor.engines.istio_routing import visible
from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.objects import Service
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model

__all__ = ["KINDS", "Unseen", "unseen"]

ANSWERS = {
    "VirtualService": "its routes, in the client's sidecar, a waypoint or a gateway: no matching route 404, "
    "a host or subset with no cluster or no endpoint 503, fault aborts, timeouts 504",
    "DestinationRule": "subsets without ready endpoints 503, connection-pool overflow 503 (UO), "
    "TLS the server does not accept 503",
    "Sidecar": "hosts outside its egress scope: 502 with REGISTRY_ONLY, else passed through without mesh routing",
    "AuthorizationPolicy": "403 from the server's sidecar or a waypoint, or the connection closed by ztunnel",
    "Gateway": "hosts and routes the gateway does not serve: 404 at the gateway",
    "waypoint": "a waypoint: the policies and routes bound to it answer there (403, 404, 503)",
    "HTTPRoute": "requests no rule matches 404, backends the gateway may not reach 500",
    "mesh route": "a mesh route (GAMMA) Istio applies in the client's sidecar or the Service's waypoint: "
    "a request no rule matches 404, backends it cannot use 500 or 503",
    "Route": "connections no rule routes, or to backends the gateway may not reach, closed at the gateway",
    "ServiceEntry": "the hosts it declares: a port, address or resolution Envoy cannot use answers 502 or 503 "
    "in the client's sidecar",
    "Service": "its exportTo hides it from other namespaces: 502 or 503 from the client's sidecar",
    "no endpoints": "no ready endpoint: a client's sidecar answers 503 (no healthy upstream, UH); without a "
    "sidecar the connection is refused or dropped, which Hubble shows",
    "ConfigMap": "outboundTrafficPolicy REGISTRY_ONLY: hosts outside the registry get 502 from every sidecar",
}
# what a live triage with no failing flow reads to name them (Services are left out: listing every
# Service and EndpointSlice costs what the failures-only read saves)
KINDS = frozenset({"VirtualService", "DestinationRule", "ServiceEntry", "Sidecar", "AuthorizationPolicy", "Gateway",
                   "HTTPRoute", "GatewayClass"})  # fmt: skip
# applied by the client's proxy wherever they live (exportTo, or a producer route: every client)
CLIENT_SIDE = ("VirtualService", "DestinationRule", "ServiceEntry", "HTTPRoute")
WAYPOINT_CLASS = "istio-waypoint"


@dataclass(frozen=True, slots=True)
class Unseen:
    """An object that can make Istio's proxies answer a request themselves, out of Hubble's sight."""

    ref: ObjectRef
    answers: str


def _istio_class(model: Model, class_name: str) -> bool:
    controller = model.gateway_api.classes.get(class_name, "")
    return controller.startswith("istio.io/") if controller else class_name.startswith("istio")


def _ready(model: Model, svc: Service) -> bool:
    """Has the Service a ready endpoint (EndpointSlices when read, else its pods' readiness)?"""
    pods = pods_for_service(model, svc)
    if svc.ready_pods is not None:
        return any(p.key() in svc.ready_pods for p in pods)
    return any(p.ready for p in pods)


def _route_answers(kind: str) -> str:
    return ANSWERS["HTTPRoute" if kind in ("HTTPRoute", "GRPCRoute") else "Route"]


def _found(model: Model) -> Iterator[tuple[ObjectRef, str, tuple[str, ...] | None]]:
    """(object, what it can answer, its exportTo for client-side objects)."""
    traffic = model.traffic
    yield from ((vs.ref, ANSWERS["VirtualService"], vs.export_to) for vs in traffic.virtual_services)
    yield from ((dr.ref, ANSWERS["DestinationRule"], dr.export_to) for dr in traffic.traffic_rules)
    yield from ((dr.ref, ANSWERS["DestinationRule"], dr.export_to) for dr in model.istio.dest_rules)
    yield from ((se.ref, ANSWERS["ServiceEntry"], se.export_to) for se in traffic.service_entries)
    yield from ((sc.ref, ANSWERS["Sidecar"], None) for sc in traffic.sidecars)
    yield from ((ap.ref, ANSWERS["AuthorizationPolicy"], None) for ap in model.istio.authz)
    yield from ((gw.ref, ANSWERS["Gateway"], None) for gw in traffic.gateways)
    istio = {(g.ref.namespace, g.ref.name): g.class_name for g in traffic.kube_gateways}
    istio.update({(g.ref.namespace, g.ref.name): g.class_name for g in model.gateway_api.gateways})
    istio = {key: name for key, name in istio.items() if _istio_class(model, name)}
    refs = [g.ref for g in model.gateway_api.gateways] + [g.ref for g in traffic.kube_gateways]
    for ref in refs:
        name = istio.get((ref.namespace, ref.name))
        if name is not None:
            yield ref, ANSWERS["waypoint" if name == WAYPOINT_CLASS else "Gateway"], None
    for route in model.gateway_api.routes:
        if any(p.kind == "Gateway" and (p.namespace, p.name) in istio for p in route.parents):
            yield route.ref, _route_answers(route.ref.kind), None
        elif route.ref.kind == "HTTPRoute" and any(p.group == "" and p.kind == "Service" for p in route.parents):
            # GAMMA: a producer route (beside its Service) applies to every client, a consumer route
            # to its own namespace's clients
            producer = any(p.kind == "Service" and p.namespace == route.ref.namespace for p in route.parents)
            yield route.ref, ANSWERS["mesh route"], ("*",) if producer else None
    if traffic.outbound_policy == "REGISTRY_ONLY" and traffic.outbound_ref is not None:
        yield traffic.outbound_ref, ANSWERS["ConfigMap"], None


def _services(model: Model, scope: set[str] | None) -> Iterator[tuple[ObjectRef, str, None]]:
    """Services hidden by exportTo, or without a ready endpoint (the scope first: that costs a lookup)."""
    for svc in model.services.values():
        if scope is not None and svc.namespace not in scope:
            continue
        if svc.export_to:
            yield svc.ref(), ANSWERS["Service"], None
        elif svc.selector and svc.type != "ExternalName" and not _ready(model, svc):
            yield svc.ref(), ANSWERS["no endpoints"], None


def _in_scope(model: Model, ref: ObjectRef, export_to: tuple[str, ...] | None, scope: set[str]) -> bool:
    if ref.namespace is None or ref.namespace in scope or ref.namespace == model.istio.mesh.root_namespace:
        return True
    if ref.kind not in CLIENT_SIDE or export_to is None:
        return False
    defaults = model.traffic.default_export
    return any(visible(export_to, ref.namespace, ns, ref.kind, defaults) for ns in scope)


def unseen(model: Model, namespaces: Iterable[str] | None) -> list[Unseen]:
    """The objects in scope that can make Istio's proxies answer requests themselves, sorted.

    Scope: all (None); else objects in the namespaces, in Istio's root namespace, or applied by
    their clients' proxies (VirtualServices and DestinationRules exported to them)."""
    scope = None if namespaces is None else set(namespaces)
    out: dict[tuple[str, str | None, str], Unseen] = {}
    for ref, answers, export_to in [*_found(model), *_services(model, scope)]:
        if scope is None or _in_scope(model, ref, export_to, scope):
            out.setdefault(ref.key_tuple(), Unseen(ref.with_rule(None), answers))
    order = list(ANSWERS)
    return sorted(out.values(), key=lambda u: (order.index(u.ref.kind) if u.ref.kind in order else len(order),
                                               u.ref.namespace or "", u.ref.name))  # fmt: skip
