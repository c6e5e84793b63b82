"""North-south as a call (issue 20 §1): `explain world NS/gateway/NAME --host H --path P`.

The walk is world → the Gateway's listener and route (diagnosis/gateway_api_hop.py) → for each
backend the route sends a share to, a second leg from the gateway proxy to that backend, walked by
the same hops as any call (habit 13) except the client-side ones the gateway replaces: it routes by
its own route (not the mesh's), and its Envoy learns endpoints from its control plane (no DNS).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis import explain as walk
from kubectl_meshdoctor.diagnosis.call import Call, Query
from kubectl_meshdoctor.diagnosis.cilium_envoy_leg import cilium_envoy_leg
from kubectl_meshdoctor.diagnosis.gateway_api_hop import GatewayWalk, gateway_hop
from kubectl_meshdoctor.diagnosis.ingress_entry import ingress_of_service, is_ingress_ref
from kubectl_meshdoctor.diagnosis.inputs import hop_gaps, mark_unknown
from kubectl_meshdoctor.diagnosis.northsouth_entry import Entry, entry, istio_gateway, proxy_pods
from kubectl_meshdoctor.diagnosis.northsouth_ingress import world_ingress_hop
from kubectl_meshdoctor.engines.gateway_api_match import HttpRequest
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer
from kubectl_meshdoctor.findings.types import (
    ALL_KINDS,
    Cause,
    Decision,
    Diagnosis,
    Endpoint,
    Evidence,
    Gap,
    Hop,
    HopResult,
    Mesh,
    Request,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.view import Model


def _routed_by_gateway(call: Call) -> HopResult:
    return HopResult(Hop.CLIENT_ROUTE, Decision.SKIP, (), "the gateway routed this request by its own route (above)")


def _no_dns(call: Call) -> HopResult:
    return HopResult(
        Hop.DNS, Decision.SKIP, (), "the gateway's Envoy gets the backend's endpoints from its control plane"
    )


LEG_STEPS = tuple(
    (hop, _routed_by_gateway if hop is Hop.CLIENT_ROUTE else _no_dns if hop is Hop.DNS else fn) for hop, fn in walk.HOPS
)


def _unknown_leg(label: str, detail: str, gap: str) -> HopResult:
    return HopResult(
        Hop.RESOLVE, Decision.UNKNOWN, (), detail, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(gap,), leg=label
    )


def _leg_query(
    q: Query, pod_ns: str, pod: str, b: BackendAnswer, forwarded_path: str | None, tcp: bool = False
) -> Query:
    """The gateway's proxy pod calling one backend, with the path it forwards (after rewrites); ``tcp``:
    a TLS passthrough or TCP listener forwards the client's bytes (no HTTP request to reason about)."""
    path = (forwarded_path or q.path).split("?")[0]
    leg = Query(
        f"{pod_ns}/pod/{pod}",
        f"{b.namespace}/svc/{b.name}",
        q.namespace,
        b.port,
        q.protocol,
        q.method,
        path,
        q.since_seconds,
        q.last,
        q.no_flows,
        q.headers,
        None,
    )
    return replace(leg, app_protocol="tcp") if tcp else leg


def first_leg(model: Model, q: Query) -> Query | None:
    """The leg whose Hubble flows are read before the walk (offline files, live Relay): the gateway
    pod → the first backend that answers; None when the gateway answers itself or has no pod."""
    named = q.via or q.destination
    ingress = named if is_ingress_ref(named) else ingress_of_service(model, named, q.namespace)
    if ingress is not None:  # Istio's ingress gateway pod → the backend (Cilium's Envoy: ingress_flows.py)
        from kubectl_meshdoctor.diagnosis.northsouth_k8s_ingress import ingress_first_leg

        return ingress_first_leg(model, replace(q, destination=ingress, via=None))
    if istio_gateway(model, named) is not None:
        return None  # Istio Gateways: flows of their legs not read yet
    e = entry(model, q.via or q.destination, q.namespace)
    gw = gateway_hop(model, e, HttpRequest(q.method, q.path, q.host, dict(q.headers)), q.port)
    pods = proxy_pods(model, e.gateway)
    answering = gw.answer.answering
    if e.implementation == "cilium" or not pods or not answering or gw.answer.status is not None:
        return None
    tcp = gw.answer.protocol in ("TLS", "TCP")
    return _leg_query(q, pods[0].namespace, pods[0].name, answering[0], gw.answer.forwarded_path, tcp)


