"""Streaming one pair's offline flows from the input files (issue 13): the pair as a direction
function plus byte needles (``PairSpec``), the read itself, and the bounded reads that name an
unknown reference. Which pair a question means is decided above this layer (``app_flows.py``
resolves the call first, then asks for its flows here): sources never resolve a call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.model.flow_refs import FlowEndpoints, FlowRef
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model
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


def side_needles(pods: Sequence[Pod], ips: bool, extra: Iterable[str] = ()) -> tuple[str, ...]:
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


def slim(flow: flow_pb2.Flow) -> flow_pb2.Flow:
    """What evidence reads stays; bulky parts (labels, headers, MACs) go: memory per kept flow."""
    flow.ClearField("ethernet")
    del flow.source.labels[:]
    del flow.destination.labels[:]
    if flow.l7.WhichOneof("record") == "http":
        del flow.l7.http.headers[:]
    return flow
