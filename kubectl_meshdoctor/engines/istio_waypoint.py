"""Which waypoint, if any, a call to an ambient destination passes (A6, issue 11 §1), pure.

Facts (istio.io "Configure waypoint proxies", label reference; A6):
* A waypoint is a Gateway API Gateway with ``gatewayClassName: istio-waypoint`` (listener 15008,
  protocol HBONE); Istio labels its pods ``gateway.networking.k8s.io/gateway-name: <name>``.
* ``istio.io/use-waypoint: <name>`` on a Namespace, Service or Pod enrolls it
  (``istio.io/use-waypoint-namespace`` names the waypoint's namespace when it is elsewhere);
  the value ``none`` opts a Service or Pod out of a namespace-wide waypoint.
* ``istio.io/waypoint-for`` on the waypoint says which traffic it takes: ``service`` (the default),
  ``workload``, ``all`` or ``none``. Service-addressed traffic uses the Service's label, else the
  namespace's; traffic addressed to a pod directly uses the pod's label, else the namespace's.
  That precedence is our reading of the docs [uncertain].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.istio_traffic import KubeGateway
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.view import Model

USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NS = "istio.io/use-waypoint-namespace"
WAYPOINT_FOR = "istio.io/waypoint-for"
GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"
WAYPOINT_CLASS = "istio-waypoint"


@dataclass(frozen=True, slots=True)
class WaypointBinding:
    namespace: str
    name: str
    traffic: str  # "service" | "workload": how the client addresses the destination
    enrolled_by: ObjectRef  # the object carrying istio.io/use-waypoint (rule = the label)
    gateway: KubeGateway | None
    pods: list[Pod] = field(default_factory=list)  # ready waypoint pods
    problem: str = ""  # why the waypoint cannot take the traffic ("" = it can)
    in_view: bool = True  # False: the waypoint's namespace is not in this view

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def ref(self) -> ObjectRef:
        if self.gateway is not None:
            return self.gateway.ref
        return ObjectRef("Gateway", self.namespace, self.name)


def _enrollment(labels: Mapping[str, str], own_ns: str) -> tuple[str, str] | None:
    name = labels.get(USE_WAYPOINT)
    if not name:
        return None
    return name, labels.get(USE_WAYPOINT_NS) or own_ns


def waypoint_for(model: Model, dst_pods: list[Pod], svc: Service | None, namespace: str) -> WaypointBinding | None:
    """The waypoint for a call addressed to ``svc`` (service traffic) or to ``dst_pods`` directly
    (workload traffic, svc None). None when no label enrolls the destination."""
    traffic = "service" if svc is not None else "workload"
    ns_obj = model.namespaces.get(namespace)
    found: tuple[tuple[str, str], ObjectRef] | None = None
    own = svc.labels if svc is not None else (dst_pods[0].labels if dst_pods else {})
    own_ref = svc.ref() if svc is not None else (dst_pods[0].ref() if dst_pods else None)
    mine = _enrollment(own, namespace)
    if mine is not None and own_ref is not None:
        found = (mine, own_ref.with_rule(f"metadata.labels[{USE_WAYPOINT}]"))
    elif ns_obj is not None and (ns_label := _enrollment(ns_obj.labels, namespace)) is not None:
        found = (ns_label, ObjectRef("Namespace", None, namespace, f"metadata.labels[{USE_WAYPOINT}]"))
    if found is None or found[0][0] == "none":
        return None
    (name, wp_ns), by = found
    gateway = next(
        (g for g in model.traffic.kube_gateways if g.ref.namespace == wp_ns and g.ref.name == name),
        None,
    )
    pods = [p for p in model.pods_by_ns.get(wp_ns, []) if p.labels.get(GATEWAY_NAME) == name]
    ready = [p for p in pods if p.ready]
    in_view = wp_ns in model.namespaces or wp_ns in model.pods_by_ns
    problem = ""
    if gateway is not None and gateway.class_name != WAYPOINT_CLASS:
        problem = f"Gateway {wp_ns}/{name} has gatewayClassName {gateway.class_name}, not {WAYPOINT_CLASS}"
    elif gateway is None and not pods:
        problem = f"no waypoint {wp_ns}/{name} exists (no Gateway of class {WAYPOINT_CLASS}, no pods)"
    elif not ready:
        problem = f"waypoint {wp_ns}/{name} has no ready pod ({len(pods)} pod(s), none ready)"
    serves = (gateway.labels.get(WAYPOINT_FOR) if gateway is not None else None) or "service"
    if not problem and serves not in (traffic, "all"):
        return None  # the waypoint does not take this kind of traffic: ztunnel goes direct
    return WaypointBinding(wp_ns, name, traffic, by, gateway, ready, problem, in_view)


def serves(binding: WaypointBinding) -> str:
    gw = binding.gateway
    return (gw.labels.get(WAYPOINT_FOR) if gw is not None else None) or "service"
