"""Cilium identity labels of pods (A1.3): the pod's kept labels, its namespace and the namespace's
labels, its service account and the cluster name.

Pods with the same namespace, service account and labels (the replicas of one workload) have the
same identity, as in Cilium: they share one mapping, made once. Nothing changes an identity once
made, so sharing it is invisible to readers; it saves most of the work at 50,000 pods and lets
``model.index.distinct_identities`` skip the replicas at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kubectl_meshdoctor.model.objects import (
    CLUSTER_KEY,
    NS_KEY,
    NS_LABEL_PREFIX,
    SA_KEY,
    Pod,
    identity_label_kept,
)


class Identities:
    """One per model build: ``of(pod)`` gives the pod's identity labels."""

    def __init__(self, cluster: str, ns_labels: Callable[[str], Mapping[str, str]]) -> None:
        self._cluster = cluster
        self._ns_labels = ns_labels
        self._kept: dict[str, bool] = {}
        self._prefixed: dict[str, dict[str, str]] = {}
        self._made: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, str]] = {}

    def of(self, pod: Pod) -> dict[str, str]:
        try:
            key = (pod.namespace, pod.service_account, tuple(pod.labels.items()))
            found = self._made.get(key)
        except TypeError:  # a label value that cannot be a key: its own mapping
            return self._make(pod)
        if found is None:
            found = self._made[key] = self._make(pod)
        return found

    def _make(self, pod: Pod) -> dict[str, str]:
        ident = {}
        kept = self._kept
        for k, v in pod.labels.items():
            keep = kept.get(k)
            if keep is None:
                keep = kept[k] = identity_label_kept(k)
            if keep:
                ident[k] = v
        ident[NS_KEY] = pod.namespace
        prefixed = self._prefixed.get(pod.namespace)
        if prefixed is None:
            prefixed = self._prefixed[pod.namespace] = {
                NS_LABEL_PREFIX + k: v for k, v in self._ns_labels(pod.namespace).items()
            }
        ident.update(prefixed)
        ident[SA_KEY] = pod.service_account
        ident[CLUSTER_KEY] = self._cluster
        return ident
