"""``--since/--until/--first/--last`` for offline flows, as ``hubble observe --input-file`` applies them.

Times are the recorded ones. An absolute time (RFC 3339) is compared as given; a duration
(``5m``) offline is taken back from the newest flow in the input (a capture is a past moment;
live it is back from now, as Relay does). Without ``--first``/``--last`` every matching flow is
printed as it is read (hubble prints all flows of an input file); ``--last N`` keeps N,
``--first N`` stops reading after N. Only relative times need the pair's flows held until the
input's newest time is known.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowfiles import FlowFile
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
from kubectl_meshdoctor.sources.flowscan import ScanResult
from kubectl_meshdoctor.sources.pair_flows import PairSpec, stream


@dataclass(frozen=True, slots=True)
class Window:
    since: int | None = None  # nanoseconds since the epoch (recorded times have nanoseconds)
    until: int | None = None
    since_back: float | None = None  # seconds before the newest flow
    until_back: float | None = None
    first: int | None = None
    last: int | None = None


def in_window_ns(flow: flow_pb2.Flow, since: int | None, until: int | None) -> bool:
    """``since <= time <= until`` in nanoseconds; a flow without a time is outside any bounded window."""
    if since is None and until is None:
        return True
    if not flow.HasField("time"):
        return False
    t = flow.time.seconds * 1_000_000_000 + flow.time.nanos
    return (since is None or t >= since) and (until is None or t <= until)


def _seconds(flow: flow_pb2.Flow) -> float:
    return float(flow.time.seconds + flow.time.nanos / 1e9)


def select(files: Sequence[FlowFile], spec: PairSpec, options: FlowMatcher, window: Window,
           out: Callable[[flow_pb2.Flow], None]) -> ScanResult:  # fmt: skip
    """The pair's flows that pass the options and the window, to ``out`` in input order."""
    relative = window.since_back is not None or window.until_back is not None

    def wanted(flow: flow_pb2.Flow) -> bool:
        return options(flow) and in_window_ns(flow, window.since, window.until)

    if relative:
        held: list[flow_pb2.Flow] = []

        def hold(flow: flow_pb2.Flow) -> bool:
            if wanted(flow):
                held.append(flow)
            return False

        result = stream(files, spec, hold, track_newest=True)
        newest = max([result.newest or 0.0, *(_seconds(f) for f in held)])
        low = newest - window.since_back if window.since_back is not None else None
        high = newest - window.until_back if window.until_back is not None else None
        chosen = [f for f in held if (low is None or _seconds(f) >= low) and (high is None or _seconds(f) <= high)]
        if window.first is not None:
            chosen = chosen[: window.first]
        elif window.last is not None:
            chosen = chosen[-window.last :]
        for flow in chosen:
            out(flow)
        return result
    if window.first is not None:
        count = [0]

        def first(flow: flow_pb2.Flow) -> bool:
            if not wanted(flow):
                return False
            out(flow)
            count[0] += 1
            return count[0] >= (window.first or 0)

        return stream(files, spec, first)
    if window.last is not None:
        tail: deque[flow_pb2.Flow] = deque(maxlen=window.last)

        def keep(flow: flow_pb2.Flow) -> bool:
            if wanted(flow):
                tail.append(flow)
            return False

        result = stream(files, spec, keep)
        for flow in tail:
            out(flow)
        return result

    def now(flow: flow_pb2.Flow) -> bool:
        if wanted(flow):
            out(flow)
        return False

    return stream(files, spec, now)
