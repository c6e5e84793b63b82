"""The client sidecar's own route to an outside host (issue 20 §5; semantics-gateways.md E1): a
VirtualService for the host that keeps it (faults, timeouts, retries apply as for any route) and may send
it to another port, where a DestinationRule `tls.mode: SIMPLE` originates TLS (the app calls port 80, the
sidecar connects to 443). Cilium then sees the sidecar connect to that port.

Without a ServiceEntry (ALLOW_ANY) whether the sidecar applies a VirtualService for an unregistered
host is not modelled: unknown. A route to a port the ServiceEntry declares HTTPS or TLS without TLS
origination is unknown too (the server's answer to plain HTTP is not known).
"""

from __future__ import annotations

import dataclasses

from kubectl_meshdoctor.diagnosis import routing_hop
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.egress_gateway_hop import dr_tls
from kubectl_meshdoctor.diagnosis.egress_mesh_route import DirectLeg
from kubectl_meshdoctor.diagnosis.routing_egress import external
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Decision, Hop, HopResult, Symptom, Verdict

HOP = Hop.CLIENT_ROUTE


def _unknown(result: HopResult, why: str) -> HopResult:
    return HopResult(HOP, Decision.UNKNOWN, result.by, why, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(why,))


def direct_route_hop(call: Call, leg: DirectLeg) -> HopResult:
    base = external(call)
    if base.decision is not Decision.ALLOW:
        return base
    m, ns = call.model, call.client.namespace
    entry = rt.service_entry_for(m.traffic, leg.host, call.dst.external_ip, ns)
    if entry is None:
        why = (
            f"{leg.by[0].key()} routes {leg.host}, which no ServiceEntry registers (ALLOW_ANY passes it through): "
            "whether the sidecar applies that VirtualService is not modelled"
        )
        return _unknown(base, why)
    call.route = rt.RouteOutcome(leg.host, leg.vs, leg.route, None)
    lead = f"sidecar: {base.detail}; {leg.by[0].key()} matches {call.query.method} {call.query.path}"
    result = routing_hop._route(call, leg.vs, leg.route, leg.by, lead)
    if result.decision is not Decision.ALLOW:
        return result
    tls = dr_tls(m, leg.host, leg.port, [ns, entry.ref.namespace or ns, m.istio.mesh.root_namespace])
    if tls is not None and tls[1].mode in ("SIMPLE", "MUTUAL"):
        dr, setting = tls
        note = (
            f"; {dr.ref.key()} {setting.path} mode {setting.mode}: the sidecar originates TLS to {leg.host}:{leg.port}"
        )
        return dataclasses.replace(result, by=(*result.by, dr.ref.with_rule(setting.path)), detail=result.detail + note)
    declared = entry.port_protocols.get(leg.port, "")
    if declared in ("HTTPS", "TLS") and leg.port != call.port:
        why = (
            f"{leg.by[0].key()} sends the plain HTTP request to {leg.host}:{leg.port}, which {entry.ref.key()} "
            f"declares {declared}, and no DestinationRule originates TLS there: the server's answer is not known"
        )
        return _unknown(result, why)
    return result