def _legs(model: Model, q: Query, e: Entry, gw: GatewayWalk) -> list[Diagnosis | HopResult]:
    """One leg per backend that answers part of the traffic."""
    answer = gw.answer
    out: list[Diagnosis | HopResult] = []
    key = f"{answer.namespace}/{answer.name}"
    pods = proxy_pods(model, e.gateway)
    for b in answer.answering:
        label = f"gateway {key} → {b.namespace}/svc/{b.name}"
        if e.implementation == "cilium":
            path = (answer.forwarded_path or q.path).split("?")[0]
            l4 = answer.protocol in ("TLS", "TCP")
            out += cilium_envoy_leg(model, key, b, q.method, path, q.source, l4)
            continue
        if not pods:
            gap = (
                f"no proxy pod of Gateway {key} in this view: the leg from the gateway to {b.namespace}/{b.name} "
                "is not walked"
            )
            out.append(_unknown_leg(label, gap, gap))
            continue
        tcp = answer.protocol in ("TLS", "TCP")
        sub = _leg_query(q, pods[0].namespace, pods[0].name, b, answer.forwarded_path, tcp)
        leg = walk.explain(model, sub, LEG_STEPS)
        leg.hops = [replace(h, leg=h.leg or label) for h in leg.hops]
        out.append(leg)
    return out


_ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", ALL_KINDS})
_ORDER = {Verdict.DENIED: 0, Verdict.BROKEN: 0, Verdict.UNKNOWN: 1, Verdict.ALLOWED: 2}


def explain_north_south(model: Model, q: Query) -> Diagnosis:
    ingress = q.destination if is_ingress_ref(q.destination) else ingress_of_service(model, q.destination, q.namespace)
    if ingress is not None:  # a Kubernetes Ingress: its controller's proxy routes by its rules
        from kubectl_meshdoctor.diagnosis.northsouth_k8s_ingress import explain_k8s_ingress

        return explain_k8s_ingress(model, replace(q, destination=ingress))
    istio = istio_gateway(model, q.destination)
    if istio is not None:  # networking.istio.io Gateway: its pods route by VirtualService
        from kubectl_meshdoctor.diagnosis.northsouth_istio import explain_istio

        return explain_istio(model, q, istio)
    e = entry(model, q.destination, q.namespace)
    req = HttpRequest(q.method, q.path, q.host, dict(q.headers))
    gw = gateway_hop(model, e, req, q.port)
    result = gw.result
    gw_ns = e.gateway.ref.namespace or "default"
    backend_ns = next((b.namespace for b in gw.answer.backends), gw_ns)
    missing = hop_gaps(Hop.GATEWAY, model.gaps, gw_ns, backend_ns)
    # routes may attach from any namespace (allowedRoutes All/Selector): hidden routes anywhere count
    missing += [g for g in model.gaps if isinstance(g, Gap) and g.kinds & _ROUTE_KINDS and g not in missing]
    if missing and result.decision is not Decision.UNKNOWN:
        named = tuple(dict.fromkeys(str(g) for g in missing))
        result = HopResult(
            Hop.GATEWAY,
            Decision.UNKNOWN,
            result.by,
            f"cannot decide: {'; '.join(named)} (on what could be read: {result.detail})",
            Symptom.UNKNOWN,
            Verdict.UNKNOWN,
            result.causes,
            named,
        )
    hops: list[HopResult] = [result]
    causes: list[Cause] = list(result.causes)
    gaps: list[str] = list(model.gaps) + [g for g in result.gaps if g not in model.gaps]
    evidence = Evidence(source="none", summary="no flows requested (--no-flows)" if q.no_flows else "")
    # the packets reach the gateway's proxy pod first: its ingress policies see the client as world
    port = gw.answer.port or q.port or 80
    entering = world_ingress_hop(model, proxy_pods(model, e.gateway), port, e.gateway.ref.key(), q.source)
    if entering is not None:
        hops.insert(0, entering)
        causes[:0] = list(entering.causes)
        gaps += [g for g in entering.gaps if g not in gaps]
    if entering is not None and entering.decision is Decision.BREAK:
        verdict, symptom = entering.verdict or Verdict.DENIED, entering.symptom or Symptom.TIMEOUT
        hops[1] = replace(hops[1], decision=Decision.SKIP, detail="not reached", verdict=None, symptom=None)
    elif result.decision in (Decision.DENY, Decision.BREAK):
        verdict, symptom = result.verdict or Verdict.BROKEN, result.symptom or Symptom.UNKNOWN
    else:
        verdict, symptom = (
            (Verdict.UNKNOWN, Symptom.UNKNOWN) if result.decision is Decision.UNKNOWN else (Verdict.ALLOWED, Symptom.OK)
        )
        if entering is not None and entering.decision is Decision.UNKNOWN:
            verdict, symptom = _worse((verdict, symptom), (Verdict.UNKNOWN, Symptom.UNKNOWN))
        if gw.answer.status is None:
            fold = LegFold(hops, causes, gaps, verdict, symptom, evidence)
            fold.add(model, _legs(model, q, e, gw), gw_ns, backend_ns)
            verdict, symptom, evidence = fold.verdict, fold.symptom, fold.evidence
            timed = _route_timeout(model, q, e, gw)  # GB6: the route's timeout before a known delay
            if timed is not None:
                hops.insert(hops.index(result) + 1, timed)
                causes += [c for c in timed.causes if c not in causes]
                if timed.verdict is not None:
                    verdict, symptom = _worse((verdict, symptom), (timed.verdict, timed.symptom or Symptom.UNKNOWN))
    if e.implementation == "cilium" and evidence.source == "none" and gw.answer.status is None:
        from kubectl_meshdoctor.diagnosis.cilium_envoy_flows import leg_evidence

        path = (gw.answer.forwarded_path or q.path).split("?")[0]
        evidence = leg_evidence(model, q, path, hops) or evidence  # Cilium's Envoy (identity ingress) → backend
    pods = tuple(p.name for p in proxy_pods(model, e.gateway))
    return Diagnosis(
        source=Endpoint("", "world", "World", (), Mesh.NONE, external=q.source),
        destination=Endpoint(gw_ns, e.gateway.ref.name, "Gateway", pods, Mesh.NONE, port=gw.answer.port),
        request=Request(
            q.protocol, q.method, q.path, q.host, dict(q.headers), app_protocol=_payload(gw.answer.protocol)
        ),
        verdict=verdict,
        symptom=symptom,
        hops=hops,
        causes=causes,
        evidence=evidence,
        gaps=list(dict.fromkeys(gaps)),
        warnings=list(dict.fromkeys(model.warnings)),
        gateway=gw.answer,
    )


