"""The client-route hop: an ingress gateway SOURCE routes by its Gateway binding, any other client by
its own proxy. Kept apart so the gateway and mesh routing modules both build on routing_hop without
importing each other (architecture habit 15)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.gateway_hop import gateway_route_hop
from kubectl_meshdoctor.diagnosis.routing_hop import mesh_route_hop
from kubectl_meshdoctor.findings.types import HopResult


def client_route_hop(call: Call) -> HopResult:
    at_gateway = gateway_route_hop(call)
    return at_gateway if at_gateway is not None else mesh_route_hop(call)
