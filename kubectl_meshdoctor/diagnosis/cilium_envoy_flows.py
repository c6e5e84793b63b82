"""Hubble evidence for the leg behind Cilium's Gateway API Envoy (issue 20 §4, §7; semantics-gateways.md
C2, Part H). Cilium's Envoy is no pod: its upstream connections carry the reserved identity ingress (8)
from the node's ingress IP, so the leg's flows are those between a pod of the backend that answers and
a peer Hubble labels `reserved:ingress`. Offline they are read from the input (one pass, the backend's
pods as needles); live, Relay is asked for the backend pods' flows and the same selection runs on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.agreement import judge_agreement
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.evidence import FlowIndex, PairSelector, select_and_tally
from kubectl_meshdoctor.diagnosis.gateway_api_hop import gateway_hop
from kubectl_meshdoctor.diagnosis.northsouth_entry import entry, istio_gateway
from kubectl_meshdoctor.diagnosis.offline_flows import read_selected
from kubectl_meshdoctor.engines.gateway_api_match import HttpRequest
from kubectl_meshdoctor.findings.types import Decision, Evidence, HopResult
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.sources.flowfilter import pair_filters
from kubectl_meshdoctor.sources.flowscan import Prefilter
from kubectl_meshdoctor.sources.pair_flows import side_needles

INGRESS_IDENTITY = 8
INGRESS_LABEL = "reserved:ingress"


def _is_ingress(ep: Any) -> bool:
    return bool(ep.identity == INGRESS_IDENTITY or INGRESS_LABEL in ep.labels)


@dataclass(slots=True)
class FromIngress(PairSelector):
    """Cilium's Envoy (identity ingress) → the backend's pods, and the replies; and the outside client →
    Envoy at the Gateway's own addresses (the listener's L7 records, which carry the request and the
    answer the client got)."""

    gateway_ips: frozenset[str] = frozenset()

    def direction(self, flow: Any) -> int:
        src = f"{flow.source.namespace}/{flow.source.pod_name}" if flow.source.pod_name else ""
        dst = f"{flow.destination.namespace}/{flow.destination.pod_name}" if flow.destination.pod_name else ""
        if _is_ingress(flow.source) and dst in self.server_pods:
            return 1
        if src in self.server_pods and _is_ingress(flow.destination):
            return -1
        if _is_ingress(flow.destination) and flow.IP.destination in self.gateway_ips:
            return 1
        if _is_ingress(flow.source) and flow.IP.source in self.gateway_ips:
            return -1
        return 0


def _addresses(model: Model, q: Query) -> frozenset[str]:
    """The Gateway's own addresses (status.addresses): where outside clients reach Cilium's Envoy."""
    target = q.via or q.destination
    if istio_gateway(model, target) is not None:
        return frozenset()
    e = entry(model, target, q.namespace)
    return frozenset(a for a in e.gateway.addresses if a)


def _leg(model: Model, q: Query) -> tuple[list[Pod], int | None]:
    """The ready pods of the first backend that answers, when Cilium's Envoy serves the request, and the
    port Envoy connects to; ([], None) else."""
    target = q.via or q.destination
    if istio_gateway(model, target) is not None:
        return [], None
    e = entry(model, target, q.namespace)
    if e.implementation != "cilium":
        return [], None
    gw = gateway_hop(model, e, HttpRequest(q.method, q.path, q.host, dict(q.headers)), q.port)
    answering = gw.answer.answering
    if not answering or gw.answer.status is not None:
        return [], None
    b = answering[0]
    svc = model.services.get(f"{b.namespace}/{b.name}")
    pods = [p for p in pods_for_service(model, svc) if p.ready] if svc is not None else []
    sp = next((x for x in svc.ports if x.port == b.port), None) if svc is not None else None
    if not pods or sp is None:
        return pods, None
    port = sp.target_port if isinstance(sp.target_port, int) else pods[0].named_port(sp.target_port)
    return pods, port


def backend_pods(model: Model, q: Query) -> list[Pod]:
    return _leg(model, q)[0]


def _pair(model: Model, q: Query, pods: list[Pod]) -> FromIngress:
    servers = {p.key() for p in pods}
    return FromIngress(set(), servers, set(), {p.ip for p in pods if p.ip}, _addresses(model, q))


def live_whitelist(model: Model, q: Query) -> list[flow_pb2.FlowFilter] | None:
    """The Relay whitelist for the leg: every flow of the backend's pods (None: not a Cilium leg)."""
    pods = backend_pods(model, q)
    if not pods:
        return None
    ips = sorted(_addresses(model, q))
    at_gateway = [flow_pb2.FlowFilter(destination_ip=ips), flow_pb2.FlowFilter(source_ip=ips)] if ips else []
    return pair_filters([], [p.key() for p in pods]) + at_gateway


def attach_offline(model: Model, q: Query) -> None:
    """Read the leg's flows from the offline input into ``model.flows`` / ``model.flow_index``."""
    pods = backend_pods(model, q)
    if not pods or not model.flow_files:
        return
    files, model.flow_files = model.flow_files, []
    pair = _pair(model, q, pods)
    needles = Prefilter.of((*side_needles(pods, True), *sorted(pair.gateway_ips)))
    read_selected(model, files, pair, needles, q.since_seconds is not None)


def leg_evidence(model: Model, q: Query, path: str, hops: list[HopResult]) -> Evidence | None:
    """The leg's flows, tallied for the request and judged against the leg's hops; None when no leg."""
    pods, port = _leg(model, q)
    if not pods or q.no_flows or model.flow_source == "none":
        return None
    if model.flow_index is None:
        model.flow_index = FlowIndex(model.flows)
    index = model.flow_index
    pair = _pair(model, q, pods)
    keys = pair.server_pods | pair.gateway_ips
    hits = sorted({i for key in keys for i in index.by_key.get(key, ())})
    flows = [index.flows[i] for i in hits]
    ports = frozenset({port}) if port is not None else frozenset()
    tally = select_and_tally(flows, pair, q.method, path, q.since_seconds, q.last, index.newest, ports)
    window = f" in the last {int(q.since_seconds)}s" if q.since_seconds is not None else ""
    evidence = tally.evidence(model.flow_source, window)
    if tally.flows == 0:
        evidence.summary = f"no flows for Cilium's Envoy → {pods[0].namespace}/{pods[0].name}{window}"
        return evidence
    broken = next((h for h in hops if h.decision in (Decision.DENY, Decision.BREAK)), None)
    unknown = next((h for h in hops if h.decision is Decision.UNKNOWN), None)
    judge_agreement(evidence, tally, broken, unknown)
    return evidence
