"""GAMMA routes that Cilium, not Istio, would apply (issue 20 §3; semantics-gateways.md M4, GB10, GB11).

* GB10: Cilium implements producer routes only (the route in the Service's namespace). A route in the
  client's namespace whose parent is a Service of another namespace (a consumer route) gets no effect
  from Cilium, and Istio routes only clients in its mesh: for a client outside the Istio mesh in a
  Cilium cluster, such a route is not applied and the call goes to the Service unrouted
  (`gamma-consumer-route-unsupported`). Istio implements consumer routes for its sidecar clients (the
  near miss, diagnosis/gamma_route.py).
* GB11: a route only Cilium's controller reports on (its status names Cilium's controller for the
  Service and not Istio's) is applied by Cilium at the Service frontend; a sidecar or ambient client
  connects to a pod (or to 15008), not to the Service address, so the route likely does not apply to it
  [inferred]: the routing hop is `unknown` with `gamma-bypassed-by-mesh-client`, never a silent pass.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.routing_hop import HOP
from kubectl_meshdoctor.findings.gateway_types import MeshRouteAnswer
from kubectl_meshdoctor.findings.types import Cause, Decision, HopResult, Mesh, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.gateway_api import CILIUM_CONTROLLER, ISTIO_CONTROLLER, ApiRoute
from kubectl_meshdoctor.model.objects import Service

INFERRED = "[inferred]"


def _key(r: ApiRoute) -> str:
    return f"{r.ref.namespace}/{r.ref.name}"


def _unknown(call: Call, detail: str, causes: tuple[Cause, ...], by: tuple[ObjectRef, ...]) -> HopResult:
    if detail not in call.gaps:
        call.gaps.append(detail)  # what the routing hop could not decide is a gap of the call
    return HopResult(HOP, Decision.UNKNOWN, by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, causes, gaps=(detail,))


def consumer_cause(routes: list[ApiRoute], svc: Service, client_ns: str) -> Cause:
    names = ", ".join(_key(r) for r in routes)
    params = {"routes": names, "service": f"{svc.namespace}/{svc.name}", "client_ns": client_ns}
    return Cause("gamma-consumer-route-unsupported", tuple(r.ref for r in routes), params)


def outside_mesh_hop(call: Call, svc: Service, routes: list[ApiRoute]) -> HopResult | None:
    """A client outside the Istio mesh, in a Cilium cluster, with consumer routes in its namespace
    (GB10). None when the client's namespace has no consumer route for the Service."""
    client_ns = call.client.namespace
    consumer = [r for r in routes if r.ref.namespace == client_ns and client_ns != svc.namespace]
    if not consumer or not call.model.cilium_config.present:
        return None
    key = f"{svc.namespace}/{svc.name}"
    cause = consumer_cause(consumer, svc, client_ns)
    names = cause.params["routes"]
    producer = [r for r in routes if r.ref.namespace == svc.namespace]
    lead = (
        f"consumer HTTPRoute(s) {names} (namespace {client_ns}) attach to Service {key}: Istio does not route a "
        "client outside its mesh and Cilium's GAMMA applies producer routes only, so they are not applied"
    )
    parent, route = f"Service {key}", f"HTTPRoute {names}"
    call.mesh_route = MeshRouteAnswer(parent, False, "none", "Cilium's GAMMA ignores consumer routes", route=route)
    if producer:
        others = ", ".join(_key(r) for r in producer)
        detail = f"{lead}; whether Cilium's GAMMA applies the producer route(s) {others} is not evaluated"
        return _unknown(call, detail, (cause,), tuple(r.ref for r in producer))
    detail = f"{lead}; the call goes to the Service unrouted"
    return HopResult(HOP, Decision.ALLOW, cause.objects, detail, causes=(cause,))


def _cilium_only(route: ApiRoute, svc: Service) -> bool:
    """The route's status names Cilium's controller for this Service parent and not Istio's."""
    keys = {f"{svc.namespace}/{svc.name}"} | ({f"/{svc.name}"} if route.ref.namespace == svc.namespace else set())
    controllers = {s.controller for s in route.status if s.parent in keys or s.parent.rsplit("/", 1)[0] in keys}
    return CILIUM_CONTROLLER in controllers and ISTIO_CONTROLLER not in controllers


def bypass_cause(call: Call, svc: Service, objects: tuple[ObjectRef, ...], what: str) -> Cause:
    params = {"what": what, "service": f"{svc.namespace}/{svc.name}", "port": str(call.port)}
    params |= {"client": f"{call.client.namespace}/{call.client.name}", "mesh": call.client_mesh.value}
    return Cause("gamma-bypassed-by-mesh-client", objects, params)


def mesh_client_hop(call: Call, svc: Service, chosen: list[ApiRoute]) -> HopResult | None:
    """A sidecar or ambient client whose governing routes only Cilium applies (GB11)."""
    if call.client_mesh is Mesh.NONE or not chosen or not all(_cilium_only(r, svc) for r in chosen):
        return None
    names = ", ".join(_key(r) for r in chosen)
    refs = tuple(r.ref for r in chosen)
    cause = bypass_cause(call, svc, refs, f"HTTPRoute(s) {names}")
    detail = (
        f"HTTPRoute(s) {names} on Service {svc.namespace}/{svc.name} are applied by Cilium (their status names "
        f"{CILIUM_CONTROLLER}, not Istio's) at the Service address; this {call.client_mesh.value} client likely "
        f"connects to a pod directly and bypasses them {INFERRED}: routing not decided"
    )
    why = f"Cilium applies it at the Service address; a {call.client_mesh.value} client likely bypasses it {INFERRED}"
    call.mesh_route = MeshRouteAnswer(f"Service {svc.namespace}/{svc.name}", False, "none", why, f"HTTPRoute {names}")
    return _unknown(call, detail, (cause,), refs)
