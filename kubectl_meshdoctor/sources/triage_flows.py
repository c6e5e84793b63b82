"""The failing flows of a window, and only those (issue 19 §1), live and offline.

A flow is a failure when Hubble says so itself:

* verdict ``DROPPED`` or ``ERROR`` (datapath drops, denied policy-verdict events, L7 requests
  Cilium's proxy denied);
* an L7 HTTP response with a 4xx or 5xx status (``http_status_code`` ``4+``/``5+``);
* a TCP segment with RST set (``tcp_flags``).

One more filter reads connections Cilium redirects to its L7 proxy (policy-verdict events,
``REDIRECTED``, one per new connection): a proxy that cannot parse what arrives (Istio mTLS or
HBONE on a port with Cilium HTTP rules) breaks every request without any failing flow, so these are
candidates, kept only where the objects say the proxy breaks the call (diagnosis/triage.py).

Live, these are OR'd ``FlowFilter``s sent to Relay in one request, each scoped to the asked
namespaces as source or as destination (``[namespace/]`` pod prefixes), so Relay sends only the
failures; what comes back is re-checked with the same filters (hubble.py). Offline, the same filters
select from the exports, behind a byte prefilter: a failing line must contain one of the words
those fields are written with (a ``"verdict"`` of ``DROPPED``, ``ERROR`` or ``REDIRECTED``, by name or
number; ``"code"``; ``"RST"``, the flag as a key), and with ``-n``, one of the namespaces as a JSON string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flow_endpoints import ns_prefix
from kubectl_meshdoctor.sources.flow_facts import Endpoint, Facts, facts_of
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
from kubectl_meshdoctor.sources.flowlite_lines import LineFacts
from kubectl_meshdoctor.sources.flowscan import Prefilter, ScanResult, scan

__all__ = [
    "POLICY_VERDICT",
    "failing",
    "failure_check",
    "failure_filters",
    "failure_prefilter",
    "is_failure",
    "read_failures",
]

# how the selected fields appear in jsonpb lines: the verdict by name (or number, when a writer used
# numbers) in one regex pass anchored on its key; an HTTP status and the RST flag by their keys
_VERDICT = re.compile(rb'"verdict": ?(?:"(?:DROPPED|ERROR|REDIRECTED)"|[235]\b)')
_FAILURE_NEEDLES = ('"code"', '"RST"')
POLICY_VERDICT = 5  # monitor message type of policy-verdict events (hubble-api.md §5.9)


def _criteria() -> list[flow_pb2.FlowFilter]:
    return [
        flow_pb2.FlowFilter(verdict=[flow_pb2.DROPPED, flow_pb2.ERROR]),
        flow_pb2.FlowFilter(http_status_code=["4+", "5+"]),
        flow_pb2.FlowFilter(tcp_flags=[flow_pb2.TCPFlags(RST=True)]),
        flow_pb2.FlowFilter(verdict=[flow_pb2.REDIRECTED], event_type=[flow_pb2.EventTypeFilter(type=POLICY_VERDICT)]),
    ]


def failure_filters(namespaces: Sequence[str] | None) -> list[flow_pb2.FlowFilter]:
    """The whitelist Relay receives: each failure criterion, from or to the namespaces (None: all)."""
    criteria = _criteria()
    if not namespaces:
        return criteria
    prefixes = [f"{ns}/" for ns in namespaces]
    out = []
    for criterion in criteria:
        for side in ("source_pod", "destination_pod"):
            f = flow_pb2.FlowFilter()
            f.CopyFrom(criterion)
            getattr(f, side).extend(prefixes)
            out.append(f)
    return out


_ANY_FAILURE = FlowMatcher(_criteria())


def is_failure(flow: flow_pb2.Flow) -> bool:
    return _ANY_FAILURE(flow)


def failure_prefilter(namespaces: Sequence[str] | None) -> Prefilter:
    if not namespaces:
        return Prefilter.of(_FAILURE_NEEDLES, pattern=_VERDICT)
    return Prefilter.of(_FAILURE_NEEDLES, [f'"{ns}"' for ns in namespaces], pattern=_VERDICT)


def _scoped(namespaces: Sequence[str] | None) -> Callable[[Facts], bool] | None:
    """The namespace part of ``failure_filters``: a ``[ns/]`` pod prefix on either side (None: all)."""
    if not namespaces:
        return None
    parsed = [ns_prefix(f"{ns}/", "pod") for ns in namespaces]

    def side(ep: Endpoint) -> bool:
        namespace, pod, _ = ep
        if not namespace and not pod:
            return False
        return any((ns is None or ns == namespace) and pod.startswith(prefix) for ns, prefix in parsed)

    return lambda f: side(f.source) or side(f.destination)


def failing(f: Facts) -> bool:
    """``_criteria`` on a flow's facts (a test holds it equal to FlowMatcher on the message)."""
    if f.verdict in _FAILED or f.rst:
        return True
    if f.http is not None and f.http[0] != 0 and str(f.http[0])[:1] in ("4", "5"):
        return True
    return f.verdict == flow_pb2.REDIRECTED and f.event_type == POLICY_VERDICT


_FAILED = (flow_pb2.DROPPED, flow_pb2.ERROR)


def failure_check(namespaces: Sequence[str] | None) -> Callable[[flow_pb2.Flow], Facts | None]:
    """``failure_filters(namespaces)`` on a message Relay sent (the client-side re-check, hubble.py):
    its Facts when it is selected, else None; the facts are read once, for the check and the grouping
    (a test holds it equal to FlowMatcher over those filters)."""
    scope = _scoped(namespaces)

    def check(flow: flow_pb2.Flow) -> Facts | None:
        f = facts_of(flow)
        return f if failing(f) and (scope is None or scope(f)) else None

    return check


def _seconds(f: Facts) -> float:
    seconds, nanos = divmod(f.time_ns or 0, 1_000_000_000)
    return float(seconds + nanos / 1e9)


def read_failures(
    files: Sequence[Any],
    namespaces: Sequence[str] | None,
    window: Any,
    out: Callable[[Facts, flow_pb2.Flow | bytes], None],
) -> ScanResult:
    """Stream the failing flows of ``files`` in the window (sources/flow_window.Window; ``--first``/
    ``--last`` are not triage's) to ``out``, in input order: each flow's Facts with its message, or
    with its line when the short path read it (sources/flowlite.py; ``parse_kept`` makes it one)."""
    scope = _scoped(namespaces)
    since, until = window.since, window.until
    relative = window.since_back is not None or window.until_back is not None
    held: list[tuple[Facts, flow_pb2.Flow | bytes]] = []

    def take(f: Facts, keep: flow_pb2.Flow | bytes) -> None:
        if not failing(f) or (scope is not None and not scope(f)):
            return
        if since is not None or until is not None:
            t = f.time_ns
            if t is None or (since is not None and t < since) or (until is not None and t > until):
                return
        if relative:
            held.append((f, keep))
        else:
            out(f, keep)

    lines = LineFacts()

    def short(line: bytes) -> bool:
        f = lines.of(line)
        if f is None:
            return False
        take(f, line)
        return True

    def full(flow: flow_pb2.Flow) -> bool:
        take(facts_of(flow), flow)
        return False

    result = scan(files, full, failure_prefilter(namespaces), track_newest=relative, short=short)
    if relative:
        newest = max([result.newest or 0.0, *(_seconds(f) for f, _ in held)])
        low = newest - window.since_back if window.since_back is not None else None
        high = newest - window.until_back if window.until_back is not None else None
        for f, keep in held:
            t = _seconds(f)
            if (low is None or t >= low) and (high is None or t <= high):
                out(f, keep)
    return result
