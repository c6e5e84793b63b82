"""A caller on the host network of another cluster (semantics-multicluster.md M3, M4.2, MB20).

Cilium in the server's cluster sees such a caller (a node agent, a host-network pod, traffic SNATed
to a node) as ``reserved:remote-node``, never as the pod's labels, so ``fromEndpoints`` cannot admit
it. When the server's ingress denies a host-network client of another cluster, the denial is named
``clustermesh-remote-node-peer`` (before the generic ``cilium-policy-denied``), with the rule that
selects the server.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.findings.types import Cause, Decision, Diagnosis, Hop
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.objects import CLUSTER_KEY
from kubectl_meshdoctor.model.view import Model


def remote_node_peer(d: Diagnosis, model: Model, client: Cluster, server: Cluster) -> None:
    if client is server:
        return
    broken = next((h for h in d.hops if h.decision in (Decision.DENY, Decision.BREAK)), None)
    if broken is None or broken.hop is not Hop.CILIUM_INGRESS:
        return
    denied = next((c for c in broken.causes if c.code == "cilium-policy-denied"), None)
    if denied is None or denied.params.get("deny_note"):
        return
    pods = [model.pods.get(f"{d.source.namespace}/{name}") for name in d.source.pods]
    if not pods or not all(p is not None and p.host_network for p in pods):
        return
    ref = denied.objects[0] if denied.objects else None
    rule = ref.key() if ref is not None else "the ingress policy"
    cause = Cause(
        "clustermesh-remote-node-peer",
        denied.objects,
        {"rule": rule, "cluster": server.name, "peer_cluster": client.name, "key": CLUSTER_KEY},
    )
    d.causes.insert(0, cause)
    i = d.hops.index(broken)
    d.hops[i] = replace(broken, causes=(cause, *broken.causes))
