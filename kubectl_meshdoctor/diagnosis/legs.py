"""A call as a chain of legs (architecture habit 13, issue 11 §1).

Without a proxy in the middle the call is one leg and the hops run in B24 order. With a waypoint
the client's ztunnel sends HBONE to the waypoint pod (leg 1: the client's Cilium egress sees the
waypoint as destination, the waypoint pod's ingress sees the client on TCP/15008), the waypoint
applies routing and ``targetRefs`` policies, then opens a new HBONE connection to the server (leg
2: the server's Cilium ingress and ztunnel see the *waypoint* pod and identity as peer, on
TCP/15008; waypoints do not impersonate the source). Each leg is evaluated by the same hop
functions, on a copy of the call whose peer, destination and payload are that leg's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from kubectl_meshdoctor.diagnosis.call import HBONE_PORT, Call
from kubectl_meshdoctor.diagnosis.waypoint import waypoint_hop
from kubectl_meshdoctor.engines.istio_mtls import ClientTLS
from kubectl_meshdoctor.engines.istio_waypoint import WaypointBinding
from kubectl_meshdoctor.findings.types import Decision, Hop, HopResult, Mesh
from kubectl_meshdoctor.model.refs import Target

HopFn = Callable[[Call], HopResult]
Step = tuple[Hop, str | None, Callable[[], HopResult]]


def to_waypoint(call: Call, wp: WaypointBinding) -> Call:
    """Leg 1: client → waypoint pod, HBONE on 15008."""
    tls = ClientTLS("hbone", f"HBONE (mTLS) to port 15008 of waypoint {wp.label}", (), None)
    dst = Target(wp.namespace, wp.name, "Gateway", pods=list(wp.pods))
    return replace(
        call,
        dst=dst,
        server=wp.pods[0],
        servers=list(wp.pods),
        server_mesh=Mesh.AMBIENT,
        server_mesh_why="waypoint proxy (speaks HBONE itself)",
        svc=None,
        svc_port=None,
        target_port=HBONE_PORT,
        port_problem=None,
        tls=tls,
        egress=None,
        ingress=None,
        ingress_at_target=None,
    )


def from_waypoint(call: Call, wp: WaypointBinding) -> Call:
    """Leg 2: waypoint pod → server, a new HBONE connection under the waypoint's identity."""
    tls = ClientTLS(
        "hbone",
        f"waypoint {wp.label} opens a new HBONE connection (mTLS, the waypoint's own identity) to port 15008",
        (),
        None,
    )
    src = Target(wp.namespace, wp.name, "Gateway", pods=list(wp.pods))
    return replace(
        call,
        src=src,
        client=wp.pods[0],
        client_mesh=Mesh.AMBIENT,
        client_mesh_why="waypoint proxy",
        tls=tls,
        egress=None,
        ingress=None,
        ingress_at_target=None,
        pa=None,
        authz=None,
    )


@dataclass(slots=True)
class LegPlan:
    call: Call
    steps: list[Step] = field(default_factory=list)
    first: Call | None = None
    second: Call | None = None
    # (client namespace, server namespace) each leg's hops look in, for the declared-inputs table
    namespaces: dict[str, tuple[str, str]] = field(default_factory=dict)

    def finish(self) -> None:
        """Give the call what its legs found (cross-layer rules and evidence read the call)."""
        if self.first is not None:
            self.call.egress = self.first.egress
        if self.second is not None:
            self.call.ingress = self.second.ingress
            self.call.ingress_at_target = self.second.ingress_at_target
            self.call.pa = self.second.pa
            self.call.authz = self.second.authz


def _run(fn: HopFn, call: Call | Callable[[], Call], leg: str | None, note: str) -> HopResult:
    result = fn(call if isinstance(call, Call) else call())
    if note and result.decision in (Decision.DENY, Decision.BREAK):
        result = replace(result, detail=f"{result.detail} ({note})")
    return replace(result, leg=leg) if leg else result


def _step(hop: Hop, fn: HopFn, call: Call | Callable[[], Call], leg: str | None, note: str = "") -> Step:
    return hop, leg, partial(_run, fn, call, leg, note)


def plan(call: Call, hops: tuple[tuple[Hop, HopFn], ...]) -> LegPlan:
    if call.dst.kind == "External":
        from kubectl_meshdoctor.diagnosis import egress_legs  # (imports this module)

        through = egress_legs.plan(call, hops)  # issue 20 §5: through an Istio egress gateway
        if through is not None:
            return through
    fns = dict(hops)
    out = LegPlan(call)
    wp = call.waypoint
    if wp is None:
        out.steps = [_step(hop, fn, call, None) for hop, fn in hops]
        return out
    leg1 = f"{call.src.label} → waypoint {wp.label}"
    at_wp = f"waypoint {wp.label}"
    leg2 = f"waypoint {wp.label} → {call.dst.label}"
    steps = [_step(h, fns[h], call, None) for h in (Hop.RESOLVE, Hop.DNS)]
    server_ns = call.server.namespace if call.server is not None else call.dst.namespace
    out.namespaces = {
        leg1: (call.client.namespace, wp.namespace),
        at_wp: (call.client.namespace, wp.namespace),
        leg2: (wp.namespace, server_ns),
    }
    if wp.problem or not wp.in_view:
        steps.append(_step(Hop.CLIENT_PROXY, fns[Hop.CLIENT_PROXY], call, leg1))
        steps.append(_step(Hop.WAYPOINT, waypoint_hop, call, at_wp))
        steps += [_step(h, fns[h], call, leg2) for h in (Hop.CILIUM_INGRESS, Hop.CILIUM_L7, Hop.SERVER_PROXY, Hop.APP)]
        out.steps = steps
        return out
    first = to_waypoint(call, wp)
    out.first = first

    def second() -> Call:
        if out.second is None:  # built after the waypoint's routing, which may retarget the call
            out.second = from_waypoint(call, wp)
        return out.second

    to_wp = f"the destination on the wire is waypoint {wp.label} on 15008, not {call.dst.label}"
    steps.append(_step(Hop.CLIENT_EGRESS, fns[Hop.CLIENT_EGRESS], first, leg1, to_wp))
    steps += [_step(h, fns[h], first, leg1) for h in (Hop.CLIENT_PROXY, Hop.CILIUM_INGRESS)]
    steps.append(_step(Hop.CILIUM_L7, fns[Hop.CILIUM_L7], first, leg1))
    steps.append(_step(Hop.CLIENT_ROUTE, fns[Hop.CLIENT_ROUTE], call, at_wp))
    steps.append(_step(Hop.WAYPOINT, waypoint_hop, call, at_wp))
    from_wp = (
        f"the peer is waypoint {wp.label}, not {call.src.label}: the waypoint opens its own connection under its own "
        "identity and does not impersonate the source"
    )
    steps.append(_step(Hop.CLIENT_EGRESS, fns[Hop.CLIENT_EGRESS], second, leg2))
    steps.append(_step(Hop.CILIUM_INGRESS, fns[Hop.CILIUM_INGRESS], second, leg2, from_wp))
    steps.append(_step(Hop.CILIUM_L7, fns[Hop.CILIUM_L7], second, leg2))
    steps.append(_step(Hop.SERVER_PROXY, fns[Hop.SERVER_PROXY], second, leg2, from_wp))
    steps.append(_step(Hop.APP, fns[Hop.APP], second, leg2))
    out.steps = steps
    return out
