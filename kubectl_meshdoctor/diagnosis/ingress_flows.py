"""Hubble evidence for the leg behind Cilium's Envoy (issue 20; semantics-gateways.md Part H): Envoy's
upstream connection carries the reserved identity `ingress` (8) from the node's ingress IP, so the
leg's flows are those between identity 8 and the backend's pods, both directions (a denial shows as
POLICY_DENIED at the backend's INGRESS with source identity 8). Pure: the flows are already read."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kubectl_meshdoctor.diagnosis.agreement import judge_agreement
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.evidence import PairSelector, select_and_tally
from kubectl_meshdoctor.findings.types import Cause, Decision, Evidence, Hop, HopResult, Symptom
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model

INGRESS_IDENTITY = 8


class IngressPair(PairSelector):
    """Identity ingress ↔ these server pods (the client side has no pod and no fixed IP)."""

    def direction(self, flow: Any) -> int:
        def server(ep: Any, ip: str) -> bool:
            key = f"{ep.namespace}/{ep.pod_name}" if ep.pod_name else ""
            return key in self.server_pods or (not key and ip in self.server_ips)

        if flow.source.identity == INGRESS_IDENTITY and server(flow.destination, flow.IP.destination):
            return 1
        if flow.destination.identity == INGRESS_IDENTITY and server(flow.source, flow.IP.source):
            return -1
        return 0


def backend_pods(model: Model, namespace: str, name: str) -> list[Pod]:
    svc = model.services.get(f"{namespace}/{name}")
    return [p for p in pods_for_service(model, svc) if p.ready] if svc is not None else []


def envoy_leg_pods(model: Model, q: Query) -> list[Pod]:
    """The backend pods of the first backend a Cilium-served Ingress sends this request to (none when
    the destination is not such an Ingress, or it answers itself)."""
    return envoy_leg(model, q)[0]


def envoy_leg(model: Model, q: Query) -> tuple[list[Pod], frozenset[int]]:
    """envoy_leg_pods, and the backend's target port(s) of the chosen Service port."""
    from kubectl_meshdoctor.diagnosis.ingress_entry import ingress_entry, ingress_of_service, is_ingress_ref
    from kubectl_meshdoctor.diagnosis.ingress_hop import ingress_hop

    named = q.via or q.destination
    target = named if is_ingress_ref(named) else ingress_of_service(model, named, q.namespace)
    if target is None:
        return [], frozenset()
    e = ingress_entry(model, target)
    if e.implementation != "cilium":
        return [], frozenset()
    walk = ingress_hop(model, e, q.method, q.host, q.path, q.port or 80)
    answering = walk.answer.answering if walk.answer.status is None else ()
    if not answering:
        return [], frozenset()
    b = answering[0]
    pods = backend_pods(model, b.namespace, b.name)
    svc = model.services.get(f"{b.namespace}/{b.name}")
    sp = next((p for p in svc.ports if p.port == b.port), None) if svc is not None else None
    ports: set[int] = set()
    for pod in pods if sp is not None else ():
        assert sp is not None
        port = sp.target_port if isinstance(sp.target_port, int) else pod.named_port(sp.target_port)
        if port is not None:
            ports.add(port)
    return pods, frozenset(ports)


def _contradiction(broken: HopResult | None, observed: str | None, server: str) -> Cause | None:
    """B23 for this leg: a predicted drop that Hubble shows forwarded, or drops no object explains."""
    why = ""
    if broken is not None and broken.hop is Hop.CILIUM_INGRESS and observed in ("forwarded", "ok"):
        why = "the connection from identity ingress is forwarded although a policy should drop it"
    elif broken is None and observed == "dropped":
        why = "policy drops of identity ingress that no object in this view explains"
    if not why:
        return None
    predicted = broken.symptom.value if broken is not None and broken.symptom else "ok"
    params = {"observed": observed or "", "predicted": predicted, "why": why, "src": "ingress (identity 8)"}
    params["dst"] = server
    return Cause("flows-contradict-policy", tuple(broken.by) if broken else (), params)


def leg_evidence(model: Model, q: Query, hops: list[HopResult]) -> tuple[Evidence, Cause | None] | None:
    """Evidence of the identity-ingress → backend leg, judged against the leg's hops (None: no such leg)."""
    pods, ports = envoy_leg(model, q)
    if not pods:
        return None
    pair = IngressPair(set(), {p.key() for p in pods}, set(), {p.ip for p in pods if p.ip})
    path = q.path.split("?")[0]
    tally = select_and_tally(model.flows, pair, q.method, path, q.since_seconds, q.last, None, ports)
    window = f" in the last {int(q.since_seconds)}s" if q.since_seconds is not None else ""
    evidence = tally.evidence(model.flow_source, window)
    if tally.flows == 0:
        evidence.summary = f"no flows from identity ingress to the backend{window}"
        return evidence, None
    leg = [h for h in hops if h.leg and h.leg.startswith("Cilium's Envoy")]
    broken = next((h for h in leg if h.decision in (Decision.DENY, Decision.BREAK)), None)
    unknown = next((h for h in leg if h.decision is Decision.UNKNOWN), None)
    cause = _contradiction(broken, evidence.observed, pods[0].key())
    if cause is not None:
        evidence.agrees = False
    if broken is not None and broken.hop is Hop.CILIUM_INGRESS:
        broken = replace(broken, symptom=Symptom.TIMEOUT)  # on this leg a drop is Envoy's connect timing out
    judge_agreement(evidence, tally, broken, unknown)
    return evidence, cause
