"""`matrix` over N clusters (issue 21 item 5): rows and columns are the workloads of every cluster
(``NS/NAME@CLUSTER``), and each cell is the answer `explain CLIENT@C1 SERVER@C2` gives on the same
input (app_multicluster.answer), so a cell never says more than explain would.

A namespace given with -n is covered in the clusters that have it (unknown in all of them: exit 2).
Flows are read once per cluster (offline: those of the covered namespaces; live: each cluster's Relay)
and each cell keeps the pair's own, told apart by cluster as explain does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster import WIDER, answer
from kubectl_meshdoctor.app_multicluster_load import MeshInput, build, read_raw
from kubectl_meshdoctor.collector import paused_then_frozen
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.matrix import Cell, is_server, to_cell, workloads
from kubectl_meshdoctor.errors import MeshdoctorError, UsageError
from kubectl_meshdoctor.findings.types import Symptom, Verdict
from kubectl_meshdoctor.model.objects import Workload
from kubectl_meshdoctor.sources.multicluster import MeshRaw

_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "Pod": "pod"}


@dataclass(frozen=True, slots=True)
class Member:
    """A workload of one cluster: a row (client) and maybe a column (server) of the matrix."""

    cluster: str
    workload: Workload

    @property
    def label(self) -> str:
        return f"{self.workload.namespace}/{self.workload.name}@{self.cluster}"

    @property
    def ref(self) -> str:
        w = self.workload
        return f"{w.namespace}/{_KINDS[w.kind]}/{w.name}@{self.cluster}"

    def shown(self) -> Workload:
        """The workload as the renderers print it: its name carries ``@CLUSTER``."""
        return dataclasses.replace(self.workload, name=f"{self.workload.name}@{self.cluster}")


@dataclass(slots=True)
class MeshMatrix:
    clients: list[Member]
    servers: list[Member]
    cells: list[Cell]
    gaps: list[str]  # every cluster's input gaps (prefixed with the cluster) and the clusters not read
    warnings: list[str]
    unread: list[str]  # clusters that could not be read (live)

    @property
    def exit_code(self) -> int:
        """Contract §6, as one cluster's matrix; a cluster that could not be read makes it 3 at least."""
        from kubectl_meshdoctor.diagnosis.matrix import matrix_exit_code

        code = matrix_exit_code(self.cells)
        return 3 if code == 0 and self.unread else code


def load(opts: app.SourceOptions, namespaces: list[str] | None, no_flows: bool, every: bool = False) -> MeshInput:
    """Every cluster; live, only the covered namespaces (and the system ones, or with ``every`` all of them)
    and the flows of the covered namespaces."""
    from kubectl_meshdoctor.sources.live import SYSTEM_NAMESPACES

    query = Query("", "", no_flows=no_flows)
    scope = None if namespaces is None or every else list(dict.fromkeys([*namespaces, *SYSTEM_NAMESPACES]))
    raw = read_raw(opts, query, scope if app.is_live(opts) else None, flows=namespaces)
    _flows_now(raw, namespaces, no_flows)
    return build(raw, scope if app.is_live(opts) else None)


def _flows_now(raw: MeshRaw, namespaces: list[str] | None, no_flows: bool) -> None:
    """Offline flows are read once, those with an end in the covered namespaces, so that every cell of
    a cluster shares them (explain would otherwise stream the files for each cell)."""
    from kubectl_meshdoctor.sources.snapshot import materialize_flows

    for snap in raw.clusters.values():
        if snap.flow_files and not no_flows:
            with paused_then_frozen():
                materialize_flows(snap, namespaces)
        snap.flow_files = []


def _covered(mesh: MeshInput, namespaces: list[str] | None) -> dict[str, list[str] | None]:
    """The namespaces covered in each cluster (None: all); -n naming none of any cluster's is exit 2."""
    if namespaces is None:
        return {c.name: None for c in mesh.clusters}
    out: dict[str, list[str] | None] = {}
    for c in mesh.clusters:
        known = set(c.model.namespaces) | set(c.model.pods_by_ns)
        out[c.name] = [ns for ns in namespaces if ns in known]
    if not any(out.values()) and any(not c.unreadable for c in mesh.clusters):
        listed = ", ".join(c.name for c in mesh.clusters)
        raise UsageError(f"namespace(s) not found in any cluster ({listed}): {', '.join(namespaces)}")
    return out


