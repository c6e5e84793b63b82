"""The entry point of a north-south call (issue 20 §1): is SOURCE outside the cluster (`world` or an
address no pod has), which Gateway does DESTINATION name (`NS/gateway/NAME`, or the Service the
implementation created for it), which implementation programs it (GatewayClass controllerName),
and which proxy pods serve it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings.types import Gap
from kubectl_meshdoctor.model.gateway_api import CILIUM_CONTROLLER, ISTIO_CONTROLLER, ApiGateway
from kubectl_meshdoctor.model.istio_traffic import IstioGateway
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.refs import closest, resolve
from kubectl_meshdoctor.model.view import Model

GATEWAY_KINDS = ("gateway", "gateways", "gw", "gtw")
GATEWAY_NAME_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")
CILIUM_OWNER_LABEL = "io.cilium.gateway/owning-gateway"


def may_be_north_south(source: str) -> bool:
    """From the text alone (before anything is read): `world` or an IP address."""
    text = source.strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text.lower() == "world"
    return True


def is_north_south(model: Model, source: str, destination: str) -> bool:
    """`world`; or an IP address no pod in this view has (a client outside the cluster) calling a
    Gateway named as NS/gateway/NAME."""
    text = source.strip()
    if text.lower() == "world":
        return True
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    parts = destination.strip().split("/")
    kinds = (*GATEWAY_KINDS, "ingress", "ingresses", "ing")  # NS/ingress/NAME too (diagnosis/ingress_entry.py)
    return str(ip) not in model.pods_by_ip and len(parts) == 3 and parts[1].lower() in kinds


@dataclass(frozen=True, slots=True)
class Entry:
    gateway: ApiGateway
    service: Service | None  # when DESTINATION named the gateway's Service
    implementation: str  # istio | cilium | unknown
    controller: str | None
    gaps: tuple[Gap, ...]


def _by_name(model: Model, ns: str, name: str, text: str) -> ApiGateway:
    for gw in model.gateway_api.gateways:
        if gw.ref.namespace == ns and gw.ref.name == name:
            return gw
    known = [f"{g.ref.namespace}/gateway/{g.ref.name}" for g in model.gateway_api.gateways]
    known += [f"{g.ref.namespace}/gateway/{g.ref.name}" for g in model.traffic.gateways]
    hint = closest(f"{ns}/gateway/{name}", known)
    more = f"; did you mean {', '.join(hint)}?" if hint else ""
    raise UsageError(f"unknown gateway {text!r}: no Gateway {name!r} in {ns}{more}")


def _of_service(model: Model, svc: Service, text: str) -> ApiGateway:
    """Istio labels the Service it deploys with the gateway's name; Cilium names it cilium-gateway-NAME."""
    names = [svc.labels[k] for k in (*GATEWAY_NAME_LABELS, CILIUM_OWNER_LABEL) if k in svc.labels]
    if svc.name.startswith("cilium-gateway-"):
        names.append(svc.name.removeprefix("cilium-gateway-"))
    for gw in model.gateway_api.gateways:
        if gw.ref.namespace == svc.namespace and gw.ref.name in names:
            return gw
    raise UsageError(
        f"SOURCE world: DESTINATION {text!r} is Service {svc.namespace}/{svc.name}, which belongs to no Gateway in "
        "this view; name the entry point as NS/gateway/NAME"
    )


def istio_gateway(model: Model, destination: str) -> IstioGateway | None:
    """An Istio (networking.istio.io) Gateway named NS/gateway/NAME, when no Gateway API one has the name."""
    parts = destination.strip().split("/")
    if len(parts) != 3 or parts[1].lower() not in GATEWAY_KINDS:
        return None
    ns, name = parts[0], parts[2]
    if any(g.ref.namespace == ns and g.ref.name == name for g in model.gateway_api.gateways):
        return None
    return next((g for g in model.traffic.gateways if g.ref.namespace == ns and g.ref.name == name), None)


def implementation(model: Model, gw: ApiGateway) -> tuple[str, str | None, tuple[Gap, ...]]:
    """G1: the GatewayClass controllerName says whose Envoy serves the Gateway."""
    controller = model.gateway_api.classes.get(gw.class_name)
    where = gw.ref.namespace
    if controller is None:
        gap = Gap(
            f"GatewayClass {gw.class_name!r} of Gateway {where}/{gw.ref.name} is not in this view: which "
            "implementation programs it (and whether any does) is unknown",
            {"GatewayClass"},
        )
        return "unknown", None, (gap,)
    if controller == ISTIO_CONTROLLER:
        return "istio", controller, ()
    if controller == CILIUM_CONTROLLER:
        return "cilium", controller, ()
    gap = Gap(
        f"GatewayClass {gw.class_name} is implemented by {controller}, which meshdoctor does not model "
        "(Istio's and Cilium's gateways are)",
        {"GatewayClass"},
    )
    return "unknown", controller, (gap,)


def entry(model: Model, destination: str, default_ns: str) -> Entry:
    parts = destination.strip().split("/")
    svc: Service | None = None
    if len(parts) == 3 and parts[1].lower() in GATEWAY_KINDS:
        gw = _by_name(model, parts[0], parts[2], destination)
    else:
        target = resolve(model, destination, default_ns, allow_external=True)
        if target.service is None:
            raise UsageError(
                f"SOURCE world: DESTINATION {destination!r} is not a gateway; name the entry point as NS/gateway/NAME "
                "or the gateway's Service"
            )
        svc = target.service
        gw = _of_service(model, svc, destination)
    impl, controller, gaps = implementation(model, gw)
    return Entry(gw, svc, impl, controller, gaps)


def proxy_pods(model: Model, gw: ApiGateway) -> list[Pod]:
    """The pods Istio deploys for a Gateway carry its name in a label (Cilium's Envoy is no pod)."""
    ns = gw.ref.namespace or "default"
    pods = [p for p in model.pods_by_ns.get(ns, []) if any(p.labels.get(k) == gw.ref.name for k in GATEWAY_NAME_LABELS)]
    return sorted(pods, key=lambda p: (not p.ready, p.name))
