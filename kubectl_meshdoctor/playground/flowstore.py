"""The playground Relay's flows: serialized, in time order, indexed by pod and by a few marks
(verdict, HTTP status present, TCP RST); and what Relay returns for a GetFlowsRequest over them
(whitelist/blacklist, since/until, number/first; hubble-api.md §2). The indexes only pick candidates:
every candidate is still checked with the shared filter code."""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable
from typing import Any

from kubectl_meshdoctor._proto import observer_pb2
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher


class FlowStore:
    """Flows in time order as serialized GetFlowsResponse bytes, indexed by "ns/pod" of each end.

    ``add`` takes messages (``flow_pb2.Flow``); ``add_serialized`` takes a response already
    serialized with the flow's time, node and endpoints (for generated bulk data).
    ``freeze()`` sorts by time; the server calls it.
    """

    def __init__(self, flows: Iterable[Any] = ()) -> None:
        self.blobs: list[bytes] = []
        self.times = array("q")  # ns since the epoch, per blob
        self.by_pod: dict[str, list[int]] = {}  # "ns/pod" (either end) -> positions
        self.pods: list[str] = []  # sorted keys of by_pod, for prefix look-ups
        self.by_mark: dict[str, list[int]] = {}  # marks_of(flow) -> positions
        self.marked = True  # every flow came with its marks (else the mark indexes are not used)
        self.nodes: Counter[str] = Counter()
        for flow in flows:
            self.add(flow)
        self.freeze()

    def __len__(self) -> int:
        return len(self.blobs)

    def add(self, flow: Any) -> None:
        resp = observer_pb2.GetFlowsResponse(flow=flow, node_name=flow.node_name, time=flow.time)
        ends = [
            f"{ep.namespace}/{ep.pod_name}" for ep in (flow.source, flow.destination) if ep.namespace or ep.pod_name
        ]
        self.add_serialized(resp.SerializeToString(), flow.time.seconds * 1_000_000_000 + flow.time.nanos,
                            flow.node_name, ends, marks_of(flow))  # fmt: skip

    def add_serialized(self, blob: bytes, time_ns: int, node: str, pods: Iterable[str],
                       marks: Iterable[str] | None = None) -> None:  # fmt: skip
        self.blobs.append(blob)
        self.times.append(time_ns)
        if node:
            self.nodes[node] += 1
        at = len(self.blobs) - 1
        for key in dict.fromkeys(pods):
            self.by_pod.setdefault(key, []).append(at)
        if marks is None:
            self.marked = False
            return
        for mark in marks:
            self.by_mark.setdefault(mark, []).append(at)

    def freeze(self) -> None:
        """Sort by time (stable) and rebuild the index; cheap when already in order."""
        times = self.times
        if any(times[i] > times[i + 1] for i in range(len(times) - 1)):
            order = sorted(range(len(times)), key=times.__getitem__)
            where = {old: new for new, old in enumerate(order)}
            self.blobs = [self.blobs[i] for i in order]
            self.times = array("q", (times[i] for i in order))
            self.by_pod = {k: sorted(where[i] for i in v) for k, v in self.by_pod.items()}
            self.by_mark = {k: sorted(where[i] for i in v) for k, v in self.by_mark.items()}
        self.pods = sorted(self.by_pod)

    def flow(self, i: int) -> Any:
        return observer_pb2.GetFlowsResponse.FromString(self.blobs[i]).flow

    def messages(self) -> list[Any]:
        return [self.flow(i) for i in range(len(self.blobs))]

    def pod_positions(self, specs: Iterable[str]) -> set[int] | None:
        """Positions of flows with an end matching a pod filter (``ns/prefix``); None: not indexable."""
        out: set[int] = set()
        for spec in specs:
            ns, _, prefix = spec.partition("/") if "/" in spec else ("default", "", spec)
            if not ns:
                return None  # "/prefix" means any namespace: not worth an index
            head = f"{ns}/{prefix}"
            at = bisect.bisect_left(self.pods, head)
            while at < len(self.pods) and self.pods[at].startswith(head):
                out.update(self.by_pod[self.pods[at]])
                at += 1
        return out

    def _filter_positions(self, flt: Any) -> set[int] | None:
        """A superset of the positions one filter can match (the smallest index that applies); None: any."""
        options: list[set[int]] = []
        specs = list(flt.source_pod) or list(flt.destination_pod)
        hits = self.pod_positions(specs) if specs else None
        if hits is not None:
            options.append(hits)
        if not self.marked:
            return hits
        if flt.verdict:
            options.append({i for v in flt.verdict for i in self.by_mark.get(f"verdict:{v}", ())})
        if flt.http_status_code:
            options.append(set(self.by_mark.get("http-status", ())))
        if flt.tcp_flags and all(f.RST for f in flt.tcp_flags):
            options.append(set(self.by_mark.get("rst", ())))
        return min(options, key=len) if options else None

    def candidates(self, whitelist: list[Any], lo: int, hi: int) -> Iterable[int]:
        """Positions in [lo, hi) that may match the whitelist: by the indexes when every filter has one."""
        chosen: set[int] = set()
        for flt in whitelist:
            hits = self._filter_positions(flt)
            if hits is None:
                return range(lo, hi)
            chosen |= hits
        return sorted(i for i in chosen if lo <= i < hi)


def marks_of(flow: Any) -> list[str]:
    """The index marks of a flow: its verdict, an HTTP status code, a TCP RST."""
    marks = [f"verdict:{flow.verdict}"]
    if flow.l7.WhichOneof("record") == "http" and flow.l7.http.code:
        marks.append("http-status")
    if flow.l4.WhichOneof("protocol") == "TCP" and flow.l4.TCP.flags.RST:
        marks.append("rst")
    return marks


def _bounds(store: FlowStore, request: Any) -> tuple[int, int]:
    """The positions inside since/until (times are sorted); a flow without a time is outside a window."""
    lo, hi = 0, len(store)
    if request.HasField("since"):
        since = request.since.seconds * 1_000_000_000 + request.since.nanos
        lo = bisect.bisect_left(store.times, max(since, 1))
    elif request.HasField("until"):
        lo = bisect.bisect_left(store.times, 1)
    if request.HasField("until"):
        hi = bisect.bisect_right(store.times, request.until.seconds * 1_000_000_000 + request.until.nanos)
    return lo, max(lo, hi)


def select_positions(store: FlowStore, request: Any) -> list[int] | range:
    """What Relay returns for ``request`` as positions in ``store`` (number applied after filtering)."""
    since = request.HasField("since")
    if request.follow and not request.number and not since:
        return []  # follow without number or since starts at the newest event
    lo, hi = _bounds(store, request)
    if not request.whitelist and not request.blacklist:
        chosen: list[int] | range = range(lo, hi)
    else:
        matcher = FlowMatcher(list(request.whitelist), list(request.blacklist))
        candidates = store.candidates(list(request.whitelist), lo, hi)
        chosen = [i for i in candidates if matcher(store.flow(i))]
    if request.number and not since:
        chosen = chosen[: request.number] if request.first else chosen[-request.number :]
    return chosen


def select(flows: list[Any], request: Any) -> list[Any]:
    """What Relay returns for ``request`` over a list of flows (as messages)."""
    store = flows if isinstance(flows, FlowStore) else FlowStore(flows)
    return [store.flow(i) for i in select_positions(store, request)]