def matrix(
    opts: app.SourceOptions,
    namespaces: list[str] | None,
    selector: dict[str, str],
    method: str = "GET",
    path: str = "/",
    no_flows: bool = False,
) -> MeshMatrix:
    mesh = load(opts, namespaces, no_flows)
    found = _matrix(mesh, namespaces, selector, method, path, no_flows)
    if mesh.scope is not None and any(code in WIDER for c in found.cells for code in c.causes):
        found = _matrix(load(opts, namespaces, no_flows, every=True), namespaces, selector, method, path, no_flows)
    return found


def _matrix(
    mesh: MeshInput, namespaces: list[str] | None, selector: dict[str, str], method: str, path: str, no_flows: bool
) -> MeshMatrix:
    """A namespace left out of a scoped read may hold what a cell reports missing (WIDER): the caller
    then reads every namespace and asks again."""
    covered = _covered(mesh, namespaces)
    clients: list[Member] = []
    servers: list[Member] = []
    for c in mesh.clusters:
        scope = covered[c.name]
        if c.unreadable or scope == []:
            continue
        for w in workloads(c.model, scope, selector):
            clients.append(Member(c.name, w))
            if is_server(c.model, w):
                servers.append(Member(c.name, w))
    local = _local_views(mesh)
    cells: list[Cell] = []
    for client in clients:
        for server in servers:
            if client.workload is server.workload:
                continue
            view = local if client.cluster == server.cluster else mesh
            ns = client.workload.namespace
            query = Query(client.ref, server.ref, ns, method=method, path=path, no_flows=no_flows)
            ends = (client.cluster, server.cluster)
            try:
                cell = to_cell(client.label, server.label, answer(view, query))
            except MeshdoctorError as err:
                cell = Cell(client.label, server.label, Verdict.UNKNOWN, Symptom.UNKNOWN, (), None, None, str(err))
            cells.append(dataclasses.replace(cell, clusters=ends))
    unread = [c.name for c in mesh.clusters if c.unreadable]
    return MeshMatrix(clients, servers, cells, _gaps(mesh), mesh.warnings, unread)


def _local_views(mesh: MeshInput) -> MeshInput:
    """The clusters for calls within one cluster: each model a shallow copy, since such a call keeps only
    the flows whose ends are both in its cluster (the originals keep every flow for calls across)."""
    clusters = [dataclasses.replace(c, model=dataclasses.replace(c.model)) for c in mesh.clusters]
    return dataclasses.replace(mesh, clusters=clusters)


def _gaps(mesh: MeshInput) -> list[str]:
    out: list[str] = []
    for c in mesh.clusters:
        if c.unreadable:
            out.append(f"cluster {c.name} could not be read ({c.unreadable}): its workloads are not in the matrix")
            continue
        out += [f"cluster {c.name}: {g}" for g in c.model.gaps]
    return list(dict.fromkeys(out))


def matrix_what_if(
    opts: app.SourceOptions,
    namespaces: list[str] | None,
    selector: dict[str, str],
    method: str,
    path: str,
    changes: tuple[tuple[str, ...], tuple[str, ...]],
) -> tuple[MeshMatrix, dict[tuple[str, str], Cell], list[str]]:
    """The matrix after ``--what-if`` changes (files, deletions), each naming its cluster as for explain
    (app_multicluster_whatif.py), the cells before them by (source, destination), and what was applied.
    Both are static: the flows predate the change. Every namespace is read (a change may be anywhere)."""
    from kubectl_meshdoctor.app_multicluster_whatif import apply_each, by_cluster
    from kubectl_meshdoctor.sources.whatif import read_changes

    todo = read_changes(*changes)
    raw = read_raw(opts, Query("", "", no_flows=True), None, flows=namespaces)
    _flows_now(raw, namespaces, True)
    mesh = build(raw)
    per_cluster = by_cluster(mesh.clusters, todo)
    before = _matrix(mesh, namespaces, selector, method, path, True)
    applied = apply_each(raw, mesh.clusters, per_cluster)
    after = _matrix(build(raw), namespaces, selector, method, path, True)
    return after, {(c.source, c.destination): c for c in before.cells}, applied
