"""Hubble ``FlowFilter`` semantics evaluated client-side on our own flow messages.

Why client-side: the offline source (files, snapshots) must select flows exactly as Relay
would, and a Relay/agent older than a filter field silently ignores it, which makes the
result *broader* (hubble-api.md §2.2 "version trap"). Re-checking what came back with the
same code keeps live and offline answers equal (architecture habit 8).

Rules (hubble-api.md §2.2): a flow is kept when the whitelist is empty or any whitelist
filter matches, and no blacklist filter matches. Inside one ``FlowFilter`` every set field
must match (AND); the values of one field are alternatives (OR). Fields this module does not
evaluate (see ``SUPPORTED_FIELDS``) are ignored, like an older server would.

Bad filter *values* (an unparsable CIDR, regex, port or status pattern, an empty pod name)
raise ``ValueError``: Hubble rejects such requests too, and they come from our own code.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flow_endpoints import ip_pred, label_pred, pod_pred, service_pred
from kubectl_meshdoctor.sources.flow_l7 import (
    dns_pred,
    fqdn_pred,
    http_pred,
    status_filter_check,
    status_pred,
    url_path,
)

__all__ = [
    "SUPPORTED_FIELDS",
    "FlowMatcher",
    "in_window",
    "matches",
    "pair_filters",
    "status_filter_check",
]

_Pred = Callable[[flow_pb2.Flow], bool]
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

L7_EVENT_TYPE = 129  # monitor message type of L7 proxy records (§5.9)

SUPPORTED_FIELDS: tuple[str, ...] = (
    "source_ip",
    "source_pod",
    "destination_ip",
    "destination_pod",
    "verdict",
    "event_type",
    "source_fqdn",
    "destination_fqdn",
    "http_status_code",
    "source_label",
    "destination_label",
    "protocol",
    "source_port",
    "destination_port",
    "reply",
    "source_service",
    "destination_service",
    "dns_query",
    "source_identity",
    "destination_identity",
    "http_method",
    "http_path",
    "node_name",
    "ip_version",
    "uuid",
    "traffic_direction",
    "http_url",
    "drop_reason_desc",
    "source_cluster_name",
    "destination_cluster_name",
    "tcp_flags",
)


# --- L4 / L7 helpers -------------------------------------------------------------------


def _ports(flow: flow_pb2.Flow) -> tuple[int, int] | None:
    kind = flow.l4.WhichOneof("protocol")
    if kind in ("TCP", "UDP", "SCTP"):
        l4 = getattr(flow.l4, kind)
        return l4.source_port, l4.destination_port
    return None


def _port_pred(specs: Sequence[str], index: int) -> _Pred:
    wanted = set()
    for spec in specs:
        port = int(spec, 10)
        if not 0 <= port <= 65535:
            raise ValueError(f"bad port {spec!r}")
        wanted.add(port)

    def pred(flow: flow_pb2.Flow) -> bool:
        ports = _ports(flow)
        return ports is not None and ports[index] in wanted

    return pred


_L4_PROTOCOLS = {
    "tcp": ("TCP",),
    "udp": ("UDP",),
    "sctp": ("SCTP",),
    "icmp": ("ICMPv4", "ICMPv6"),
    "icmpv4": ("ICMPv4",),
    "icmpv6": ("ICMPv6",),
    "vrrp": ("VRRP",),
    "igmp": ("IGMP",),
}
_L7_PROTOCOLS = {"dns": "dns", "http": "http", "kafka": "kafka"}


def _protocol_pred(specs: Sequence[str]) -> _Pred:
    l4: set[str] = set()
    l7: set[str] = set()
    for spec in specs:
        name = spec.lower()
        if name in _L4_PROTOCOLS:
            l4.update(_L4_PROTOCOLS[name])
        elif name in _L7_PROTOCOLS:
            l7.add(_L7_PROTOCOLS[name])
        else:
            raise ValueError(f"unknown protocol {spec!r}")
    return lambda flow: flow.l4.WhichOneof("protocol") in l4 or flow.l7.WhichOneof("record") in l7


def _event_type_pred(specs: Sequence[flow_pb2.EventTypeFilter]) -> _Pred:
    def pred(flow: flow_pb2.Flow) -> bool:
        if not flow.HasField("event_type"):
            return False
        ev = flow.event_type
        return any(f.type == ev.type and (not f.match_sub_type or f.sub_type == ev.sub_type) for f in specs)

    return pred


_TCP_FLAG_NAMES = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS")


def _tcp_flags_pred(specs: Sequence[flow_pb2.TCPFlags]) -> _Pred:
    """A TCP flow matches when it has every flag set in one of the entries (hubble-api.md §2.2)."""
    wanted = [tuple(n for n in _TCP_FLAG_NAMES if getattr(spec, n)) for spec in specs]

    def pred(flow: flow_pb2.Flow) -> bool:
        if flow.l4.WhichOneof("protocol") != "TCP":
            return False
        flags = flow.l4.TCP.flags
        return any(all(getattr(flags, n) for n in names) for names in wanted)

    return pred


def _reply_pred(specs: Sequence[bool]) -> _Pred:
    wanted = set(specs)

    def pred(flow: flow_pb2.Flow) -> bool:
        if flow.HasField("is_reply"):
            return flow.is_reply.value in wanted
        # Unknown direction never matches, except drops, which count as requests (§2.2).
        return flow.verdict == flow_pb2.DROPPED and False in wanted

    return pred


def _in(values: Sequence[object], get: Callable[[flow_pb2.Flow], object]) -> _Pred:
    wanted = set(values)
    return lambda flow: get(flow) in wanted


def _compile(flt: flow_pb2.FlowFilter) -> list[_Pred]:
    """One predicate per set field; the filter matches when all of them do."""
    preds: list[_Pred] = []
    f = flt
    if f.source_ip:
        preds.append(ip_pred(f.source_ip, "source"))
    if f.destination_ip:
        preds.append(ip_pred(f.destination_ip, "destination"))
    if f.source_pod:
        preds.append(pod_pred(f.source_pod, "source"))
    if f.destination_pod:
        preds.append(pod_pred(f.destination_pod, "destination"))
    if f.verdict:
        preds.append(_in(f.verdict, lambda x: x.verdict))
    if f.event_type:
        preds.append(_event_type_pred(list(f.event_type)))
    if f.source_fqdn:
        preds.append(fqdn_pred(f.source_fqdn, "source_names"))
    if f.destination_fqdn:
        preds.append(fqdn_pred(f.destination_fqdn, "destination_names"))
    if f.http_status_code:
        preds.append(status_pred(f.http_status_code))
    if f.source_label:
        preds.append(label_pred(f.source_label, "source"))
    if f.destination_label:
        preds.append(label_pred(f.destination_label, "destination"))
    if f.protocol:
        preds.append(_protocol_pred(f.protocol))
    if f.source_port:
        preds.append(_port_pred(f.source_port, 0))
    if f.destination_port:
        preds.append(_port_pred(f.destination_port, 1))
    if f.reply:
        preds.append(_reply_pred(f.reply))
    if f.source_service:
        preds.append(service_pred(f.source_service, "source_service"))
    if f.destination_service:
        preds.append(service_pred(f.destination_service, "destination_service"))
    if f.dns_query:
        preds.append(dns_pred(f.dns_query))
    if f.source_identity:
        preds.append(_in(f.source_identity, lambda x: x.source.identity))
    if f.destination_identity:
        preds.append(_in(f.destination_identity, lambda x: x.destination.identity))
    if f.http_method:
        preds.append(http_pred(f.http_method, lambda h: h.method, regex=False))
    if f.http_path:
        preds.append(http_pred(f.http_path, url_path, regex=True))
    if f.http_url:
        preds.append(http_pred(f.http_url, lambda h: h.url, regex=True))
    if f.node_name:
        patterns = list(f.node_name)
        preds.append(lambda x: any(fnmatch.fnmatchcase(x.node_name, p) for p in patterns))
    if f.ip_version:
        preds.append(_in(f.ip_version, lambda x: x.IP.ipVersion))
    if f.uuid:
        preds.append(_in(f.uuid, lambda x: x.uuid))
    if f.traffic_direction:
        preds.append(_in(f.traffic_direction, lambda x: x.traffic_direction))
    if f.drop_reason_desc:
        preds.append(_in(f.drop_reason_desc, lambda x: x.drop_reason_desc))
    if f.tcp_flags:
        preds.append(_tcp_flags_pred(list(f.tcp_flags)))
    if f.source_cluster_name:
        preds.append(_in(f.source_cluster_name, lambda x: x.source.cluster_name))
    if f.destination_cluster_name:
        preds.append(_in(f.destination_cluster_name, lambda x: x.destination.cluster_name))
    return preds


class FlowMatcher:
    """Compiled whitelist/blacklist, for checking many flows against the same filters."""

    __slots__ = ("_black", "_white")

    def __init__(
        self,
        whitelist: Sequence[flow_pb2.FlowFilter],
        blacklist: Sequence[flow_pb2.FlowFilter] = (),
    ) -> None:
        self._white = [_compile(f) for f in whitelist]
        self._black = [_compile(f) for f in blacklist]

    def __call__(self, flow: flow_pb2.Flow) -> bool:
        if self._white and not any(all(p(flow) for p in preds) for preds in self._white):
            return False
        return not any(all(p(flow) for p in preds) for preds in self._black)


def matches(
    flow: flow_pb2.Flow,
    whitelist: Sequence[flow_pb2.FlowFilter],
    blacklist: Sequence[flow_pb2.FlowFilter],
) -> bool:
    """Hubble's ``Apply``: (empty whitelist or any whitelist filter) and no blacklist filter.

    Compiles the filters on every call; use ``FlowMatcher`` for many flows.
    """
    return FlowMatcher(whitelist, blacklist)(flow)


def pair_filters(src_pods: Sequence[str], dst_pods: Sequence[str]) -> list[flow_pb2.FlowFilter]:
    """Whitelist for both directions of a pair: A→B ORed with B→A.

    Replies and L7 responses have source and destination swapped (§4.1), so evidence for one
    call needs both. With only one side given this is hubble's ``--pod X``:
    ``[{source_pod: X}, {destination_pod: X}]``; with neither, an empty list (everything).
    """
    src, dst = list(src_pods), list(dst_pods)
    if src and dst:
        return [
            flow_pb2.FlowFilter(source_pod=src, destination_pod=dst),
            flow_pb2.FlowFilter(source_pod=dst, destination_pod=src),
        ]
    pods = src or dst
    if not pods:
        return []
    return [flow_pb2.FlowFilter(source_pod=pods), flow_pb2.FlowFilter(destination_pod=pods)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(when: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # naive datetimes are taken as UTC
    return (when - _EPOCH) // timedelta(microseconds=1) * 1000


def in_window(flow: flow_pb2.Flow, since: datetime | None, until: datetime | None) -> bool:
    """``since <= flow.time <= until`` (either bound optional), like GetFlowsRequest since/until.

    A flow without a time cannot be placed, so it is outside any bounded window.
    """
    if since is None and until is None:
        return True
    if not flow.HasField("time"):
        return False
    t = flow.time.seconds * 1_000_000_000 + flow.time.nanos
    if since is not None and t < _ns(since):
        return False
    return until is None or t <= _ns(until)
