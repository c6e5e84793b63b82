"""``hubble observe`` filter flags for ``flows`` (issue 13), as FlowFilters: the same whitelist is
sent to Relay live and applied by ``flowfilter.FlowMatcher`` offline, so both mean the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowfilter import status_filter_check

__all__ = ["EVENT_TYPES", "TRACE_SUBTYPES", "FlowOptions", "combine", "event_type_filter"]

# Monitor message types (hubble --type NAME[:SUBTYPE]) and the trace observation points (§5.9).
EVENT_TYPES = {"drop": 1, "debug": 2, "capture": 3, "trace": 4, "policy-verdict": 5, "recorder": 6,
               "trace-sock": 7, "l7": 129, "agent": 130}  # fmt: skip
TRACE_SUBTYPES = {"to-endpoint": 0, "to-proxy": 1, "to-host": 2, "to-stack": 3, "to-overlay": 4,
                  "from-endpoint": 5, "from-proxy": 6, "from-host": 7, "from-stack": 8, "from-overlay": 9,
                  "from-network": 10, "to-network": 11, "from-crypto": 12, "to-crypto": 13}  # fmt: skip


@dataclass(frozen=True, slots=True)
class FlowOptions:
    """``hubble observe`` filters on top of the pair: values of one flag are ORed, flags ANDed;
    ``ports`` match the source or the destination port, as ``hubble observe --port``."""

    verdicts: tuple[str, ...] = ()
    http_status: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    types: tuple[str, ...] = ()

    def filters(self) -> list[flow_pb2.FlowFilter]:
        """The option filters as a whitelist (empty: no constraint). Bad values raise ValueError."""
        base = flow_pb2.FlowFilter(
            verdict=[_verdict(v) for v in self.verdicts],
            http_status_code=list(self.http_status),
            event_type=[event_type_filter(t) for t in self.types],
        )
        if self.http_status:
            status_filter_check(self.http_status)  # validate early, with hubble's message
        if not self.ports:
            return [base] if base.ByteSize() else []
        out = []
        for field_name in ("source_port", "destination_port"):
            f = flow_pb2.FlowFilter()
            f.CopyFrom(base)
            getattr(f, field_name).extend(str(p) for p in self.ports)
            out.append(f)
        return out


def _verdict(name: str) -> str:
    try:
        flow_pb2.Verdict.Value(name.upper())
        return name.upper()
    except ValueError:
        names = ", ".join(n for n in flow_pb2.Verdict.keys() if n != "VERDICT_UNKNOWN")  # noqa: SIM118
        raise ValueError(f"unknown verdict {name!r}; use one of {names}") from None


def event_type_filter(spec: str) -> flow_pb2.EventTypeFilter:
    """``trace``, ``trace:to-endpoint``, ``drop:133``, ``l7``, ``4``, ``4:0``."""
    name, sep, sub = spec.strip().lower().partition(":")
    kind = EVENT_TYPES.get(name, int(name) if name.isdigit() else None)
    if kind is None:
        raise ValueError(f"unknown event type {spec!r}; use one of {', '.join(EVENT_TYPES)} (optionally :SUBTYPE)")
    if not sep:
        return flow_pb2.EventTypeFilter(type=kind)
    sub_type = TRACE_SUBTYPES.get(sub) if kind == 4 else None
    if sub_type is None and sub.isdigit():
        sub_type = int(sub)
    if sub_type is None:
        raise ValueError(f"unknown sub-type {sub!r} in {spec!r}")
    return flow_pb2.EventTypeFilter(type=kind, sub_type=sub_type, match_sub_type=True)


def combine(pair: Sequence[flow_pb2.FlowFilter], options: Sequence[flow_pb2.FlowFilter]) -> list[flow_pb2.FlowFilter]:
    """AND of two whitelists as one whitelist (each pair filter merged with each option filter),
    what Relay receives: ``(a1 or a2) and (b1 or b2)`` = ``a1b1 or a1b2 or a2b1 or a2b2``."""
    if not options:
        return list(pair)
    if not pair:
        return list(options)
    out = []
    for a in pair:
        for b in options:
            f = flow_pb2.FlowFilter()
            f.CopyFrom(a)
            f.MergeFrom(b)
            out.append(f)
    return out
