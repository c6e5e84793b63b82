"""Which identity Cilium sees for the other end of a call (A1.3, A1.5; issue 11 item 8).

A pod on the pod network carries its label identity. A host-network pod has no endpoint of its
own: its packets leave from the node's IP, so Cilium sees the reserved ``host`` identity when the
other end is on the same node and ``remote-node`` when it is on another node. Label selectors
(``fromEndpoints``, ``podSelector``, ``namespaceSelector``) never select those identities; only
``fromEntities: [host | remote-node | cluster | all]`` or, with ``policy-cidr-match-mode: nodes``,
CIDR rules covering the node IP do [S] (Cilium layer3.rst, entities and CIDR sections).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.model.objects import CLUSTER_KEY, NS_KEY, NS_LABEL_PREFIX, SA_KEY, Peer, Pod, pod_peer
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class PeerView:
    """What the enforcing endpoint sees: one peer, or two candidates when the node is unknown."""

    peers: tuple[Peer, ...]
    note: str = ""  # why the identity is not the pod's labels

    @property
    def certain(self) -> bool:
        return len(self.peers) == 1


def same_node(a: Pod, b: Pod) -> bool | None:
    """None when either pod's nodeName is unknown (templates, pending pods, partial manifests)."""
    if not a.node or not b.node:
        return None
    return a.node == b.node


def node_peer(pod: Pod, label: str, local: bool) -> Peer:
    """A host-network pod as Cilium sees it: the ``host`` or ``remote-node`` reserved identity."""
    entity = "host" if local else "remote-node"
    return Peer(
        labels={},
        reserved=frozenset({entity}),
        entities=frozenset({entity, "cluster", "all"}),
        ip=pod.ip,
        pod=None,
        name=f"{label} (host network: identity {entity})",
        node_ip=True,
        workload_pod=pod,
    )


def peer_view(other: Pod, label: str, enforcing: Pod | None) -> PeerView:
    """The identity of ``other`` as seen by Cilium at ``enforcing`` (None: outside the cluster)."""
    if not other.host_network:
        return PeerView((pod_peer(other, label),))
    where = same_node(other, enforcing) if enforcing is not None else False
    if where is None:
        note = (
            f"{label} runs on the host network: Cilium sees it as `host` from the same node and as "
            "`remote-node` from another node, and the pods' node (nodeName) is unknown"
        )
        return PeerView((node_peer(other, label, True), node_peer(other, label, False)), note)
    entity = "host" if where else "remote-node"
    note = (
        f"{label} runs on the host network ({'same node' if where else 'another node'}): Cilium sees the "
        f"`{entity}` identity, not the pod's labels"
    )
    return PeerView((node_peer(other, label, where),), note)


def assumed_kube_dns(model: Model) -> Peer:
    """kube-dns when its pods are not in the view (a GitOps repo, a namespace-scoped snapshot):
    the identity a standard kube-dns/CoreDNS pod carries (A1.3), said to be an assumption."""
    labels = {"k8s-app": "kube-dns", NS_KEY: "kube-system"}
    labels.update({NS_LABEL_PREFIX + k: v for k, v in model.ns_labels("kube-system").items()})
    labels[SA_KEY] = "coredns"
    labels[CLUSTER_KEY] = model.cilium_config.get("cluster-name", "default") or "default"
    return Peer(
        labels,
        frozenset(),
        frozenset({"cluster", "all"}),
        None,
        None,
        "kube-system/kube-dns (not in this view: assumed k8s-app=kube-dns)",
    )
