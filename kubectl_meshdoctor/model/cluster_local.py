"""Istio's cluster-local hosts of one cluster (semantics-multicluster.md I3, MB13).

``meshConfig.serviceSettings[].settings.clusterLocal`` with ``hosts`` (exact, ``*.ns.svc.<domain>`` or
``*``) keeps a client's traffic to those hosts inside its own cluster; an entry with ``clusterLocal:
false`` is an exception. Defaults: ``kubernetes.default.svc.<domain>`` and ``*.kube-system.svc.<domain>``
are cluster-local. Here the most specific matching pattern decides (an exact host over a wildcard, a
longer wildcard over a shorter one), a later entry over an earlier one of the same pattern, and the
mesh config's entries over the defaults. The mesh config is ConfigMap ``istio`` (or ``istio-<rev>``)
of the Istio root namespace, key ``mesh``; without it only the defaults apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.model.clusters import Cluster

DOMAIN = "cluster.local"
_DEFAULTS = (f"kubernetes.default.svc.{DOMAIN}", f"*.kube-system.svc.{DOMAIN}")


@dataclass(frozen=True, slots=True)
class Locality:
    local: bool
    pattern: str  # the host pattern that decided ("" when none matches)
    by: ObjectRef | None  # the mesh config ConfigMap, None for a default


def _mesh_doc(cluster: Cluster) -> tuple[dict[str, Any], ObjectRef | None]:
    root = cluster.model.istio.mesh.root_namespace
    for obj in cluster.raw.objects:
        doc = obj.doc
        meta = doc.get("metadata") or {}
        name = str(meta.get("name") or "")
        if doc.get("kind") != "ConfigMap" or meta.get("namespace") != root:
            continue
        if name != "istio" and not name.startswith("istio-"):
            continue
        text = (doc.get("data") or {}).get("mesh")
        if not isinstance(text, str):
            continue
        try:
            raw = yamlcore.load(text) or {}
        except yaml.YAMLError:
            raw = {}
        return (raw if isinstance(raw, dict) else {}), ObjectRef("ConfigMap", root, name)
    return {}, None


def _specificity(pattern: str, host: str) -> int | None:
    """How specifically ``pattern`` matches ``host`` (higher wins), None when it does not."""
    if pattern == host:
        return 10_000
    if pattern == "*":
        return 0
    if pattern.startswith("*.") and host.endswith(pattern[1:]):
        return len(pattern)
    return None


def locality(cluster: Cluster, host: str) -> Locality:
    """Whether ``host`` (``name.ns.svc.cluster.local``) is cluster-local for clients of ``cluster``."""
    best: tuple[tuple[int, int], Locality] | None = None
    for pattern in _DEFAULTS:
        rank = _specificity(pattern, host)
        if rank is not None and (best is None or (rank, -1) >= best[0]):
            best = ((rank, -1), Locality(True, pattern, None))
    raw, ref = _mesh_doc(cluster)
    order = 0
    for entry in raw.get("serviceSettings") or []:
        if not isinstance(entry, dict):
            continue
        settings = entry.get("settings") or {}
        local = bool(settings.get("clusterLocal")) if isinstance(settings, dict) else False
        for pattern in entry.get("hosts") or []:
            order += 1
            rank = _specificity(str(pattern), host)
            if rank is not None and (best is None or (rank, order) >= best[0]):
                best = ((rank, order), Locality(local, str(pattern), ref))
    return best[1] if best is not None else Locality(False, "", None)
