"""Select the pair's flows (both directions), aggregate, and judge agreement (B23).

Flows are messages of our own proto (same type live and offline). Streams are
aggregated as they arrive (constant memory) by FlowTally.add().
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kubectl_meshdoctor.findings.types import Evidence
from kubectl_meshdoctor.model.objects import Pod

_POLICY_DROPS = ("POLICY_DENIED", "POLICY_DENY", "AUTH_REQUIRED")


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


@dataclass(slots=True)
class PairSelector:
    client_pods: set[str]  # "ns/name"
    server_pods: set[str]
    client_ips: set[str]
    server_ips: set[str]

    @classmethod
    def of(cls, clients: list[Pod], servers: list[Pod], server_ip: str | None = None) -> PairSelector:
        return cls(
            {p.key() for p in clients},
            {p.key() for p in servers},
            {p.ip for p in clients if p.ip},
            {p.ip for p in servers if p.ip} | ({server_ip} if server_ip else set()),
        )

    def direction(self, flow: Any) -> int:
        """1 = client->server, -1 = server->client, 0 = not this pair."""
        src = f"{flow.source.namespace}/{flow.source.pod_name}" if flow.source.pod_name else ""
        dst = f"{flow.destination.namespace}/{flow.destination.pod_name}" if flow.destination.pod_name else ""
        sip, dip = flow.IP.source, flow.IP.destination
        src_client = src in self.client_pods or (not src and sip in self.client_ips)
        dst_server = dst in self.server_pods or (not dst and dip in self.server_ips)
        if src_client and dst_server:
            return 1
        src_server = src in self.server_pods or (not src and sip in self.server_ips)
        dst_client = dst in self.client_pods or (not dst and dip in self.client_ips)
        return -1 if src_server and dst_client else 0


@dataclass(slots=True)
class FlowTally:
    """Counters over the pair's flows; add() one flow at a time."""

    method: str
    path: str
    ports: frozenset[int] = frozenset()  # the server ports this request arrives on (empty = any)
    flows: int = 0
    on_port: int = 0  # flows of this pair on one of ``ports`` (either direction)
    this_request_l7: int = 0  # HTTP records of exactly this method and path
    verdicts: Counter[str] = field(default_factory=Counter)
    drop_reasons: Counter[str] = field(default_factory=Counter)
    http_status: Counter[str] = field(default_factory=Counter)
    other_path_l7: int = 0
    forward_policy_drops: int = 0
    forward_forwarded: int = 0
    to_proxy: int = 0
    redirected: int = 0
    l7_records: int = 0
    l7_denied_requests: int = 0
    audit: int = 0
    last_http: str | None = None
    max_latency_s: float = 0.0  # slowest L7 record of this request (istio-timeout)
    denied_by: list[str] = field(default_factory=list)
    allowed_by: list[str] = field(default_factory=list)
    # every HTTP request of the pair, whatever its method and path: (method, path) -> "request" (a
    # request record), an HTTP status, or "denied" (Cilium's proxy) -> count
    requests: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def add(self, flow: Any, direction: int) -> None:
        from kubectl_meshdoctor._proto import flow_pb2

        self.flows += 1
        if not self.ports or _server_port(flow, direction) in self.ports:
            self.on_port += 1
        verdict = _enum_name(flow_pb2.Verdict, flow.verdict)
        self.verdicts[verdict] += 1
        if verdict == "AUDIT":
            self.audit += 1
        if verdict == "DROPPED" and flow.Type == 2:
            pass  # an L7 request denied by Cilium's proxy: counted as an HTTP outcome, not a drop reason
        elif verdict == "DROPPED":
            reason = (
                _enum_name(flow_pb2.DropReason, flow.drop_reason_desc)
                if flow.drop_reason_desc
                else str(flow.drop_reason or "UNKNOWN")
            )
            self.drop_reasons[reason] += 1
            if direction == 1 and reason in _POLICY_DROPS and flow.Type != 2:
                self.forward_policy_drops += 1
            for pol in list(flow.ingress_denied_by) + list(flow.egress_denied_by):
                _note(self.denied_by, pol)
        elif direction == 1 and flow.Type != 2:
            self.forward_forwarded += 1
        for pol in list(flow.ingress_allowed_by) + list(flow.egress_allowed_by):
            _note(self.allowed_by, pol)
        if flow.trace_observation_point == flow_pb2.TO_PROXY:
            self.to_proxy += 1
        elif verdict == "REDIRECTED":
            self.redirected += 1
        if flow.HasField("l7"):
            self.l7_records += 1
            if flow.l7.HasField("http"):
                self._http(flow, verdict)

    def _http(self, flow: Any, verdict: str) -> None:
        http = flow.l7.http
        path = urlsplit(http.url).path or "/" if http.url else None
        seen = self.requests.setdefault((http.method or "?", path or "?"), Counter())
        seen[str(http.code) if http.code else ("denied" if verdict == "DROPPED" else "request")] += 1
        if path is not None and (path != self.path or (http.method and http.method != self.method)):
            self.other_path_l7 += 1
            return
        if path is not None:
            self.this_request_l7 += 1
        if flow.l7.latency_ns:
            self.max_latency_s = max(self.max_latency_s, flow.l7.latency_ns / 1e9)
        if http.code:
            self.http_status[str(http.code)] += 1
            self.last_http = str(http.code)
        elif verdict == "DROPPED":
            self.l7_denied_requests += 1

    def observed(self) -> str | None:
        """What the flows suggest the client saw, or None when they say nothing."""
        if self.last_http is not None:
            code = int(self.last_http)
            return "ok" if code < 400 else f"http-{code}"
        if self.l7_denied_requests:
            return "http-403"
        if self.forward_policy_drops:
            return "dropped"
        if self.audit:
            return "audit"
        if (self.to_proxy or self.redirected) and not self.l7_records:
            return "proxied-no-l7"
        if self.forward_forwarded:
            return "forwarded"
        return None

    def evidence(self, source: str, window: str) -> Evidence:
        parts = [f"{self.flows} flows{window}"]
        for name, count in _ranked(self.verdicts):
            parts.append(f"{count} {name}")
        if self.drop_reasons:
            parts.append("drops: " + ", ".join(f"{n}×{c}" for n, c in _ranked(self.drop_reasons)))
        if self.l7_denied_requests:
            parts.append(f"{self.l7_denied_requests} HTTP request(s) denied by Cilium's proxy")
        if self.http_status:
            parts.append(
                f"HTTP {self.method} {self.path}: " + ", ".join(f"{c}×{n}" for c, n in sorted(self.http_status.items()))
            )
        elif self.to_proxy or self.redirected:
            parts.append(f"{self.to_proxy} to-proxy traces, {self.l7_records} L7 records")
        if self.denied_by:
            parts.append("Hubble names the deny: " + ", ".join(sorted(self.denied_by)))
        if self.allowed_by:
            parts.append("allowed by (Hubble): " + ", ".join(sorted(self.allowed_by)))
        if self.other_path_l7:
            parts.append(f"{self.other_path_l7} L7 records for other requests")
        return Evidence(
            source=source,
            flows=self.flows,
            verdicts=dict(_ranked(self.verdicts)),
            drop_reasons=dict(_ranked(self.drop_reasons)),
            http_status=dict(sorted(self.http_status.items())),
            agrees=True,
            summary=", ".join(parts),
            observed=self.observed(),
            window=window,
        )


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most frequent first, ties by name: the same flows in another order read the same."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _server_port(flow: Any, direction: int) -> int:
    """The server-side port of a flow: the destination port forwards, the source port on replies."""
    for proto in ("TCP", "UDP", "SCTP"):
        if flow.l4.HasField(proto):
            l4 = getattr(flow.l4, proto)
            return int(l4.destination_port if direction == 1 else l4.source_port)
    return 0