def _route_timeout(model: Model, q: Query, e: Entry, gw: GatewayWalk) -> HopResult | None:
    from kubectl_meshdoctor.diagnosis.gateway_timeout import route_timeout_hop

    pods = proxy_pods(model, e.gateway)
    return route_timeout_hop(model, q, gw.answer, pods[0] if pods else None, e.implementation == "cilium")


def _payload(listener_protocol: str | None) -> str:
    """A TLS passthrough or TCP listener forwards the client's bytes: the question is a connection."""
    return "tcp" if listener_protocol in ("TLS", "TCP") else "http"


def _worse(a: tuple[Verdict, Symptom], b: tuple[Verdict, Symptom]) -> tuple[Verdict, Symptom]:
    return b if _ORDER[b[0]] < _ORDER[a[0]] else a


@dataclass(slots=True)
class LegFold:
    """The answer so far of a call from outside, to which each backend's leg adds its hops, causes,
    gaps, the worse verdict, and the first evidence (Gateways and Ingresses alike)."""

    hops: list[HopResult]
    causes: list[Cause]
    gaps: list[str]
    verdict: Verdict
    symptom: Symptom
    evidence: Evidence

    def add(self, model: Model, legs: Iterable[Diagnosis | HopResult], entry_ns: str, backend_ns: str) -> None:
        for leg in legs:
            if isinstance(leg, HopResult):  # a hop of the leg itself (e.g. behind Cilium's Envoy)
                leg = mark_unknown(leg, hop_gaps(leg.hop, model.gaps, entry_ns, backend_ns, leg.reads))
                self.hops.append(leg)
                self._merge(leg.causes, leg.gaps)
                if leg.verdict is not None and leg.decision is not Decision.ALLOW:
                    self._worsen(leg.verdict, leg.symptom or Symptom.UNKNOWN)
                continue
            self.hops += leg.hops
            self._merge(leg.causes, leg.gaps)
            self._worsen(leg.verdict, leg.symptom)
            if self.evidence.source == "none" and leg.evidence.source != "none":
                self.evidence = leg.evidence

    def _merge(self, causes: Iterable[Cause], gaps: Iterable[str]) -> None:
        self.causes += [c for c in causes if c not in self.causes]
        self.gaps += [g for g in gaps if g not in self.gaps]

    def _worsen(self, verdict: Verdict, symptom: Symptom) -> None:
        self.verdict, self.symptom = _worse((self.verdict, self.symptom), (verdict, symptom))
