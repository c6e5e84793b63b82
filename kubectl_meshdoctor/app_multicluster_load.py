"""Reading the input of N clusters (issue 21): offline ``clusters/<name>/``, a bundled multi-cluster
demo, or live ``--context a,b``, each cluster built into its model, and the namespaces an explain
question needs in each cluster (only those are read; semantics-multicluster.md Part S)."""

from __future__ import annotations

import dataclasses

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster_live import FlowScope, contexts, read_live
from kubectl_meshdoctor.collector import paused_then_frozen
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model.cluster_refs import split_cluster
from kubectl_meshdoctor.model.clusters import Cluster, make_cluster, mesh_notes
from kubectl_meshdoctor.sources.multicluster import MeshRaw, is_mc_demo, is_multicluster, read_mc_demo, read_mesh


@dataclasses.dataclass(slots=True)
class MeshInput:
    label: str
    clusters: list[Cluster]
    warnings: list[str]
    scope: list[str] | None = None  # only these namespaces were read in each cluster (None: all)


def is_mesh_input(opts: app.SourceOptions) -> bool:
    """``--from DIR`` holding ``clusters/<name>/``, a bundled multi-cluster demo, or ``--context a,b``."""
    if is_multicluster(opts.from_path) or (opts.from_path is None and is_mc_demo(opts.demo_name)):
        return True
    return contexts(opts) is not None


def question_scope(query: Query) -> list[str] | None:
    """The namespaces an explain question needs in each cluster: its two ends' and the system ones (None:
    every namespace, e.g. from `world`, whose routes and backends may live anywhere)."""
    from kubectl_meshdoctor.diagnosis.northsouth_entry import may_be_north_south
    from kubectl_meshdoctor.sources.live import namespaces_for

    if may_be_north_south(query.source) or query.via is not None:
        return None
    return namespaces_for([split_cluster(r)[0] for r in (query.source, query.destination)], query.namespace)


def read_raw(
    opts: app.SourceOptions, query: Query, scope: list[str] | None = None, flows: FlowScope = "pair"
) -> MeshRaw:
    """Every cluster's raw input; with ``scope``, only those namespaces' objects (and the cluster-scoped
    ones), widened to where an ExternalName Service or a VirtualService of the scope leads. Live flows:
    the question's pair's, or (matrix) those of the namespaces ``flows`` (None: all); offline they stay
    in files."""
    if opts.from_path is not None and opts.demo_name is not None:
        raise UsageError("--from and --demo cannot be combined")
    live = contexts(opts)
    with paused_then_frozen():
        if live is not None:
            return read_live(opts, live, query, scope, flows)
        if opts.from_path is None:
            return read_mc_demo(str(opts.demo_name))
        raw = read_mesh(opts.from_path, scope)
        if scope is not None:
            more = sorted({ns for snap in raw.clusters.values() for ns in app.alias_namespaces(snap, scope)})
            if more:
                raw = read_mesh(opts.from_path, [*scope, *more])
        return raw


def build(raw: MeshRaw, scope: list[str] | None = None) -> MeshInput:
    clusters: list[Cluster] = []
    for directory, snap in raw.clusters.items():
        model = app.build_model(snap)
        facts = raw.index.get(directory) or {}
        cluster = make_cluster(directory, snap, model, facts)
        cluster.unreadable = raw.unreadable.get(directory, "")
        if not facts and cluster.name in raw.index:
            cluster.istio = dict(raw.index[cluster.name])
        clusters.append(cluster)
    return MeshInput(raw.label, clusters, [*raw.warnings, *mesh_notes(clusters)], scope)


def load(opts: app.SourceOptions, query: Query, scope: list[str] | None = None) -> MeshInput:
    return build(read_raw(opts, query, scope), scope)
