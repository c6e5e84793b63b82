"""The offline flows of one question's pair, streamed from the input files (issue 13).

Two ways to know the pair. With objects, the call resolves on them (``resolve_call``) and the pair
is its pods (and their IPs, for explain's evidence); the byte needles are the pods' names and
IPs. With flows only, each reference is matched against flow endpoints (model/flow_refs.py) and
the needle is the reference's name or IP. Either way the whole input is read once, block by
block, and only the pair's flows are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.call import Query, resolve_call
from kubectl_meshdoctor.diagnosis.evidence import FlowIndex, PairSelector
from kubectl_meshdoctor.model.build import Model
from kubectl_meshdoctor.model.flow_refs import FlowEndpoints, FlowRef, parse_ref
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.sources.flowfiles import FlowFile
from kubectl_meshdoctor.sources.flowscan import Prefilter, ScanResult, scan

_MAX_NEEDLES = 8
_HINT_FLOWS = 20_000


def no_objects(model: Model) -> bool:
    """Nothing to resolve references on: references come from the flows (model/flow_refs.py)."""
    return not (model.pods or model.workloads or model.services or model.out_of_scope)


def _compact(names: Iterable[str]) -> tuple[str, ...]:
    """At most a few needles per side: pods of one workload share ``name-hash-``; else their
    longest common prefix (a broader prefilter, never a wrong one); () = cannot prefilter."""
    unique = sorted(set(n for n in names if n))
    if len(unique) <= _MAX_NEEDLES:
        return tuple(unique)
    prefixes = sorted({n.rsplit("-", 1)[0] + "-" if "-" in n else n for n in unique})
    if len(prefixes) <= _MAX_NEEDLES:
        return tuple(prefixes)
    common = unique[0]
    for n in unique[1:]:
        while not n.startswith(common):
            common = common[:-1]
    return (common,) if len(common) >= 3 else ()


def _side_needles(pods: Sequence[Pod], ips: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
    names = _compact(p.name for p in pods)
    addresses = _compact([*(p.ip or "" for p in pods), *extra]) if ips else tuple(extra)
    if not names and pods:
        return ()
    if ips and pods and any(p.ip for p in pods) and not addresses:
        return ()
    return (*names, *addresses)


@dataclass(frozen=True, slots=True)
class PairSpec:
    """``direction(flow)``: 1 client->server, -1 server->client, 0 not the pair."""

    direction: Callable[[flow_pb2.Flow], int]
    prefilter: Prefilter
    refs: tuple[FlowRef, FlowRef] | None = None  # flows only


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
    pre = Prefilter.of(_side_needles(call.src.pods, False), _side_needles(call.dst.pods, False, extra))
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


def stream(files: Sequence[FlowFile], spec: PairSpec, emit: Callable[[flow_pb2.Flow], bool],
           track_newest: bool = False) -> ScanResult:  # fmt: skip
    """Every flow of the pair, in input order, to ``emit`` (True stops the read)."""

    def take(flow: flow_pb2.Flow) -> bool:
        return emit(flow) if spec.direction(flow) else False

    return scan(files, take, spec.prefilter, track_newest)


def missing_refs(files: Sequence[FlowFile], refs: tuple[FlowRef, FlowRef]) -> FlowEndpoints | None:
    """After a flows-only read found no pair flow: is a reference unknown to the whole input?
    Returns the endpoints (with names for hints) when one is, so resolving it raises the error;
    None when both exist (the pair simply has no flows) or the input cannot be read again."""
    if any(f.once for f in files):
        return None
    found = FlowEndpoints()
    for ref in refs:
        hit: list[bool] = []

        def seen(flow: flow_pb2.Flow, ref: FlowRef = ref, hit: list[bool] = hit) -> bool:
            ok = ref.matches(flow.source, flow.IP.source) or ref.matches(
                flow.destination, flow.IP.destination, flow.destination_service
            )
            if ok:
                found.note(ref, flow)
                hit.append(True)
            return ok

        scan(files, seen, Prefilter.of(ref.needles()))
        if not hit:
            _hint_names(files, found)
            return found
    return None


def _hint_names(files: Sequence[FlowFile], found: FlowEndpoints) -> None:
    """Names for "did you mean", from the first flows of the input (a bounded read)."""
    sample: list[flow_pb2.Flow] = []

    def take(flow: flow_pb2.Flow) -> bool:
        sample.append(flow)
        return len(sample) >= _HINT_FLOWS

    result = scan(files, take)
    found.note_names(sample)
    found.read_all = not result.stopped


def _slim(flow: flow_pb2.Flow) -> flow_pb2.Flow:
    """What evidence reads stays; bulky parts (labels, headers, MACs) go: memory per kept flow."""
    flow.ClearField("ethernet")
    del flow.source.labels[:]
    del flow.destination.labels[:]
    if flow.l7.WhichOneof("record") == "http":
        del flow.l7.http.headers[:]
    return flow


def attach_for_explain(model: Model, query: Query) -> None:
    """Read the pair's flows for explain: ``model.flow_index`` (and, with no objects,
    ``model.flow_endpoints`` for references). ``--since`` stays relative to the input's newest flow."""
    files, model.flow_files = model.flow_files, []
    kept: list[flow_pb2.Flow] = []
    track = query.since_seconds is not None
    if no_objects(model):
        spec = from_refs(query)
        assert spec.refs is not None
        a, b = spec.refs
        endpoints = FlowEndpoints()
        either = Prefilter.of((*a.needles(), *b.needles()))

        def note(flow: flow_pb2.Flow) -> bool:
            endpoints.note(a, flow)
            endpoints.note(b, flow)
            if spec.direction(flow):
                kept.append(_slim(flow))
            return False

        result = scan(files, note, either, track)
        if not (endpoints.sides.get(a.text) and endpoints.sides.get(b.text)):
            more = missing_refs(files, spec.refs)
            if more is not None:
                endpoints.names = more.names
                endpoints.read_all = more.read_all
        model.flow_endpoints = endpoints
    else:
        # explain picks the pair's flows itself (diagnosis/explain.py, with the waypoint's legs): keep a
        # superset, every flow between any two of the call's pods (client, server, waypoint)
        call = resolve_call(model, query)
        via = list(call.waypoint.pods) if call.waypoint is not None else []
        pods = [*call.src.pods, *call.dst.pods, *via]
        pair = PairSelector.of(pods, pods)
        # a kept line names two of those pods: the client or the waypoint on one end, the server or
        # the waypoint on the other (one group of both would let every line of the client through)
        pre = Prefilter.of(_side_needles([*call.src.pods, *via], True), _side_needles([*call.dst.pods, *via], True))

        def keep(flow: flow_pb2.Flow) -> bool:
            if pair.direction(flow):
                kept.append(_slim(flow))
            return False

        result = scan(files, keep, pre, track)
    index = FlowIndex(kept)
    if result.newest is not None:
        index.newest = max(index.newest, result.newest)
    model.flows = kept
    model.flow_index = index
    model.warnings.extend(result.warnings)
