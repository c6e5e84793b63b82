"""The client-route hop: an ingress gateway SOURCE routes by its Gateway binding, any other client by
its own proxy. Kept apart so the gateway and mesh routing modules both build on routing_hop without
importing each other (architecture habit 15)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.gamma_route import gamma_route_hop
from kubectl_meshdoctor.diagnosis.gateway_hop import gateway_route_hop
from kubectl_meshdoctor.diagnosis.routing_hop import mesh_route_hop
from kubectl_meshdoctor.findings.types import HopResult


def client_route_hop(call: Call) -> HopResult:
    at_gateway = gateway_route_hop(call)
    if at_gateway is not None:
        return at_gateway
    base = mesh_route_hop(call)
    gamma = gamma_route_hop(call, base)  # issue 20 §3: HTTPRoutes attached to the Service (vs the VirtualService)
    return gamma if gamma is not None else base