def _note(names: list[str], pol: Any) -> None:
    """Policy attribution from Hubble (*_allowed_by / *_denied_by): corroboration, not truth."""
    name = f"{pol.kind or 'policy'} {pol.namespace}/{pol.name}".replace(" /", " ")
    if name not in names:
        names.append(name)


class FlowIndex:
    """Flows keyed by pod ("ns/name") and by IP of both ends: a pair's candidates without a full scan."""

    def __init__(self, flows: list[Any]) -> None:
        self.by_key: dict[str, list[int]] = {}
        self.flows = flows
        self.newest = 0.0
        for i, flow in enumerate(flows):
            self.newest = max(self.newest, flow.time.seconds + flow.time.nanos / 1e9)
            for ep, ip in ((flow.source, flow.IP.source), (flow.destination, flow.IP.destination)):
                key = f"{ep.namespace}/{ep.pod_name}" if ep.pod_name else ip
                if key:
                    self.by_key.setdefault(key, []).append(i)

    def candidates(self, pair: PairSelector) -> list[Any]:
        keys = pair.client_pods | pair.client_ips
        hits: set[int] = set()
        for key in keys:
            hits.update(self.by_key.get(key, ()))
        return [self.flows[i] for i in sorted(hits)]


def select_and_tally(
    flows: Iterable[Any],
    pair: PairSelector,
    method: str,
    path: str,
    since_seconds: float | None,
    last: int | None,
    newest: float | None = None,
    ports: frozenset[int] = frozenset(),
) -> FlowTally:
    """Offline window: --since is relative to the newest flow in the input (a snapshot is a past moment)."""
    chosen: list[tuple[Any, int]] = []
    all_flows = list(flows)
    if newest is None:
        newest = max((f.time.seconds + f.time.nanos / 1e9 for f in all_flows), default=0.0)
    cutoff = newest - since_seconds if since_seconds is not None and newest else None
    for flow in all_flows:
        d = pair.direction(flow)
        if not d:
            continue
        reply = flow.is_reply.value if flow.HasField("is_reply") else None
        if (d == 1 and reply is True) or (d == -1 and reply is not True):
            continue  # the other call: the server calling the client, and its replies
        if cutoff is not None and flow.time.seconds + flow.time.nanos / 1e9 < cutoff:
            continue
        chosen.append((flow, d))
    if last is not None:  # the newest N by flow time, not by where they stood in the files
        chosen.sort(key=lambda fd: (fd[0].time.seconds, fd[0].time.nanos))
        chosen = chosen[-last:]
    tally = FlowTally(method, path, ports)
    for flow, d in chosen:
        tally.add(flow, d)
    return tally
