"""explain over the offline input of N clusters (issue 21; semantics-multicluster.md Part S, M).

A call within one cluster is answered exactly as with that cluster alone; the answer only names the
cluster. A call across clusters runs on one merged model (diagnosis/clustermesh_model.py), the
client's cluster as base, with ClusterMesh's rules (diagnosis/clustermesh.py); a Service destination
in another cluster is a Cilium global Service question (diagnosis/global_service.py).
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster_load import MeshInput, load, question_scope
from kubectl_meshdoctor.app_multicluster_paths import pair_flows, pod_port, same_network
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.clustermesh import Sides, explain_across
from kubectl_meshdoctor.diagnosis.clustermesh_gaps import flows_gap, mark_disconnected
from kubectl_meshdoctor.diagnosis.clustermesh_istio_view import view_mismatch
from kubectl_meshdoctor.diagnosis.clustermesh_model import merged
from kubectl_meshdoctor.diagnosis.istio_ambient_mc import unmodelled_istio
from kubectl_meshdoctor.diagnosis.istio_cluster_local import stays_local
from kubectl_meshdoctor.diagnosis.istio_locality import with_locality
from kubectl_meshdoctor.diagnosis.istio_mc_authz import shared_identity_note
from kubectl_meshdoctor.diagnosis.istio_multinetwork_call import multinetwork
from kubectl_meshdoctor.engines.global_service import GLOBAL, judge
from kubectl_meshdoctor.engines.istio_mesh import workload_mesh
from kubectl_meshdoctor.errors import DataError
from kubectl_meshdoctor.findings.types import Diagnosis, Mesh, Verdict
from kubectl_meshdoctor.model.cluster_refs import pick_cluster, resolve_in, split_cluster
from kubectl_meshdoctor.model.clusters import Cluster, annotations_of
from kubectl_meshdoctor.model.refs import Target, resolve


def _external(text: str) -> bool:
    """A DNS name or an IP (no ``/``): resolved where the client runs, so it needs no ``@CLUSTER``."""
    ref, cluster = split_cluster(text)
    return cluster is None and "/" not in ref and ("." in ref or ":" in ref)


# causes that may come from a namespace left out of a scoped read (an east-west gateway lives anywhere)
WIDER = frozenset({"istio-mc-eastwest-missing"})


def explain(opts: app.SourceOptions, query: Query) -> Diagnosis:
    """Reads only the question's namespaces in each cluster (issue 21); a cause that a namespace left out
    could refute is checked again on every namespace."""
    scope = question_scope(query)
    d = answer(load(opts, query, scope), query)
    if scope is not None and any(c.code in WIDER for c in d.causes):
        d = answer(load(opts, query), query)
    return d


def answer(mesh: MeshInput, query: Query) -> Diagnosis:
    if query.source.strip() == "world":  # from outside: through a gateway of the destination's cluster (issue 20)
        dst_ref, server = pick_cluster(mesh.clusters, query.destination, "DESTINATION")
        via = query.via
        if via is not None:
            via = pick_cluster([server], via, "--via")[0]
        src_ref, client = "world", server
        query = replace(query, via=via)
    else:
        src_ref, client = pick_cluster(mesh.clusters, query.source, "SOURCE")
        if _external(query.destination):
            dst_ref, server = query.destination.strip(), client
        else:
            dst_ref, server = pick_cluster(mesh.clusters, query.destination, "DESTINATION")
    for cluster in (client, server):
        if cluster.unreadable:
            raise DataError(f"cluster {cluster.name} could not be read ({cluster.unreadable}): cannot answer about it")
    sides = Sides(client, server)
    if src_ref == "world":
        d = app.explain(server.model, replace(query, source=src_ref, destination=dst_ref))
    elif client is server:
        resolve_in(mesh.clusters, client, src_ref, query.source, query.namespace, False)  # "did you mean" across
        dst = resolve_in(mesh.clusters, server, dst_ref, query.destination, query.namespace, True)
        remote = _remote_backends(mesh, client, dst)
        if remote is not None:  # a global Service without local backends: the client reaches remote ones (M5)
            sides = Sides(client, remote)
            d = _global_service(sides, query, src_ref, resolve(remote.model, dst_ref, query.namespace, True))
            d.warnings.append(
                f"Service {dst.label} has no ready backend in {client.name}; as a global Service it load-balances to "
                f"{remote.name}'s"
            )
        else:
            q = replace(query, source=src_ref, destination=dst_ref)
            if len(mesh.clusters) > 1:
                pair_flows(client.model, sides, q)  # flows of same-named pods of other clusters do not count
            d = app.explain(client.model, q)
            d.warnings.extend(_global_elsewhere(mesh, client, d))
    else:
        d = _across(mesh, sides, query, src_ref, dst_ref)
        view_mismatch(d, client, server)  # MB18: Cilium global, Istio's view without the other cluster
    return _annotate(d, sides, mesh)


def _across(mesh: MeshInput, sides: Sides, query: Query, src_ref: str, dst_ref: str) -> Diagnosis:
    client, server = sides.client, sides.server
    src = resolve_in(mesh.clusters, client, src_ref, query.source, query.namespace, False)
    if not src.pods:
        raise DataError(f"{src.label}@{client.name} has no pods in this view: cannot tell who calls")
    dst = resolve_in(mesh.clusters, server, dst_ref, query.destination, query.namespace, True)
    hidden = stays_local(app.explain, client, server, query, src_ref, src, dst)
    if hidden is not None:  # a cluster-local host (MB13): the client's sidecar stays in its cluster
        return hidden
    across_networks = multinetwork(sides, query, src, dst)
    if across_networks is not None:  # sidecars in two Istio networks: through C2's east-west gateway
        return with_locality(across_networks, client, server, dst)
    one_network = same_network(sides, query, src_ref, src, dst)
    if one_network is not None:  # sidecars on one Istio network: pod to pod, mTLS end to end
        return with_locality(one_network, client, server, dst)
    istio_client = workload_mesh(client.model, src.pods)[0] is not Mesh.NONE  # ignores Cilium's global LB (X3)
    if dst.kind == "Service" and dst.service is not None and not istio_client:
        return _global_service(sides, query, src_ref, dst)
    if not dst.pods:
        raise DataError(f"{dst.label}@{server.name} has no pods in this view: nothing to call across clusters")
    pods = sorted(dst.pods, key=lambda p: (not p.ready, p.name))
    model, names = merged(client, server, pods)
    port, note = pod_port(server, dst, query.port)
    q = replace(query, source=src_ref, destination=f"{pods[0].namespace}/pod/{names[pods[0].key()]}", port=port)
    ambient = unmodelled_istio(model, sides, src.pods, pods, dst.service)
    down = mark_disconnected(model, sides)
    pair_flows(model, sides, q)
    d = explain_across(app.explain, model, q, sides)
    d.causes[:0] = [*down, *ambient]
    flows_gap(d, sides, query.no_flows)
    if note:
        d.warnings.append(note)
    suffix = f"@{server.name}"
    workload = d.destination.workload.removesuffix(suffix)
    d.destination = replace(d.destination, workload=workload, kind=dst.kind, pods=tuple(p.name for p in pods))
    return d


def _global_service(sides: Sides, query: Query, src_ref: str, dst: Target) -> Diagnosis:
    client, server = sides.client, sides.server
    svc = dst.service
    assert svc is not None
    key = f"{svc.namespace}/{svc.name}"
    client_svc = client.model.services.get(key)
    view = judge(
        key,
        client.name,
        server.name,
        client_svc,
        svc,
        annotations_of(client, "Service", svc.namespace, svc.name) if client_svc is not None else {},
        annotations_of(server, "Service", svc.namespace, svc.name),
    )
    if view.cause is not None:
        target = f"{svc.name}.{svc.namespace}.svc.cluster.local" if view.missing else f"{svc.namespace}/svc/{svc.name}"
        d = app.explain(client.model, replace(query, source=src_ref, destination=target))
        d.causes.insert(0, view.cause)
        if d.verdict is Verdict.ALLOWED:
            d.verdict = Verdict.BROKEN  # the client is served by its own cluster, never by the one asked about
        d.destination = replace(
            d.destination, namespace=svc.namespace, workload=svc.name, kind="Service", service=svc.name, external=None
        )
        return d
    assert client_svc is not None
    backends = sorted(dst.pods, key=lambda p: (not p.ready, p.name))
    if not backends:
        raise DataError(f"Service {key} has no pods in {server.name}: no backend there to reach")
    model, names = merged(client, server, backends)
    front = replace(client_svc, ready_pods={f"{p.namespace}/{names[p.key()]}" for p in backends if p.ready})
    model.services[key] = front
    model.services_by_ns[svc.namespace] = [
        front if s.name == svc.name else s for s in model.services_by_ns[svc.namespace]
    ]
    src_pods = resolve_in([client], client, src_ref, query.source, query.namespace, False).pods
    ambient = unmodelled_istio(model, sides, src_pods, backends, svc)
    down = mark_disconnected(model, sides)
    q = replace(query, source=src_ref, destination=f"{svc.namespace}/svc/{svc.name}")
    pair_flows(model, sides, q)
    d = explain_across(app.explain, model, q, sides)
    d.causes[:0] = [*down, *ambient]
    flows_gap(d, sides, query.no_flows)
    local = [
        p
        for p in client.model.pods_by_ns.get(svc.namespace, [])
        if client_svc.ready_pods and p.key() in client_svc.ready_pods
    ]
    d.warnings.extend(view.notes)
    if local:
        d.warnings.append(
            f"global Service {key} also has {len(local)} ready backend(s) in {client.name}; this answer is for "
            f"those of {server.name}"
        )
    d.destination = replace(d.destination, pods=tuple(p.name for p in backends))
    return d


def _remote_backends(mesh: MeshInput, cluster: Cluster, dst: Target) -> Cluster | None:
    """The first other cluster whose backends a global Service of ``cluster`` without ready local backends
    uses (both global, that one shared, with pods there), or None."""
    svc = dst.service
    if dst.kind != "Service" or svc is None or any(p.key() in (svc.ready_pods or set()) for p in dst.pods):
        return None
    if svc.ready_pods is None and any(p.ready for p in dst.pods):
        return None
    mine = annotations_of(cluster, "Service", svc.namespace, svc.name)
    if mine.get(GLOBAL, "").lower() != "true":
        return None
    key = f"{svc.namespace}/{svc.name}"
    for other in mesh.clusters:
        theirs = other.model.services.get(key)
        if other is cluster or theirs is None:
            continue
        ann = annotations_of(other, "Service", svc.namespace, svc.name)
        shared = judge(key, cluster.name, other.name, svc, theirs, mine, ann).cause is None
        if shared and resolve(other.model, f"{svc.namespace}/svc/{svc.name}", svc.namespace, True).pods:
            return other
    return None


def _global_elsewhere(mesh: MeshInput, cluster: Cluster, d: Diagnosis) -> list[str]:
    """A global Service answered within one cluster: where else it has backends (M5)."""
    name = d.destination.service
    if not name or not d.destination.namespace:
        return []
    if annotations_of(cluster, "Service", d.destination.namespace, name).get(GLOBAL, "").lower() != "true":
        return []
    key = f"{d.destination.namespace}/{name}"
    others = [
        c.name
        for c in mesh.clusters
        if c is not cluster
        and key in c.model.services
        and annotations_of(c, "Service", d.destination.namespace, name).get(GLOBAL, "").lower() == "true"
    ]
    if not others:
        return []
    return [
        f"Service {key} is global: {cluster.name} also load-balances to its backends in {', '.join(others)}; this "
        f"answer is for {cluster.name}'s own (ask {d.destination.namespace}/svc/{name}@{others[0]} for those)"
    ]


def _annotate(d: Diagnosis, sides: Sides, mesh: MeshInput) -> Diagnosis:
    """Name the cluster of each end and of each hop (JSON ``cluster`` fields), plus what was assumed."""
    d.source = replace(d.source, cluster=sides.client.name)
    d.destination = replace(
        d.destination, cluster=None if d.destination.external else (d.destination.cluster or sides.server.name)
    )
    d.hops = [replace(h, cluster=h.cluster or sides.of(h.hop).name) for h in d.hops]
    shared = shared_identity_note(d, sides.client, sides.server)  # MB16: principals alike in every cluster
    notes = [n for c in sides.both for n in c.notes] + mesh.warnings + ([shared] if shared else [])
    notes += [
        f"cluster {c.name} could not be read ({c.unreadable}): this answer does not consider it"
        for c in mesh.clusters
        if c.unreadable and all(c is not s for s in sides.both)
    ]
    d.warnings = list(dict.fromkeys([*d.warnings, *notes]))
    return d
