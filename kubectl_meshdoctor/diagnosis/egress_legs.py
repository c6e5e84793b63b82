"""A call to an outside host through an Istio egress gateway, as legs (architecture habit 13; issue 20
§5; semantics-gateways.md E1/E4):

* at the client: the name resolves, the sidecar's outbound policy lets the host through
  (REGISTRY_ONLY needs a ServiceEntry) and the mesh VirtualService sends it to the gateway Service;
* leg 1, client → egress gateway pod: Cilium sees the client's pod talk to the gateway pod on its target
  port (Istio mTLS), so the client's egress policy must allow that, not the outside host; the gateway pod's
  ingress policy, Cilium L7 rules and the gateway's own Envoy (PeerAuthentication, AuthorizationPolicy);
* at the gateway: Gateway server, bound VirtualService, ServiceEntry, TLS origination;
* leg 2, egress gateway → outside host: the gateway pod resolves the name and connects out, so toFQDNs
  and CiliumEgressGatewayPolicies apply to the *gateway* pods.

Each leg runs the same hop functions on a call resolved for that leg.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

from kubectl_meshdoctor.diagnosis import routing_hop
from kubectl_meshdoctor.diagnosis.call import Call, Query, resolve_call
from kubectl_meshdoctor.diagnosis.egress_direct import direct_route_hop
from kubectl_meshdoctor.diagnosis.egress_gateway_hop import GatewayExit, dr_tls, gateway_hop
from kubectl_meshdoctor.diagnosis.egress_gateway_leg import on_gateway_leg, outbound_fix
from kubectl_meshdoctor.diagnosis.egress_mesh_route import DirectLeg, MeshLeg, mesh_leg
from kubectl_meshdoctor.diagnosis.egress_source_ip import bypassed
from kubectl_meshdoctor.diagnosis.fixes import heredoc, to_yaml
from kubectl_meshdoctor.diagnosis.legs import LegPlan, Step
from kubectl_meshdoctor.diagnosis.routing_egress import egress_scope, external
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.istio_mtls import ClientTLS, client_tls
from kubectl_meshdoctor.findings.types import Decision, Hop, HopResult

HopFn = Callable[[Call], HopResult]


def _leg_call(call: Call, source: str, destination: str, port: int, host: str) -> Call:
    q = call.query
    query = Query(
        source,
        destination,
        q.namespace,
        port,
        q.protocol,
        q.method,
        q.path,
        no_flows=True,
        headers=q.headers,
        host=host,
        app_protocol=q.app_protocol,
        http_asked=q.http_asked,
    )
    return resolve_call(call.model, query)


def _at_client(call: Call, leg: MeshLeg | HopResult, first: Call | None) -> HopResult:
    """The client sidecar: outbound policy for the host, then the mesh route to the gateway."""
    base = external(call)
    registered = rt.service_entry_for(call.model.traffic, call.dst.dns_name, None, call.client.namespace, True)
    registered = registered or rt.service_entry_for(call.model.traffic, call.dst.dns_name, None, call.client.namespace)
    if base.decision is Decision.BREAK and isinstance(leg, MeshLeg) and registered is None:
        return _blackholed(call, base, leg)  # no ServiceEntry at all (not one a scope or exportTo hides)
    if base.decision in (Decision.BREAK, Decision.DENY, Decision.UNKNOWN):
        return base
    if isinstance(leg, HopResult):
        return leg
    assert first is not None
    svc = leg.svc
    hidden = egress_scope(first, rt.service_host(svc), svc.namespace)
    if hidden is not None:
        return hidden
    lead = f"sidecar: {base.detail}; {leg.by[0].key()} sends {leg.host} to egress gateway {svc.namespace}/{svc.name}"
    result = routing_hop._route(first, leg.vs, leg.route, leg.by, lead)
    call.partial.extend(first.partial)
    call.gaps.extend(first.gaps)
    return dataclasses.replace(result, by=base.by + result.by)


def _blackholed(call: Call, base: HopResult, leg: MeshLeg) -> HopResult:
    """REGISTRY_ONLY without a ServiceEntry, on the way to an egress gateway: the ServiceEntry the fix
    proposes declares every port the routes use (the gateway's leg too: 443 when it originates TLS)."""
    ports = {call.port} | {
        d.port
        for r in leg.vs.http
        for d in r.destinations
        if d.port and rt.fqdn(d.host, leg.vs.ref.namespace or "") == leg.host
    }
    entry = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": leg.host.replace(".", "-"), "namespace": call.client.namespace},
        "spec": {
            "hosts": [leg.host],
            "ports": [
                {"number": p, "name": "https" if p == 443 else f"http-{p}", "protocol": "HTTPS" if p == 443 else "HTTP"}
                for p in sorted(ports)
            ],
            "resolution": "DNS",
            "location": "MESH_EXTERNAL",
        },
    }
    fix = "register the host with a ServiceEntry (resolution DNS: the egress gateway resolves it):\n" + heredoc(
        call.client.namespace, to_yaml(entry)
    )
    causes = tuple(
        dataclasses.replace(c, params={**c.params, "fix_hint": fix}) if c.code == "istio-egress-registry-only" else c
        for c in base.causes
    )
    note = " (the sidecar answers itself: Hubble shows no flow to the egress gateway or the outside host)"
    return dataclasses.replace(base, causes=causes, detail=base.detail + note)


