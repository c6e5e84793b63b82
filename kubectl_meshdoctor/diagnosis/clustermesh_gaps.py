"""What a call across clusters cannot see (semantics-multicluster.md M6, H4, MB5, MB19): never `allowed`.

* A cluster the input marks not connected (mesh.yaml ``connected: false`` or ``status: unreachable``,
  e.g. from ``cilium clustermesh status``): agents keep its last known endpoints and identities, so
  whether its pods still answer (or are who the cached identity says) is unknown.
* Flows: when the input holds Hubble flows of one cluster of the call but none of the other, "no drop
  seen" on the other's nodes proves nothing; an answer that would be `allowed` is `unknown`.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.clustermesh import Sides
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, Gap, Symptom, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.view import Model

_DOWN = ("unreachable", "not-connected", "disconnected", "not-ready")


def disconnected(cluster: Cluster) -> str | None:
    """Why the input says the cluster is not connected to the mesh, or None."""
    connected = cluster.istio.get("connected", "").strip().lower()
    status = cluster.istio.get("status", "").strip().lower()
    if connected == "false":
        return "mesh.yaml: connected: false"
    if status in _DOWN:
        return f"mesh.yaml: status: {status}"
    return None


def mark_disconnected(model: Model, sides: Sides) -> list[Cause]:
    """A gap on every hop (the whole path rests on the cached state) and the cause naming the cluster."""
    causes: list[Cause] = []
    for cluster in sides.both:
        why = disconnected(cluster)
        if why is None:
            continue
        model.gaps.append(
            Gap(
                f"cluster {cluster.name} is not connected to the mesh ({why}): agents keep its last known endpoints "
                "and identities (M6), so whether this call still works is unknown",
                {"*"},
            )
        )
        causes.append(Cause("clustermesh-remote-unreachable", (), {"cluster": cluster.name, "why": why}))
    return causes


def _has_flows(cluster: Cluster) -> bool:
    return bool(cluster.raw.flow_files or cluster.raw.flows)


def _nodes_missing(cluster: Cluster, warnings: list[str]) -> str | None:
    """H4: Relay named nodes of this cluster (``<cluster>/<node>``) unavailable, gone or in error."""
    prefix = f"{cluster.name}/"
    for warning in warnings:
        if "flows may be missing" in warning and prefix in warning:
            return f"Hubble reported nodes of {cluster.name} missing: {warning}"
    return None


def flows_gap(d: Diagnosis, sides: Sides, no_flows: bool) -> None:
    """MB19: flows of one cluster of the call but not of the other, or its nodes reported missing."""
    if no_flows or sides.client is sides.server:
        return
    have = [c for c in sides.both if _has_flows(c)]
    lacking = [
        (c, f"the input holds flows of {', '.join(h.name for h in have)} only") for c in sides.both if not _has_flows(c)
    ]
    if not have:
        return
    for c in have:
        why = _nodes_missing(c, d.warnings)
        if why is not None:
            lacking.append((c, why))
    if not lacking:
        return
    for cluster, why in lacking:
        d.causes.append(Cause("flows-cluster-gap", (), {"cluster": cluster.name, "why": why}))
        gap = Gap(f"Hubble flows of cluster {cluster.name} are missing ({why}): what its nodes dropped is not seen", ())
        d.gaps.append(gap)
    if d.verdict is Verdict.ALLOWED:
        d.verdict, d.symptom = Verdict.UNKNOWN, Symptom.UNKNOWN
