"""A sidecar call across clusters on one Istio network (semantics-multicluster.md I1, I3, I6, X1, X3):
the client's sidecar sends mTLS straight to the remote pod IP (ClusterMesh routes it), so Cilium in
the client's cluster sees client → server pod and Cilium in the server's cluster sees the client pod
with its cluster label — ``policy-default-local-cluster`` decides here too (X3: the 1.19 flip breaks
same-network Istio traffic that relied on cluster-agnostic selectors).

The merged model's Istio objects are split by who enforces them: DestinationRules, routes and the
mesh config of the client's cluster (its istiod programs the client), PeerAuthentications and
AuthorizationPolicies of the server's (its sidecar enforces them). Endpoint discovery (remote
secrets) and one root of trust are checked from mesh.yaml as on the multi-network path.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis.istio_multinetwork_hops import discovery_hop, trust_hop
from kubectl_meshdoctor.findings.types import Decision, Diagnosis, HopResult, Symptom, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.istio import IstioObjects
from kubectl_meshdoctor.model.view import Model

_STEERING = {"resolve", "client-route"}


def split_istio(model: Model, client: Cluster, server: Cluster) -> None:
    """Client-side Istio objects from the client's cluster, server-side ones from the server's."""
    mine, theirs = client.model.istio, server.model.istio
    other = dict(mine.other_kinds)
    for kind, count in theirs.other_kinds.items():
        other[kind] = other.get(kind, 0) + count
    model.istio = IstioObjects(list(theirs.peer_authns), list(theirs.authz), list(mine.dest_rules), mine.mesh, other)
    model.pa_by_ns = None
    model.ap_by_ns = None


def overlay(d: Diagnosis, client: Cluster, server: Cluster) -> Diagnosis:
    """Put discovery (on the resolve hop) and trust (on the client proxy hop) into the walk's answer:
    a break there decides, and hops after it are not reached; unknown there makes the answer unknown
    when it is allowed, or when the break comes after an unknown hop that steers the call."""
    gaps: list[str] = []
    extra = {"resolve": discovery_hop(client, server, None, gaps)}
    extra["client-proxy"] = trust_hop(
        (client.istio.get("rootCA"), server.istio.get("rootCA")), None, client, server, gaps
    )
    hops: list[HopResult] = []
    broken: HopResult | None = None
    steering_unknown = False
    for hop in d.hops:
        if broken is not None:
            hops.append(replace(hop, decision=Decision.SKIP, detail="not reached", by=(), causes=()))
            continue
        mine = extra.get(hop.hop.value)
        if (
            mine is not None
            and mine.decision in (Decision.BREAK, Decision.UNKNOWN)
            and hop.decision is not Decision.SKIP
        ):
            hop = replace(mine, leg=hop.leg)
        hops.append(hop)
        if hop.decision is Decision.UNKNOWN and hop.hop.value in _STEERING:
            steering_unknown = True
        if hop.decision in (Decision.BREAK, Decision.DENY) and hop.verdict is not None:
            broken = hop
    d.gaps = list(dict.fromkeys([*d.gaps, *gaps]))
    walked = [c for h in d.hops for c in h.causes]
    others = [c for c in d.causes if c not in walked]  # cross-layer causes, not tied to one hop
    d.hops = hops
    d.causes = [c for h in hops for c in h.causes] + others
    unknown = any(h.decision is Decision.UNKNOWN for h in hops)
    if broken is not None and not steering_unknown:
        d.verdict, d.symptom = broken.verdict or Verdict.BROKEN, broken.symptom or Symptom.UNKNOWN
    elif broken is not None or (unknown and d.verdict is Verdict.ALLOWED):
        d.verdict, d.symptom = Verdict.UNKNOWN, Symptom.UNKNOWN
    return d
