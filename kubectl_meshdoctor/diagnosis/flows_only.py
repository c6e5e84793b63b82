"""explain on flows without Kubernetes objects: the observed evidence, and an ``unknown`` verdict.

Flows show what happened (verdicts, drop reasons, HTTP codes, the policies Hubble names), not why
nor what a change would do: with no policies, pods or mesh settings in the input no hop can be
evaluated, so none is, and the verdict is ``unknown`` (contract §3 and §7: never a static verdict
invented from flows). A gap names what is missing for every kind.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.evidence import FlowIndex, PairSelector, select_and_tally
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
from kubectl_meshdoctor.model.objects import NS_LABEL_PREFIX
from kubectl_meshdoctor.model.refs import Target, resolve
from kubectl_meshdoctor.model.view import Model

NO_OBJECTS = (
    "no Kubernetes objects in the input (flows only): no hop of the call path could be evaluated; "
    "add the objects (kubectl meshdoctor snapshot, or kubectl get ... -o yaml) for a verdict"
)
_NOT_EVALUATED = "not evaluated: the input has no Kubernetes objects"


def no_objects_gap() -> Gap:
    """Every kind is missing, in every namespace."""
    return Gap(NO_OBJECTS, kinds={"*"})


def _mesh(target: Target) -> Mesh:
    """What the endpoints' labels in the flows say: Istio's sidecar label, the ambient label (pod or
    namespace); "none" only when the flows carry the namespace's labels too and neither mark is there,
    else unknown (an external peer is outside the mesh)."""
    if target.kind == "External":
        return Mesh.NONE
    labels = [p.labels for p in target.pods]
    if not labels:
        return Mesh.UNKNOWN
    if all(ls.get("security.istio.io/tlsMode") == "istio" for ls in labels):
        return Mesh.SIDECAR
    ambient = ("istio.io/dataplane-mode", NS_LABEL_PREFIX + "istio.io/dataplane-mode")
    if all(any(ls.get(k) == "ambient" for k in ambient) for ls in labels):
        return Mesh.AMBIENT
    plain = all(
        "security.istio.io/tlsMode" not in ls
        and not any(ls.get(k) == "ambient" for k in ambient)
        and any(k.startswith(NS_LABEL_PREFIX) for k in ls)
        for ls in labels
    )
    return Mesh.NONE if plain else Mesh.UNKNOWN


def requests_seen(requests: dict[tuple[str, str], Counter[str]], limit: int = 8) -> str:
    """ "GET /productpage: 35 requests, 503×32; ..." most frequent first; "" when there is no HTTP record."""
    ranked = sorted(requests.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    parts = []
    for (method, path), outcomes in ranked[:limit]:
        sent = outcomes.get("request", 0)
        answers = sorted((k, n) for k, n in outcomes.items() if k != "request")
        said = ([f"{sent} requests"] if sent else []) + [
            f"{n} denied by Cilium's proxy" if k == "denied" else f"{k}×{n}" for k, n in answers
        ]
        parts.append(f"{method} {path}: {', '.join(said)}")
    more = f"; {len(ranked) - limit} more" if len(ranked) > limit else ""
    return "; ".join(parts) + more


def _endpoint(target: Target, port: int | None) -> Endpoint:
    if target.kind == "External":
        return Endpoint("", target.label, "External", (), Mesh.NONE, external=target.label, port=port)
    workload = target.pods[0].workload_name if target.pods else target.name
    pods = tuple(p.name for p in target.pods)
    return Endpoint(target.namespace, workload, target.kind, pods, _mesh(target), port=port)


def _observed_port(flows: list[Any], pair: PairSelector) -> int | None:
    """The destination port the client's flows use most (what was called, as observed)."""
    ports: Counter[int] = Counter()
    for flow in flows:
        kind = flow.l4.WhichOneof("protocol")
        if kind in ("TCP", "UDP", "SCTP") and pair.direction(flow) == 1:
            ports[getattr(flow.l4, kind).destination_port] += 1
    return ports.most_common(1)[0][0] if ports else None


def _every_request(evidence: Evidence, requests: dict[tuple[str, str], Counter[str]], other: int) -> None:
    """Replace "N L7 records for other requests" (other than GET /) by what each request got."""
    summary = evidence.summary.replace(f", {other} L7 records for other requests", "") if other else evidence.summary
    evidence.summary = f"{summary}; requests seen: {requests_seen(requests)}"
    statuses: Counter[str] = Counter()
    for outcomes in requests.values():
        statuses.update({k: n for k, n in outcomes.items() if k.isdigit()})
    evidence.http_status = dict(sorted(statuses.items()))
    evidence.observed = None  # several requests: no one outcome the client saw


def explain_from_flows(model: Model, query: Query) -> Diagnosis:
    src = resolve(model, query.source, query.namespace, allow_external=False)
    dst = resolve(model, query.destination, query.namespace, allow_external=True)
    evidence = Evidence(source="none", summary="no flows requested (--no-flows)" if query.no_flows else "")
    port = query.port
    if not query.no_flows and model.flow_source != "none":
        pair = PairSelector.of(src.pods, dst.pods, dst.external_ip)
        index = model.flow_index if model.flow_index is not None else FlowIndex(model.flows)
        tally = select_and_tally(
            index.candidates(pair), pair, query.method, query.path, query.since_seconds, query.last, index.newest
        )
        window = f" in the last {int(query.since_seconds)}s" if query.since_seconds is not None else ""
        evidence = tally.evidence(model.flow_source, window)
        evidence.agrees = None  # no static answer to agree or disagree with
        if query.any_request and tally.requests:  # no --method/--path: every request the flows show
            _every_request(evidence, tally.requests, tally.other_path_l7)
        if tally.flows == 0:
            evidence.summary = f"no flows for this pair{window}"
        port = port or _observed_port(index.candidates(pair), pair)
    hops = [HopResult(hop, Decision.UNKNOWN, (), _NOT_EVALUATED, None, Verdict.UNKNOWN) for hop in Hop]
    # no --method/--path and HTTP records seen: the answer is about every request, not "GET /"
    every = query.any_request and "requests seen: " in evidence.summary
    method, path = ("*", "*") if every else (query.method, query.path)
    return Diagnosis(
        source=_endpoint(src, None),
        destination=_endpoint(dst, port),
        request=Request(query.protocol, method, path, query.host or dst.dns_name, dict(query.headers)),
        verdict=Verdict.UNKNOWN,
        symptom=Symptom.UNKNOWN,
        hops=hops,
        causes=[],
        evidence=evidence,
        gaps=list(dict.fromkeys([no_objects_gap(), *(g for g in model.gaps if "cilium-config" not in g)])),
        warnings=list(dict.fromkeys(model.warnings)),
    )
