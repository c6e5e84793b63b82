"""A cluster's policies as Cilium enforces them inside a ClusterMesh (semantics-multicluster.md M4).

Policies are not distributed: each cluster's CNP/CCNP/KNP select only that cluster's endpoints, so
the subject gets ``io.cilium.k8s.policy.cluster=<cluster>``. With ``policy-default-local-cluster``
on, every peer selector that does not mention the cluster key (and is not ``reserved:``) matches
local peers only, as Cilium adds the same requirement (M4.1 steps 2-4, CNP, CCNP and KNP alike).
The ``cluster`` entity covers the local cluster's pods only, plus nodes and reserved identities of
the cluster (M4.2); ``remote-node`` and ``all`` keep their meaning.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.model.cilium import PeerRule, PolicyRule
from kubectl_meshdoctor.model.objects import CLUSTER_KEY
from kubectl_meshdoctor.model.selectors import Requirement, Selector

# M4.2: what the `cluster` entity stands for besides the local pods
_CLUSTER_ENTITY_REST = ("host", "remote-node", "init", "ingress", "health", "unmanaged", "kube-apiserver")


def _local(cluster: str) -> Requirement:
    return Requirement("k8s", CLUSTER_KEY, "In", (cluster,))


def _peer(entry: PeerRule, cluster: str, local_on: bool, entity_local: bool) -> PeerRule:
    endpoints = entry.endpoints
    if endpoints is not None and local_on:
        endpoints = tuple(
            s if s.mentions(CLUSTER_KEY) or s.has_reserved() else s.plus(_local(cluster)) for s in endpoints
        )
    entities = entry.entities
    if entities is not None and "cluster" in entities and entity_local:
        entities = tuple(dict.fromkeys([e for e in entities if e != "cluster"] + list(_CLUSTER_ENTITY_REST)))
        endpoints = (*(endpoints or ()), Selector((_local(cluster),)))
    if endpoints is entry.endpoints and entities is entry.entities:
        return entry
    return replace(entry, endpoints=endpoints, entities=entities)


def scope_rule(rule: PolicyRule, cluster: str, local_on: bool, entity_local: bool = True) -> PolicyRule:
    """One rule of ``cluster`` as enforced in the mesh (see the module docstring)."""

    def peers(entries: tuple[PeerRule, ...]) -> tuple[PeerRule, ...]:
        return tuple(_peer(e, cluster, local_on, entity_local) for e in entries)

    return replace(
        rule,
        subject=rule.subject.plus(_local(cluster)),
        ingress=peers(rule.ingress),
        ingress_deny=peers(rule.ingress_deny),
        egress=peers(rule.egress),
        egress_deny=peers(rule.egress_deny),
    )
