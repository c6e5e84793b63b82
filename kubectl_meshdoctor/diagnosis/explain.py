"""explain(): walk the hops in B24 order; the first break decides; add cross-layer
causes and Hubble evidence; flows the objects do not explain -> flows-contradict-policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kubectl_meshdoctor.diagnosis import envoy_config, hops, legs, routing_hop, shares
from kubectl_meshdoctor.diagnosis.agreement import judge_agreement, request_ports
from kubectl_meshdoctor.diagnosis.call import Call, Query, resolve_call
from kubectl_meshdoctor.diagnosis.crosslayer import call_causes
from kubectl_meshdoctor.diagnosis.evidence import FlowIndex, PairSelector, select_and_tally
from kubectl_meshdoctor.diagnosis.inputs import hop_gaps, mark_unknown
from kubectl_meshdoctor.findings.types import (
    HOP_TITLES,
    Cause,
    Decision,
    Diagnosis,
    Evidence,
    Hop,
    HopResult,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.view import Model

# B24 order: each hop with the function that decides it (the name also labels a skipped hop)
_HOPS: tuple[tuple[Hop, Callable[[Call], HopResult]], ...] = (
    (Hop.RESOLVE, hops.resolve_hop),
    (Hop.DNS, hops.dns_hop),
    (Hop.CLIENT_EGRESS, hops.egress_hop),
    (Hop.CLIENT_PROXY, hops.client_proxy_hop),
    (Hop.CLIENT_ROUTE, envoy_config.route_hop),  # Istio/GAMMA routing, then a CiliumEnvoyConfig's listener
    (Hop.CILIUM_INGRESS, hops.ingress_hop),
    (Hop.CILIUM_L7, hops.l7_hop),
    (Hop.SERVER_PROXY, hops.server_proxy_hop),
    (Hop.APP, hops.app_hop),
)


# hops that decide where the call goes: when one of them is unknown, a later break may not apply
_STEERING = {Hop.RESOLVE, Hop.CLIENT_ROUTE}
HOPS = _HOPS  # the B24 order, for callers that run a variant (diagnosis/northsouth.py)


def _walk(
    call: Call, steps: tuple[tuple[Hop, Callable[[Call], HopResult]], ...] = _HOPS
) -> tuple[list[HopResult], HopResult | None, HopResult | None]:
    """Run the hops in order. Returns (results, the first hop that certainly breaks, the first unknown).

    Every result passes through the declared-inputs table (diagnosis/inputs.py): a hop whose inputs
    are hidden by a gap is unknown whatever it found. An unknown hop does not stop the walk: a later
    hop that certainly breaks still decides that the call fails (contract §7), unless the unknown hop
    steers the call (service resolution, routing), so that later hops may not even be on the path.
    """
    results: list[HopResult] = []
    broken: HopResult | None = None
    unknown: HopResult | None = None
    client_ns = call.client.namespace
    server_ns = call.server.namespace if call.server is not None else (call.dst.namespace or None)
    plan = legs.plan(call, steps)  # one leg, or client → waypoint → server (habit 13)
    for hop, leg, run in plan.steps:
        if broken is not None:
            results.append(HopResult(hop, Decision.SKIP, (), "not reached", leg=leg))
            continue
        result = run()
        cns, sns = plan.namespaces.get(leg or "", (client_ns, server_ns))
        result = mark_unknown(result, hop_gaps(hop, call.model.gaps + call.gaps, cns, sns, result.reads))
        if unknown is not None and unknown.hop in _STEERING and result.decision in (Decision.DENY, Decision.BREAK):
            result = replace(
                result,
                decision=Decision.UNKNOWN,
                detail=f"{result.detail} (if the call reaches this hop: {HOP_TITLES[unknown.hop]} is unknown)",
                symptom=Symptom.UNKNOWN,
                verdict=Verdict.UNKNOWN,
            )
        result = replace(result, leg=leg)
        results.append(result)
        if result.decision is Decision.UNKNOWN:
            unknown = unknown or result
        elif result.decision in (Decision.DENY, Decision.BREAK) and result.verdict is not None:
            broken = result
    plan.finish()
    return results, broken, unknown


_PREDICTED_DROP = {Hop.CLIENT_EGRESS, Hop.CILIUM_INGRESS}


def _judge(call: Call, broken: HopResult | None, evidence: Evidence) -> Cause | None:
    """B23: does Hubble show something the objects do not explain?"""
    observed = evidence.observed
    if observed is None:
        return None
    hop = broken.hop if broken else None
    predicted = broken.symptom.value if broken and broken.symptom else "ok"
    contradiction = ""
    if hop in _PREDICTED_DROP and observed in ("forwarded", "ok", "proxied-no-l7"):
        contradiction = (
            "the connection is forwarded although a policy should drop it (policy not realised, "
            "enable-policy=never, or an endpoint not managed by Cilium?)"
        )
    elif hop not in _PREDICTED_DROP and observed == "dropped":
        contradiction = (
            "policy drops that no object in this view explains (a policy missing from the snapshot, "
            "a 403 on CiliumNetworkPolicies, a host firewall, or a stale identity?)"
        )
    elif hop is Hop.CILIUM_L7 and broken and broken.decision is Decision.DENY and observed == "ok":
        contradiction = "Cilium's proxy answered 2xx for this request although its HTTP rules deny it"
    elif hop is Hop.CILIUM_L7 and broken and broken.decision is Decision.BREAK and observed == "ok":
        contradiction = "Cilium's proxy parsed and answered this request, so the payload is not mTLS"
    elif hop is None and observed == "http-403" and call.ingress is not None and not call.ingress.redirect:
        contradiction = "Cilium's L7 proxy denied requests although no L7 rule is known on this port"
    elif hop is Hop.CLIENT_ROUTE:
        contradiction = routing_hop.route_contradiction(broken, observed)
    if not contradiction:
        return None
    evidence.agrees = False
    refs = tuple(broken.by) if broken else ()
    return Cause(
        "flows-contradict-policy",
        refs,
        {
            "observed": observed,
            "predicted": predicted,
            "why": contradiction,
            "src": f"{call.client.namespace}/{call.client.name}",
            "dst": f"{call.server.namespace}/{call.server.name}" if call.server else call.dst.label,
        },
    )


def call_namespaces(call: Call) -> list[str]:
    """Where objects that govern this call live: both ends, the Service and Istio's root namespace."""
    found = [call.client.namespace, call.model.istio.mesh.root_namespace]
    found += [p.namespace for p in ([call.server] if call.server else [])] + ([call.svc.namespace] if call.svc else [])
    return list(dict.fromkeys(found))


