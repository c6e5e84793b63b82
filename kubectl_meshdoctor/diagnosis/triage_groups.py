"""Failing flows grouped into failing calls (issue 19 §2).

A call is (client, server, server port, failure signature). Each flow is oriented first: a reply
(``is_reply``) or an L7 response runs server → client, so its source is the server and its source
port the server's port; anything else runs client → server. The server port is the one after
Service translation (the pod's port as Hubble sees it at the endpoint; a Service frontend port is
mapped to its targetPort when the objects have the Service). Ends are named as ``explain`` takes
them: a pod's workload (from the objects, else the flow's ``workloads`` field, else the pod name
without its ReplicaSet hashes), a Service when Hubble saw only its frontend, else the IP.

The signature says how it failed: ``dropped: REASON`` (datapath and policy-verdict drops alike),
``HTTP 403`` for a request Cilium's HTTP proxy denied (it answers 403 Access denied; its response
record says so too, so both count for one call), ``HTTP NNN``, ``reset`` (TCP RST), ``error``, or
``REDIRECTED`` for connections redirected to Cilium's L7 proxy (candidates, see diagnosis/triage.py).
Counts are exact; each group keeps its newest ``KEEP`` flows for explain's evidence (enough to judge
what the call shows; tallying every flow of every call would cost more than explaining them).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flow_facts import Endpoint, Facts, facts_of

__all__ = ["KEEP", "REDIRECTED", "Group", "Grouper", "Peer", "call_key", "orient", "signature"]

KEEP = 64  # newest flows per call kept for explain's evidence (the call's own counts are exact)
_SEEN = 65536  # flows that differ only in time, node and client port: one lookup (bounded memory)
REDIRECTED = "redirected to Cilium's L7 proxy"  # a candidate, not a failure by itself
_SAFE = frozenset("bcdfghjklmnpqrstvwxz2456789")  # the alphabet of Kubernetes name suffixes and hashes
_REF_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}


@dataclass(frozen=True, slots=True)
class Peer:
    kind: str  # workload | pod | service | external
    namespace: str
    name: str
    ref: str  # the reference explain takes
    workload_kind: str = ""

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def _name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return str(value)


def workload_of(pod: str) -> str:
    """A pod name without what its controller appended: ``-<template hash>-<suffix>`` (Deployment),
    ``-<suffix>`` (DaemonSet, Job), ``-<ordinal>`` (StatefulSet); else the pod name itself."""
    parts = pod.split("-")
    if len(parts) < 2:
        return pod
    last = parts[-1]
    if last.isdigit():
        return "-".join(parts[:-1])
    if len(last) != 5 or not set(last) <= _SAFE:
        return pod
    before = parts[-2]
    if len(parts) >= 3 and 6 <= len(before) <= 10 and set(before) <= _SAFE and any(c.isdigit() for c in before):
        return "-".join(parts[:-2])
    return "-".join(parts[:-1])


def call_key(f: Facts) -> tuple[Any, ...]:
    """Everything the call of a flow and its tallies read but its time, node and client port: flows
    with one key are in one group (its first member says whether the flow runs server → client)."""
    back = orient(f)
    sport, dport = f.ports
    return (back, sport if back else dport, f.verdict, f.drop_reason, f.drop_reason_desc, f.l7, f.record,
            f.http, f.source, f.destination, f.source_ip, f.destination_ip, f.source_service,
            f.destination_service)  # fmt: skip


def orient(flow: flow_pb2.Flow | Facts) -> bool:
    """True when the flow runs server → client (a reply or an L7 response)."""
    f = flow if isinstance(flow, Facts) else facts_of(flow)
    if f.reply is not None:
        return f.reply
    return f.l7 and f.l7_type == flow_pb2.RESPONSE


def signature(flow: flow_pb2.Flow | Facts) -> str:
    f = flow if isinstance(flow, Facts) else facts_of(flow)
    http = f.http if f.record == "http" else None
    if f.verdict == flow_pb2.DROPPED:
        if http is not None:
            return "HTTP 403"  # Cilium's HTTP proxy denied the request and answers 403 Access denied
        if f.l7:
            return f"dropped: L7 {f.record or 'request'}"
        reason = _name(flow_pb2.DropReason, f.drop_reason_desc) if f.drop_reason_desc else str(f.drop_reason)
        return f"dropped: {reason}"
    if f.verdict == flow_pb2.ERROR:
        return "error"
    if f.verdict == flow_pb2.REDIRECTED:
        return REDIRECTED
    if http is not None and http[0] >= 400:
        return f"HTTP {http[0]}"
    return "reset"


@dataclass(slots=True)
class Group:
    client: Peer
    server: Peer
    port: int
    signature: str
    flows: int = 0
    first_ns: int = 0
    last_ns: int = 0
    nodes: set[str] = field(default_factory=set)
    client_pods: set[str] = field(default_factory=set)
    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # (method, path, status)
    verdicts: Counter[str] = field(default_factory=Counter)
    kept: deque[flow_pb2.Flow] = field(default_factory=lambda: deque(maxlen=KEEP))
    # offline, once a kept flow came as its line: the kept flows and lines in input order, made
    # messages when the read is over (Grouper.materialize)
    pending: deque[flow_pb2.Flow | bytes] | None = None

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.client.label, self.server.label, self.port, self.signature)

    def request(self) -> tuple[str, str]:
        """The request explain reasons about: the one seen most, else GET /."""
        if not self.requests:
            return "GET", "/"
        (method, path, _), _n = max(self.requests.items(), key=lambda kv: (kv[1], kv[0]))
        return method or "GET", path or "/"


class Grouper:
    """add() one failing flow at a time; ``groups`` by key. ``model``: name ends from the objects."""

    def __init__(self, model: Any = None) -> None:
        self.model = model
        self.groups: dict[tuple[str, str, int, str], Group] = {}
        self.total = 0
        self._peers: dict[tuple[str, ...], Peer] = {}  # a pod (or address) names the same end every time
        self._seen: dict[tuple[Any, ...], tuple[Group, str, str, tuple[str, str, int] | None]] = {}

    def _peer(self, ep: Endpoint, ip: str, service: tuple[str, str] | None = None) -> Peer:
        if ep[1]:
            key: tuple[str, ...] = (ep[0], ep[1])
        else:
            key = (ip, *service) if service is not None else (ip,)
        peer = self._peers.get(key)
        if peer is None:
            peer = self._peers[key] = self._name(ep, ip, service)
        return peer

    def _name(self, ep: Endpoint, ip: str, service: tuple[str, str] | None) -> Peer:
        namespace, pod_name, workload = ep
        if pod_name:
            pod = self.model.pods.get(f"{namespace}/{pod_name}") if self.model is not None else None
            if pod is not None:
                kind, name = pod.workload_kind, pod.workload_name or pod.name
            elif workload is not None:
                name, kind = workload
            else:
                kind, name = "Workload", workload_of(pod_name)
            if kind == "Pod":
                return Peer("pod", namespace, pod_name, f"{namespace}/pod/{pod_name}", "Pod")
            short = _REF_KINDS.get(kind)
            ref = f"{namespace}/{short}/{name}" if short else f"{namespace}/{name}"
            return Peer("workload", namespace, name, ref, kind)
        if service is not None and service[1]:
            return Peer("service", service[0], service[1], f"{service[0]}/svc/{service[1]}")
        return Peer("external", "", ip or "?", ip or "?")

    def _server_port(self, server: Peer, port: int, service: tuple[str, str]) -> int:
        """A Service frontend port becomes its targetPort when the objects say which."""
        if server.kind != "service" or self.model is None:
            return port
        svc = self.model.services.get(f"{service[0]}/{service[1]}")
        sp = next((p for p in svc.ports if p.port == port), None) if svc is not None else None
        return sp.target_port if sp is not None and isinstance(sp.target_port, int) else port

    def add(self, flow: flow_pb2.Flow) -> None:
        self.add_to_group(flow)

    def add_to_group(self, flow: flow_pb2.Flow) -> Group:
        group = self.add_facts(facts_of(flow))
        group.kept.append(flow)
        return group

    def add_read(self, facts: Facts, keep: flow_pb2.Flow | bytes) -> None:
        """Offline (sources/triage_flows.read_failures): a flow's facts with its message, or with its
        line when the short path read it; ``materialize`` once the read is over."""
        group = self.add_facts(facts)
        if group.pending is None:
            if isinstance(keep, flow_pb2.Flow):
                group.kept.append(keep)
                return
            group.pending = deque(group.kept, maxlen=KEEP)
        group.pending.append(keep)

    def materialize(self, parse: Callable[[bytes], flow_pb2.Flow | None]) -> None:
        """Every group's kept lines as messages, in input order."""
        for group in self.groups.values():
            if group.pending is not None:
                flows = (k if isinstance(k, flow_pb2.Flow) else parse(k) for k in group.pending)
                group.kept = deque((f for f in flows if f is not None), maxlen=KEEP)
                group.pending = None

    def _lookup(self, f: Facts) -> tuple[Group, str, str, tuple[str, str, int] | None]:
        same = call_key(f)
        seen = self._seen.get(same)
        if seen is None:
            if len(self._seen) >= _SEEN:
                self._seen.clear()
            seen = self._seen[same] = self._call(f, same[0])
        return seen

    def add_call(self, f: Facts, count: int, first_ns: int, last_ns: int, nodes: Iterable[str]) -> Group:
        """``count`` flows of one call key (``call_key(f)``, ``f`` one of them), every one with a time, at
        once: what ``add_facts`` on each gives (``first_ns``/``last_ns`` their earliest and latest time,
        ``nodes`` the nodes they name); live triage tallies them as they arrive (diagnosis/triage_live.py)."""
        self.total += count
        group, client_pod, verdict, request = self._lookup(f)
        group.flows += count
        group.first_ns = first_ns if not group.first_ns else min(group.first_ns, first_ns)
        if last_ns > group.last_ns:
            group.last_ns = last_ns
        group.nodes.update(nodes)
        if client_pod:
            group.client_pods.add(client_pod)
        group.verdicts[verdict] += count
        if request is not None:
            group.requests[request] += count
        return group

    def add_facts(self, f: Facts) -> Group:
        self.total += 1
        group, client_pod, verdict, request = self._lookup(f)
        group.flows += 1
        when = f.time_ns or 0
        group.first_ns = when if not group.first_ns else min(group.first_ns, when)
        if when > group.last_ns:
            group.last_ns = when
        if f.node:
            group.nodes.add(f.node)
        if client_pod:
            group.client_pods.add(client_pod)
        group.verdicts[verdict] += 1
        if request is not None:
            group.requests[request] += 1
        return group

    def _call(self, f: Facts, back: bool) -> tuple[Group, str, str, tuple[str, str, int] | None]:
        """The call of a flow, its client pod, verdict name and request (method, path, status)."""
        sport, dport = f.ports
        if back:
            client = self._peer(f.destination, f.destination_ip)
            server = self._peer(f.source, f.source_ip, f.source_service)
            port, service = sport, f.source_service
        else:
            client = self._peer(f.source, f.source_ip)
            server = self._peer(f.destination, f.destination_ip, f.destination_service)
            port, service = dport, f.destination_service
        port = self._server_port(server, port, service)
        sig = signature(f)
        key = (client.label, server.label, port, sig)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(client, server, port, sig)
        namespace, pod_name, _ = f.destination if back else f.source
        request = None
        if f.http is not None and f.record == "http":
            code, method, url = f.http
            request = (method, (urlsplit(url).path or "/") if url else "", code)
        return group, f"{namespace}/{pod_name}" if pod_name else "", _name(flow_pb2.Verdict, f.verdict), request
