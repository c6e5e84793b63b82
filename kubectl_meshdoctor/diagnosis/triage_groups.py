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
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kubectl_meshdoctor._proto import flow_pb2

__all__ = ["KEEP", "REDIRECTED", "Group", "Grouper", "Peer", "orient", "signature"]

KEEP = 64  # newest flows per call kept for explain's evidence (the call's own counts are exact)
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


def orient(flow: flow_pb2.Flow) -> bool:
    """True when the flow runs server → client (a reply or an L7 response)."""
    if flow.HasField("is_reply") and flow.is_reply.value:
        return True
    return flow.HasField("l7") and flow.l7.type == flow_pb2.RESPONSE


def signature(flow: flow_pb2.Flow) -> str:
    http = flow.l7.http if flow.l7.WhichOneof("record") == "http" else None
    if flow.verdict == flow_pb2.DROPPED:
        if http is not None:
            return "HTTP 403"  # Cilium's HTTP proxy denied the request and answers 403 Access denied
        if flow.HasField("l7"):
            return f"dropped: L7 {flow.l7.WhichOneof('record') or 'request'}"
        reason = _name(flow_pb2.DropReason, flow.drop_reason_desc) if flow.drop_reason_desc else str(flow.drop_reason)
        return f"dropped: {reason}"
    if flow.verdict == flow_pb2.ERROR:
        return "error"
    if flow.verdict == flow_pb2.REDIRECTED:
        return REDIRECTED
    if http is not None and http.code >= 400:
        return f"HTTP {http.code}"
    return "reset"


def _ports(flow: flow_pb2.Flow) -> tuple[int, int]:
    kind = flow.l4.WhichOneof("protocol")
    if kind in ("TCP", "UDP", "SCTP"):
        l4 = getattr(flow.l4, kind)
        return int(l4.source_port), int(l4.destination_port)
    return 0, 0


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

    def _peer(self, ep: Any, ip: str, service: Any = None) -> Peer:
        if ep.pod_name:
            key: tuple[str, ...] = (ep.namespace, ep.pod_name)
        else:
            key = (ip, service.namespace, service.name) if service is not None else (ip,)
        peer = self._peers.get(key)
        if peer is None:
            peer = self._peers[key] = self._name(ep, ip, service)
        return peer

    def _name(self, ep: Any, ip: str, service: Any) -> Peer:
        if ep.pod_name:
            pod = self.model.pods.get(f"{ep.namespace}/{ep.pod_name}") if self.model is not None else None
            if pod is not None:
                kind, name = pod.workload_kind, pod.workload_name or pod.name
            elif ep.workloads:
                kind, name = str(ep.workloads[0].kind), str(ep.workloads[0].name)
            else:
                kind, name = "Workload", workload_of(ep.pod_name)
            if kind == "Pod":
                return Peer("pod", ep.namespace, ep.pod_name, f"{ep.namespace}/pod/{ep.pod_name}", "Pod")
            short = _REF_KINDS.get(kind)
            ref = f"{ep.namespace}/{short}/{name}" if short else f"{ep.namespace}/{name}"
            return Peer("workload", ep.namespace, name, ref, kind)
        if service is not None and service.name:
            return Peer("service", service.namespace, service.name, f"{service.namespace}/svc/{service.name}")
        return Peer("external", "", ip or "?", ip or "?")

    def _server_port(self, server: Peer, port: int, service: Any) -> int:
        """A Service frontend port becomes its targetPort when the objects say which."""
        if server.kind != "service" or self.model is None:
            return port
        svc = self.model.services.get(f"{service.namespace}/{service.name}")
        sp = next((p for p in svc.ports if p.port == port), None) if svc is not None else None
        return sp.target_port if sp is not None and isinstance(sp.target_port, int) else port

    def add(self, flow: flow_pb2.Flow) -> None:
        self.add_to_group(flow)

    def add_to_group(self, flow: flow_pb2.Flow) -> Group:
        self.total += 1
        back = orient(flow)
        sport, dport = _ports(flow)
        if back:
            client = self._peer(flow.destination, flow.IP.destination)
            server = self._peer(flow.source, flow.IP.source, flow.source_service)
            port, service = sport, flow.source_service
        else:
            client = self._peer(flow.source, flow.IP.source)
            server = self._peer(flow.destination, flow.IP.destination, flow.destination_service)
            port, service = dport, flow.destination_service
        port = self._server_port(server, port, service)
        sig = signature(flow)
        key = (client.label, server.label, port, sig)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(client, server, port, sig)
        group.flows += 1
        when = flow.time.seconds * 1_000_000_000 + flow.time.nanos
        group.first_ns = when if not group.first_ns else min(group.first_ns, when)
        group.last_ns = max(group.last_ns, when)
        if flow.node_name:
            group.nodes.add(flow.node_name)
        pod = flow.destination if back else flow.source
        if pod.pod_name:
            group.client_pods.add(f"{pod.namespace}/{pod.pod_name}")
        group.verdicts[_name(flow_pb2.Verdict, flow.verdict)] += 1
        if flow.l7.WhichOneof("record") == "http":
            http = flow.l7.http
            path = (urlsplit(http.url).path or "/") if http.url else ""
            group.requests[(http.method, path, int(http.code))] += 1
        group.kept.append(flow)
        return group
