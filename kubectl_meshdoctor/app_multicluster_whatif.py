"""`explain --what-if` on N-cluster input (issue 21): every change names the cluster it goes to, since
the same kind/namespace/name may exist in several. A manifest object says it with the annotation
``meshdoctor.io/cluster: NAME``; a deletion with ``--what-if-delete KIND/NS/NAME@CLUSTER``. With one
cluster in the input, the cluster may be left out. The answer after the changes is static (the flows
predate them), as with one cluster."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster import answer
from kubectl_meshdoctor.app_multicluster_load import build, read_raw
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings.types import Diagnosis
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.sources.multicluster import MeshRaw
from kubectl_meshdoctor.sources.whatif import Change, apply_changes, read_changes

ANNOTATION = "meshdoctor.io/cluster"


def _target(change: Change) -> tuple[Change, str | None]:
    """The change without its cluster, and the cluster it names (None: not named)."""
    if change.action == "delete":
        name, sep, cluster = change.name.rpartition("@")
        return (replace(change, name=name), cluster) if sep and name and cluster else (change, None)
    assert change.obj is not None
    annotations = (change.obj.doc.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ANNOTATION) if isinstance(annotations, dict) else None
    return change, str(value) if value else None


def _cluster(clusters: list[Cluster], name: str | None, change: Change) -> Cluster:
    listed = ", ".join(c.name for c in clusters)
    if name is None:
        if len(clusters) == 1:
            return clusters[0]
        how = "KIND/NS/NAME@CLUSTER" if change.action == "delete" else f"the annotation {ANNOTATION}: CLUSTER"
        raise UsageError(f"--what-if: {change.describe()} names no cluster (clusters: {listed}); use {how}")
    found = [c for c in clusters if name in c.names]
    if len(found) != 1:
        raise UsageError(f"--what-if: {change.describe()} names cluster {name!r}, not one of {listed}")
    return found[0]


def explain_what_if(
    opts: app.SourceOptions, query: Query, files: tuple[str, ...], deletes: tuple[str, ...]
) -> tuple[Diagnosis, Diagnosis, list[str]]:
    """(the answer before, the answer after the changes, what was applied, each naming its cluster)."""
    changes = read_changes(files, deletes)
    raw = read_raw(opts, query)  # every namespace: a change may be anywhere
    mesh = build(raw)
    per_cluster = by_cluster(mesh.clusters, changes)
    before = answer(mesh, query)
    applied = apply_each(raw, mesh.clusters, per_cluster)
    after = answer(build(raw), replace(query, no_flows=True))
    return before, after, applied


def by_cluster(clusters: list[Cluster], changes: list[Change]) -> dict[str, list[Change]]:
    """The changes (without their cluster) by the directory of the cluster each names."""
    out: dict[str, list[Change]] = {}
    for change in changes:
        bare, name = _target(change)
        out.setdefault(_cluster(clusters, name, bare).directory, []).append(bare)
    return out


def apply_each(raw: MeshRaw, clusters: list[Cluster], per_cluster: dict[str, list[Change]]) -> list[str]:
    """Apply each cluster's changes to its raw input (in place); what was applied, naming the cluster."""
    applied: list[str] = []
    for cluster in clusters:
        todo = per_cluster.get(cluster.directory)
        if todo:
            raw.clusters[cluster.directory], done = apply_changes(raw.clusters[cluster.directory], todo)
            applied += [f"{item} in cluster {cluster.name}" for item in done]
    return applied