def _originated(direct: Call, leg: DirectLeg) -> ClientTLS | None:
    """What the sidecar sends when a DestinationRule originates TLS to the outside host."""
    m, ns = direct.model, direct.client.namespace
    entry = rt.service_entry_for(m.traffic, leg.host, None, ns)
    found = dr_tls(
        m, leg.host, leg.port, [ns, (entry.ref.namespace if entry else None) or ns, m.istio.mesh.root_namespace]
    )
    if found is None or found[1].mode not in ("SIMPLE", "MUTUAL"):
        return None
    dr, setting = found
    ref = dr.ref.with_rule(setting.path)
    return ClientTLS("tls", f"TLS {setting.mode} originated by {ref.key()}", (ref,), setting.mode, ref)


def _after_gateway(fn: HopFn, out: GatewayExit, second: Callable[[], Call], hop: Hop) -> HopResult:
    if not out.host:
        return HopResult(hop, Decision.SKIP, (), "the gateway's route to the outside host is not known")
    if hop is Hop.DNS and out.entry is not None and out.entry.resolution not in ("DNS", "DNS_ROUND_ROBIN"):
        return HopResult(hop, Decision.SKIP, (), f"{out.entry.ref.key()} resolution {out.entry.resolution}: no lookup")
    return fn(second())


def _leaving(call: Call, fn: HopFn, out: GatewayExit, second: Callable[[], Call]) -> HopResult:
    """The gateway pod's connection out; a policy meant for the client's source IP is said (GB22)."""
    result = _after_gateway(fn, out, second, Hop.CLIENT_EGRESS)
    if result.decision is not Decision.ALLOW:
        return outbound_fix(result, out.host, out.port)  # GB19: toFQDNs + DNS rule for the gateway pods
    relay = second().client
    warning = bypassed(call.model, call.client, relay, out.host, call.dst.external_ip)
    return dataclasses.replace(result, causes=(*result.causes, warning)) if warning is not None else result


def _note(call: Call, run: Callable[[], HopResult], leg: str | None = None, outbound: bool = False) -> HopResult:
    result = run()
    if leg is not None:  # GB19: a Cilium policy that drops a leg of the egress gateway
        result = on_gateway_leg(result, leg, outbound)
    if result.decision is Decision.UNKNOWN:  # what a leg's hop could not see is a gap of the call
        call.gaps.extend(g for g in result.gaps if g not in call.gaps)
    return result


def _noted(call: Call, steps: list[Step], out: str | None = None) -> list[Step]:
    """``out``: the label of the gateway → outside host leg."""
    return [(hop, leg, partial(_note, call, run, leg, leg is not None and leg == out)) for hop, leg, run in steps]


def plan(call: Call, hops: tuple[tuple[Hop, HopFn], ...]) -> LegPlan | None:
    """None when the call does not go through an egress gateway (or nothing routes the host)."""
    leg = mesh_leg(call)
    if leg is None:
        return None
    fns = dict(hops)
    out = LegPlan(call)
    steps: list[Step] = [(h, None, partial(fns[h], call)) for h in (Hop.RESOLVE, Hop.DNS)]
    if isinstance(leg, HopResult):
        steps.append((Hop.CLIENT_ROUTE, None, partial(_at_client, call, leg, None)))
        out.steps = _noted(call, steps)
        return out
    if isinstance(leg, DirectLeg):  # the sidecar connects out itself, on the route's port
        direct = call if leg.port == call.port else _leg_call(call, call.query.source, leg.host, leg.port, leg.host)
        out.first = direct
        direct.tls = _originated(direct, leg) or direct.tls
        # the route decides the port the sidecar connects to, so it comes before the connection's hops
        steps.append((Hop.CLIENT_ROUTE, None, partial(direct_route_hop, call, leg)))
        steps += [(h, None, partial(fn, direct)) for h, fn in hops if h not in (Hop.RESOLVE, Hop.DNS, Hop.CLIENT_ROUTE)]
        out.steps = _noted(call, steps)
        return out
    svc = leg.svc
    first = _leg_call(call, call.query.source, f"{svc.namespace}/svc/{svc.name}", leg.port, leg.host)
    first.tls = client_tls(
        call.model,
        first.client_mesh,
        first.server,
        first.server_mesh,
        first.svc,
        first.port,
        first.client.namespace,
        first.client.labels,
        subset=leg.dest.subset,
    )
    out.first = first
    call.relay_pods = list(leg.pods)
    exit_ = GatewayExit()
    gw = f"egress gateway {svc.namespace}/{svc.name}"
    leg1, at_gw, leg2 = f"{call.src.label} → {gw}", gw, f"{gw} → {leg.host}"
    cache: list[Call] = []

    def second() -> Call:
        if not cache:
            pod = first.server or leg.pods[0]
            cache.append(_leg_call(call, f"{pod.namespace}/pod/{pod.name}", exit_.host, exit_.port, exit_.host))
        return cache[0]

    steps.append((Hop.CLIENT_ROUTE, None, partial(_at_client, call, leg, first)))
    for hop in (Hop.RESOLVE, Hop.CLIENT_EGRESS, Hop.CLIENT_PROXY, Hop.CILIUM_INGRESS, Hop.CILIUM_L7, Hop.SERVER_PROXY):
        steps.append((hop, leg1, partial(fns[hop], first)))
    steps.append((Hop.GATEWAY, at_gw, partial(gateway_hop, first, leg, exit_)))
    steps.append((Hop.DNS, leg2, partial(_after_gateway, fns[Hop.DNS], exit_, second, Hop.DNS)))
    steps.append((Hop.CLIENT_EGRESS, leg2, partial(_leaving, call, fns[Hop.CLIENT_EGRESS], exit_, second)))
    out.steps = _noted(call, steps, leg2)
    out.namespaces = {
        leg1: (call.client.namespace, svc.namespace),
        at_gw: (svc.namespace, svc.namespace),
        leg2: (svc.namespace, svc.namespace),
    }
    return out
