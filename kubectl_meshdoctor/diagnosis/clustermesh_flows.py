"""The flows of a call across clusters (semantics-multicluster.md H2, S3): pods of different clusters
may share a name (StatefulSets, bare pods), so a flow counts for the pair only when the clusters of its
ends are the pair's, in either direction. An end's cluster is Hubble's ``cluster_name``, else its
``io.cilium.k8s.policy.cluster`` label; unknown (reserved identities, older agents) does not exclude."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor.model.objects import CLUSTER_KEY

_LABEL = f"k8s:{CLUSTER_KEY}="


def endpoint_cluster(ep: Any) -> str:
    if ep.cluster_name:
        return str(ep.cluster_name)
    for label in ep.labels:
        if label.startswith(_LABEL):
            return str(label[len(_LABEL) :])
    return ""


def of_pair(flows: list[Any], client: str, server: str) -> list[Any]:
    def fits(a: str, b: str, want_a: str, want_b: str) -> bool:
        return a in ("", want_a) and b in ("", want_b)

    out = []
    for flow in flows:
        src, dst = endpoint_cluster(flow.source), endpoint_cluster(flow.destination)
        if fits(src, dst, client, server) or fits(src, dst, server, client):
            out.append(flow)
    return out
