"""North-south through a Kubernetes Ingress (issue 20 items 1 and 4): `explain world NS/ingress/NAME
--host H --path P` (and `--via NS/ingress/NAME` toward a backend, diagnosis/northsouth_via.py).

The walk is world → the controller's proxy → the Ingress rule → the backend Service, then the leg to
the backend by the same hops as any call (habit 13):
* Cilium (semantics-gateways.md C2-C4): Cilium's Envoy is no pod; the leg carries the reserved
  identity `ingress`, so the backend's policy must admit it (GB13) and a STRICT Istio backend resets
  Envoy's plaintext (GB15): diagnosis/cilium_envoy_leg.py, shared with Cilium's Gateway API.
* Istio: the ingress gateway pods (istio=ingressgateway) are the proxy; the outside client reaches
  them as `world` (diagnosis/northsouth_ingress.py), then each pod calls the backend as a mesh client.
* Any other controller: the proxy hop is unknown, with a gap naming the controller.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis import explain as walk
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.cilium_envoy_leg import cilium_envoy_leg
from kubectl_meshdoctor.diagnosis.ingress_entry import IngressEntry, ingress_entry, istio_ingress_pods
from kubectl_meshdoctor.diagnosis.ingress_flows import leg_evidence
from kubectl_meshdoctor.diagnosis.ingress_hop import ingress_hop
from kubectl_meshdoctor.diagnosis.northsouth import LEG_STEPS, LegFold, _leg_query, _unknown_leg
from kubectl_meshdoctor.diagnosis.northsouth_ingress import world_ingress_hop
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer
from kubectl_meshdoctor.findings.types import (
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

_KINDS = ("Ingress", "IngressClass", "Service", "CiliumConfig", "ConfigMap")


def _hides(g: Gap, ingress: tuple[str, str | None, str], ns: str) -> bool:
    """Inputs of the Ingress hop: Ingresses and Services of its namespace, IngressClasses, cilium-config.
    Another Ingress dropped as invalid does not exist in the cluster, so it hides nothing."""
    if g.objects and all(o.kind == "Ingress" and o.key_tuple() != ingress for o in g.objects):
        return False
    return g.concerns(_KINDS, [ns, None])


def _leg(model: Model, q: Query, e: IngressEntry, b: BackendAnswer) -> list[Diagnosis | HopResult]:
    key = f"{e.ingress.ref.namespace}/{e.ingress.ref.name}"
    label = f"ingress {key} → {b.namespace}/svc/{b.name}"
    if e.implementation == "cilium":
        return list(cilium_envoy_leg(model, key, b, q.method, q.path.split("?")[0], q.source, front=f"Ingress {key}"))
    if e.implementation != "istio":
        gap = f"the proxy of Ingress {key} is not modelled: the leg to {b.namespace}/{b.name} is not walked"
        return [_unknown_leg(label, gap, gap)]
    pods = istio_ingress_pods(model)
    if not pods:
        gap = (
            "no pod of Istio's ingress gateway (istio=ingressgateway) in this view: the leg to "
            f"{b.namespace}/{b.name} is not walked"
        )
        return [_unknown_leg(label, gap, gap)]
    sub = _leg_query(q, pods[0].namespace, pods[0].name, b, None)
    leg = walk.explain(model, sub, LEG_STEPS)
    leg.hops = [replace(h, leg=h.leg or label) for h in leg.hops]
    return [leg]


def ingress_first_leg(model: Model, q: Query) -> Query | None:
    """The leg whose flows are read before the walk: an Istio ingress gateway pod → the first backend."""
    e = ingress_entry(model, q.destination)
    pods = istio_ingress_pods(model) if e.implementation == "istio" else []
    if not pods:
        return None
    gw = ingress_hop(model, e, q.method, q.host, q.path, q.port or 80)
    answering = gw.answer.answering if gw.answer.status is None else ()
    return _leg_query(q, pods[0].namespace, pods[0].name, answering[0], None) if answering else None


def explain_k8s_ingress(model: Model, q: Query) -> Diagnosis:
    e = ingress_entry(model, q.destination)
    ing = e.ingress
    ns = ing.ref.namespace or "default"
    port = q.port or 80
    gw = ingress_hop(model, e, q.method, q.host, q.path, port)
    result = gw.result
    missing = [g for g in model.gaps if isinstance(g, Gap) and _hides(g, ing.ref.key_tuple(), ns)]
    if missing and result.decision is not Decision.UNKNOWN:
        named = tuple(dict.fromkeys(str(g) for g in missing))
        detail = f"cannot decide: {'; '.join(named)} (on what could be read: {result.detail})"
        result = HopResult(
            Hop.GATEWAY, Decision.UNKNOWN, result.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, result.causes, named
        )
    hops: list[HopResult] = [result]
    causes = list(result.causes)
    gaps: list[str] = list(model.gaps) + [g for g in result.gaps if g not in model.gaps]
    evidence = Evidence(source="none", summary="no flows requested (--no-flows)" if q.no_flows else "")
    pods = istio_ingress_pods(model) if e.implementation == "istio" else []
    entering = world_ingress_hop(model, pods, port, f"ingress {ns}/{ing.ref.name}", q.source)
    if entering is not None:
        hops.insert(0, entering)
        causes[:0] = list(entering.causes)
        gaps += [g for g in entering.gaps if g not in gaps]
    verdict, symptom = Verdict.ALLOWED, Symptom.OK
    if entering is not None and entering.decision is Decision.BREAK:
        verdict, symptom = entering.verdict or Verdict.DENIED, entering.symptom or Symptom.TIMEOUT
        hops[1] = replace(hops[1], decision=Decision.SKIP, detail="not reached", verdict=None, symptom=None)
    elif result.decision in (Decision.DENY, Decision.BREAK):
        verdict, symptom = result.verdict or Verdict.BROKEN, result.symptom or Symptom.UNKNOWN
    else:
        if result.decision is Decision.UNKNOWN or (entering is not None and entering.decision is Decision.UNKNOWN):
            verdict, symptom = Verdict.UNKNOWN, Symptom.UNKNOWN
        fold = LegFold(hops, causes, gaps, verdict, symptom, evidence)
        for b in gw.answer.answering if gw.answer.status is None else ():
            fold.add(model, _leg(model, q, e, b), ns, b.namespace)
        verdict, symptom, evidence = fold.verdict, fold.symptom, fold.evidence
    if e.implementation == "cilium" and not q.no_flows and model.flow_source != "none":
        found = leg_evidence(model, q, hops)
        if found is not None:
            evidence, contradiction = found
            if contradiction is not None:
                causes.append(contradiction)
                verdict = Verdict.UNKNOWN if verdict is Verdict.ALLOWED else verdict
    elif e.implementation == "cilium" and not q.no_flows:
        evidence.summary = "no Hubble flows available"
    return Diagnosis(
        source=Endpoint("", "world", "World", (), Mesh.NONE, external=q.source),
        destination=Endpoint(ns, ing.ref.name, "Ingress", tuple(p.name for p in pods), Mesh.NONE, port=port),
        request=Request(q.protocol, q.method, q.path, q.host, dict(q.headers)),
        verdict=verdict,
        symptom=symptom,
        hops=hops,
        causes=causes,
        evidence=evidence,
        gaps=list(dict.fromkeys(gaps)),
        warnings=list(dict.fromkeys(model.warnings)),
        gateway=gw.answer,
    )
