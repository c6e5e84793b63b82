"""MB9 (semantics-multicluster.md I2, I4 case 4): the networks istiod gives the two ends of a
multi-network call. A pod's network is its ``topology.istio.io/network`` label (set at injection),
else the label of the root namespace (istio-system) of its cluster. Split-horizon EDS sends a direct
pod IP when the client proxy and the server endpoint look like one network — the same value, or
either one empty — and remote pod IPs are not routable across networks: 503 UF after a timeout.

Returns None when both ends carry distinct networks (the east-west gateway path applies).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.istio_multinetwork_hops import Path, hop_result, unknown_hop
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import NETWORK_LABEL, network_of
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.refs import pods_for_service


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


def _blame(mine: _Seen, theirs: _Seen, client_net: str | None) -> _Seen | None:
    """The end whose network makes the two look like one network, if any."""
    if mine.known and mine.network is None:
        return mine
    if theirs.known and theirs.network is None:
        return theirs
    if mine.network is not None and mine.network == theirs.network:
        return theirs if mine.network == client_net else mine
    return None


def network_labels_hop(p: Path, gaps: list[str]) -> HopResult | None:
    """Every ready endpoint of the Service counts: one that istiod sends as a direct pod IP fails its
    share of the requests."""
    c1, c2 = p.client, p.server
    want = (network_of(c1)[0], network_of(c2)[0])
    mine = _seen(c1, p.client_pod)
    ready = [pd for pd in pods_for_service(c2.model, p.service) if pd.ready] or [p.server_pod]
    ends = [(pd, _seen(c2, pd)) for pd in sorted(ready, key=lambda pd: pd.name != p.server_pod.name)]
    blamed = [(pd, b) for pd, theirs in ends if (b := _blame(mine, theirs, want[0])) is not None]
    leg = f"{p.client_pod.namespace}/{p.client_pod.workload_name}@{c1.name} → pod {ends[0][0].name}@{c2.name}"
    if blamed:
        pod, b = blamed[0]
        share = "" if len(blamed) == len(ends) else f" ({len(blamed)} of {len(ends)} endpoints)"
        why = f"{c1.name} is in network {want[0]} and {c2.name} in {want[1]}, but {b.why}"
        cause = Cause("istio-mc-network-mislabeled", (b.by,) if b.by else (), {"why": why})
        return hop_result(
            Hop.RESOLVE,
            Decision.BREAK,
            f"split-horizon EDS gives the sidecar of {c1.name} the pod IP {pod.ip} of {c2.name}{share}, not the "
            f"east-west gateway ({b.why}); pod IPs are not routable across networks: 503 UF after a timeout",
            f"{p.client_pod.namespace}/{p.client_pod.workload_name}@{c1.name} → pod {pod.name}@{c2.name}",
            c1,
            by=(b.by,) if b.by else (),
            symptom=Symptom.HTTP_503,
            verdict=Verdict.BROKEN,
            causes=(cause,),
        )
    unknown = next((seen for seen in (mine, *(t for _, t in ends)) if not seen.known), None)
    if unknown is None:
        return None
    return unknown_hop(Hop.RESOLVE, f"the Istio network istiod gives each end is unknown: {unknown.why}", leg, c1, gaps)
