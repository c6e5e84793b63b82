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
number; ``"code"``; ``RST``), and with ``-n``, one of the namespaces as a JSON string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
from kubectl_meshdoctor.sources.flowscan import Prefilter, ScanResult

__all__ = ["POLICY_VERDICT", "failure_filters", "failure_prefilter", "is_failure", "read_failures"]

# how the selected fields appear in jsonpb lines: the verdict by name (or number, when a writer used
# numbers) in one regex pass anchored on its key; an HTTP status and the RST flag by their keys
_VERDICT = re.compile(rb'"verdict": ?(?:"(?:DROPPED|ERROR|REDIRECTED)"|[235]\b)')
_FAILURE_NEEDLES = ('"code"', "RST")
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


def read_failures(
    files: Sequence[Any],
    namespaces: Sequence[str] | None,
    window: Any,
    out: Callable[[flow_pb2.Flow], None],
) -> ScanResult:
    """Stream the failing flows of ``files`` in the window (sources/flow_window.Window) to ``out``."""
    from kubectl_meshdoctor.sources.flow_window import select
    from kubectl_meshdoctor.sources.pair_flows import PairSpec

    matcher = FlowMatcher(failure_filters(namespaces))
    spec = PairSpec(lambda flow: 1, failure_prefilter(namespaces))
    return select(files, spec, matcher, window, out)
