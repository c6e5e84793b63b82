"""MB9 (semantics-multicluster.md I2, I4 case 4): the networks istiod gives the two ends of a
multi-network call. A pod's network is its ``topology.istio.io/network`` label (set at injection),
else the label of the root namespace (istio-system) of its cluster. Split-horizon EDS sends a direct
pod IP when the client proxy and the server endpoint look like one network — the same value, or
either one empty — and remote pod IPs are not routable across networks: 503 UF after a timeout.

Returns None when both ends carry distinct networks (the east-west gateway path applies).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.istio_multinetwork_hops import Path, hop_result
from kubectl_meshdoctor.findings.types import Cause, Decision, Gap, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import NETWORK_LABEL, network_of
from kubectl_meshdoctor.model.objects import Pod


@dataclass(frozen=True, slots=True)
class _Seen:
    network: str | None  # None: istiod gives this end no network
    why: str
    by: ObjectRef | None
    known: bool = True


def _seen(cluster: Cluster, pod: Pod) -> _Seen:
    where = f"pod {pod.namespace}/{pod.name}@{cluster.name}"
    if pod.labels.get(NETWORK_LABEL):
        return _Seen(
            pod.labels[NETWORK_LABEL], f"{where} is labelled {NETWORK_LABEL}={pod.labels[NETWORK_LABEL]}", pod.ref()
        )
    root = cluster.model.istio.mesh.root_namespace
    ns = cluster.model.namespaces.get(root)
    bare = f"{where} has no {NETWORK_LABEL} label and namespace {root} of {cluster.name}"
    if ns is None:
        return _Seen(None, f"{bare} is not in the input", None, known=False)
    ref = ObjectRef("Namespace", None, root, origin=ns.origin)
    if ns.labels.get(NETWORK_LABEL):
        return _Seen(ns.labels[NETWORK_LABEL], f"{bare} is labelled {ns.labels[NETWORK_LABEL]}", ref)
    return _Seen(None, f"{bare} lacks it too", ref)


def network_labels_hop(p: Path, gaps: list[str]) -> HopResult | None:
    c1, c2 = p.client, p.server
    want = (network_of(c1)[0], network_of(c2)[0])
    mine, theirs = _seen(c1, p.client_pod), _seen(c2, p.server_pod)
    leg = f"{p.client_pod.namespace}/{p.client_pod.workload_name}@{c1.name} → pod {p.server_pod.name}@{c2.name}"
    blamed: _Seen | None = None
    if mine.known and mine.network is None:
        blamed = mine
    elif theirs.known and theirs.network is None:
        blamed = theirs
    elif mine.network is not None and mine.network == theirs.network:
        blamed = theirs if mine.network == want[0] else mine
    if blamed is not None:
        why = f"{c1.name} is in network {want[0]} and {c2.name} in {want[1]}, but {blamed.why}"
        cause = Cause("istio-mc-network-mislabeled", (blamed.by,) if blamed.by else (), {"why": why})
        return hop_result(
            Hop.RESOLVE,
            Decision.BREAK,
            f"split-horizon EDS gives the sidecar of {c1.name} the pod IP {p.server_pod.ip} of {c2.name}, not the "
            f"east-west gateway ({blamed.why}); pod IPs are not routable across networks: 503 UF after a timeout",
            leg,
            c1,
            by=(blamed.by,) if blamed.by else (),
            symptom=Symptom.HTTP_503,
            verdict=Verdict.BROKEN,
            causes=(cause,),
        )
    if mine.known and theirs.known:
        return None
    gap = Gap(f"the Istio network istiod gives each end is unknown: {(theirs if mine.known else mine).why}", {"*"})
    gaps.append(gap)
    return hop_result(
        Hop.RESOLVE,
        Decision.UNKNOWN,
        f"cannot decide: {gap}",
        leg,
        c1,
        symptom=Symptom.UNKNOWN,
        verdict=Verdict.UNKNOWN,
        gaps=(str(gap),),
    )
