"""The flows a question needs, one way down (issue 18): resolve the call on the objects
(diagnosis), then read only its pair's flows (sources: offline files, or a Relay whitelist), then
index them for the diagnosis. With flows only, each reference is matched against flow endpoints
(model/flow_refs.py). Either way the whole input is read once, block by block."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.call import Query, resolve_call
from kubectl_meshdoctor.diagnosis.evidence import PairSelector
from kubectl_meshdoctor.diagnosis.offline_flows import adopt, read_selected
from kubectl_meshdoctor.model.flow_refs import FlowEndpoints, parse_ref
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.sources.flowfilter import pair_filters
from kubectl_meshdoctor.sources.flowscan import Prefilter, scan
from kubectl_meshdoctor.sources.pair_flows import PairSpec, missing_refs, no_objects, side_needles, slim


def pair_whitelist(model: Model, query: Query) -> list[Any]:
    """The Relay whitelist for a resolved pair, both directions (``pair_filters`` on its pods)."""
    call = resolve_call(model, query)
    via = list(call.waypoint.pods) if call.waypoint is not None else []  # both legs of a waypoint call
    return pair_filters([p.key() for p in call.src.pods + via], [p.key() for p in call.dst.pods + via])


def exact_pods(model: Model, query: Query) -> PairSpec:
    """``flows`` with objects: the resolved pods by name, as ``hubble observe --from-pod/--to-pod``
    (exactly, not as name prefixes) in both directions; an external destination by its IP."""
    call = resolve_call(model, query)
    clients = {p.key() for p in call.src.pods}
    servers = {p.key() for p in call.dst.pods}
    ext = call.dst.external_ip

    def key(ep: Any) -> str:
        return f"{ep.namespace}/{ep.pod_name}" if ep.pod_name else ""

    def direction(flow: flow_pb2.Flow) -> int:
        src, dst = key(flow.source), key(flow.destination)
        if src in clients and (dst in servers or (ext is not None and flow.IP.destination == ext)):
            return 1
        if dst in clients and (src in servers or (ext is not None and flow.IP.source == ext)):
            return -1
        return 0

    extra = (ext,) if ext else ()
    pre = Prefilter.of(side_needles(call.src.pods, False), side_needles(call.dst.pods, False, extra))
    return PairSpec(direction, pre)


def from_refs(query: Query) -> PairSpec:
    """Flows only: each reference matched against the flows' endpoints."""
    a = parse_ref(query.source, query.namespace, allow_external=False)
    b = parse_ref(query.destination, query.namespace, allow_external=True)

    def direction(flow: flow_pb2.Flow) -> int:
        s, d, svc = flow.source, flow.destination, flow.destination_service
        if a.matches(s, flow.IP.source) and b.matches(d, flow.IP.destination, svc):
            return 1
        if b.matches(s, flow.IP.source) and a.matches(d, flow.IP.destination):
            return -1
        return 0

    return PairSpec(direction, Prefilter.of(a.needles(), b.needles()), (a, b))


def attach_for_explain(model: Model, query: Query) -> None:
    """Read the pair's flows for explain: ``model.flow_index`` (and, with no objects,
    ``model.flow_endpoints`` for references). ``--since`` stays relative to the input's newest flow."""
    files, model.flow_files = model.flow_files, []
    track = query.since_seconds is not None
    if no_objects(model):
        kept: list[flow_pb2.Flow] = []
        spec = from_refs(query)
        assert spec.refs is not None
        a, b = spec.refs
        endpoints = FlowEndpoints()
        either = Prefilter.of((*a.needles(), *b.needles()))

        def note(flow: flow_pb2.Flow) -> bool:
            endpoints.note(a, flow)
            endpoints.note(b, flow)
            if spec.direction(flow):
                kept.append(slim(flow))
            return False

        result = scan(files, note, either, track)
        if not (endpoints.sides.get(a.text) and endpoints.sides.get(b.text)):
            more = missing_refs(files, spec.refs)
            if more is not None:
                endpoints.names = more.names
                endpoints.read_all = more.read_all
        model.flow_endpoints = endpoints
        adopt(model, kept, result)
    else:
        # explain picks the pair's flows itself (diagnosis/explain.py, with the waypoint's legs): keep a
        # superset, every flow between any two of the call's pods (client, server, waypoint)
        call = resolve_call(model, query)
        via = list(call.waypoint.pods) if call.waypoint is not None else []
        pods = [*call.src.pods, *call.dst.pods, *via]
        pair = PairSelector.of(pods, pods)
        # a kept line names two of those pods: the client or the waypoint on one end, the server or
        # the waypoint on the other (one group of both would let every line of the client through)
        pre = Prefilter.of(side_needles([*call.src.pods, *via], True), side_needles([*call.dst.pods, *via], True))
        read_selected(model, files, pair, pre, track)


def ingress_whitelist(model: Model, query: Query) -> list[Any]:
    """World → a Cilium-served Ingress: the Relay whitelist of the identity ingress (8) ↔ backend leg."""
    from kubectl_meshdoctor.diagnosis.ingress_flows import INGRESS_IDENTITY, envoy_leg_pods

    pods = [p.key() for p in envoy_leg_pods(model, query)]
    if not pods:
        return []
    return [
        flow_pb2.FlowFilter(source_identity=[INGRESS_IDENTITY], destination_pod=pods),
        flow_pb2.FlowFilter(source_pod=pods, destination_identity=[INGRESS_IDENTITY]),
    ]


def attach_ingress_leg(model: Model, query: Query) -> None:
    """Offline: read the flows of the identity ingress ↔ backend leg (``model.flows``) for explain."""
    from kubectl_meshdoctor.diagnosis.ingress_flows import IngressPair, envoy_leg_pods

    pods = envoy_leg_pods(model, query)
    if not pods:
        return
    files, model.flow_files = model.flow_files, []
    pair = IngressPair(set(), {p.key() for p in pods}, set(), {p.ip for p in pods if p.ip})
    read_selected(model, files, pair, Prefilter.of(side_needles(pods, True)), query.since_seconds is not None)