def explain(
    model: Model, query: Query, steps: tuple[tuple[Hop, Callable[[Call], HopResult]], ...] = _HOPS
) -> Diagnosis:
    """``steps``: the hops to run (a gateway's leg to its backend replaces the client-side ones, issue 20)."""
    from kubectl_meshdoctor.diagnosis.northsouth_entry import is_north_south  # (imports this module)

    if query.via is not None or is_north_south(model, query.source, query.destination):
        from kubectl_meshdoctor.diagnosis.northsouth_via import explain_world

        return explain_world(model, query)  # SOURCE world: through a gateway (issue 20)
    call = resolve_call(model, query)
    results, broken, unknown = _walk(call, steps)
    outcome = shares.judge(call, results, broken, unknown, lambda q: _walk(resolve_call(model, q), steps))
    verdict, symptom, results = outcome.verdict, outcome.symptom, outcome.results
    call.gaps.extend(outcome.gaps)
    causes: list[Cause] = [c for r in results for c in r.causes]
    causes += [c for c in outcome.causes if all((c.code, c.objects) != (x.code, x.objects) for x in causes)]
    for extra in call_causes(call, verdict):
        if all((extra.code, extra.objects) != (c.code, c.objects) for c in causes):
            causes.append(extra)
    causes.extend(model.invalid_for(call_namespaces(call)))  # reported; their gaps decide the hops
    evidence = Evidence(source="none", summary="no flows requested (--no-flows)" if query.no_flows else "")
    latency = 0.0
    if not query.no_flows and model.flow_source != "none":
        via = list(call.waypoint.pods) if call.waypoint is not None else []  # both legs' flows (habit 13)
        via += call.relay_pods  # an egress gateway's flows (issue 20 §5)
        pair = PairSelector.of(call.src.pods + via, call.dst.pods + via)
        if model.flow_index is None:
            model.flow_index = FlowIndex(model.flows)
        index = model.flow_index
        tally = select_and_tally(
            index.candidates(pair),
            pair,
            query.method,
            query.path,
            query.since_seconds,
            query.last,
            index.newest,
            request_ports(call),
        )
        window = ""
        if query.since_seconds is not None:
            window = f" in the last {int(query.since_seconds)}s"
        evidence = tally.evidence(model.flow_source, window)
        latency = tally.max_latency_s
        if tally.flows == 0:
            evidence.summary = f"no flows for this pair{window}"
            evidence.agrees = None  # nothing to agree with (a REGISTRY_ONLY 502 leaves no flow, issue 20 §5)
        contradiction = _judge(call, broken, evidence)
        if contradiction is not None:
            causes.append(contradiction)
            verdict = Verdict.UNKNOWN if verdict is Verdict.ALLOWED else verdict
        judge_agreement(evidence, tally, broken, unknown)
    elif not query.no_flows:
        evidence.summary = "no Hubble flows available"
    route_causes, route_symptom = routing_hop.route_evidence(call, evidence.http_status, latency)
    if route_symptom is not None and verdict is Verdict.ALLOWED:
        # the flows prove the route's timeout fires: the routing hop is where the call breaks
        verdict, symptom = Verdict.BROKEN, route_symptom
        causes[:0] = route_causes
        for i, hop in enumerate(results):
            if hop.hop is Hop.CLIENT_ROUTE:
                refs = tuple(r for c in route_causes if c.code == "istio-timeout" for r in c.objects)
                detail = f"{hop.detail}; Hubble shows the request taking longer than the route timeout → 504 (UT)"
                results[i] = HopResult(
                    hop.hop, Decision.BREAK, refs or hop.by, detail, route_symptom, Verdict.BROKEN, hop.causes
                )
    else:
        causes.extend(route_causes)
    gaps = list(dict.fromkeys(model.gaps + call.gaps))
    if not call.http and symptom.value.startswith("http-"):
        symptom = Symptom.RESET  # a raw TCP client gets no HTTP status: the proxy closes or resets its stream
    return Diagnosis(
        source=call.source_endpoint(),
        destination=call.destination_endpoint(),
        request=replace(call.request, app_protocol=call.app_protocol[0], app_protocol_why=call.app_protocol[1]),
        verdict=verdict,
        symptom=symptom,
        hops=results,
        causes=causes,
        evidence=evidence,
        gaps=gaps,
        warnings=list(dict.fromkeys(model.warnings + model.cilium.warnings)),
        share=outcome.share if verdict in (Verdict.BROKEN, Verdict.DENIED) else None,
        mesh_route=call.mesh_route,
    )
