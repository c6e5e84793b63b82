"""Paths of a call across clusters that need the app layer (flows are read here): the pair's flows
told apart by cluster, and the sidecar path on one Istio network (diagnosis/istio_samenetwork.py)."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor import app
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.clustermesh import Sides, explain_across
from kubectl_meshdoctor.diagnosis.clustermesh_flows import of_pair
from kubectl_meshdoctor.diagnosis.clustermesh_gaps import flows_gap, mark_disconnected
from kubectl_meshdoctor.diagnosis.clustermesh_model import merged
from kubectl_meshdoctor.diagnosis.istio_samenetwork import overlay, split_istio
from kubectl_meshdoctor.engines.istio_mesh import workload_mesh
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, Mesh, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import dns_capture, network_of
from kubectl_meshdoctor.model.refs import Target, services_for
from kubectl_meshdoctor.model.view import Model


def pair_flows(model: Model, sides: Sides, query: Query) -> None:
    """Read the pair's flows now and keep those whose ends are in the pair's clusters (H2)."""
    from kubectl_meshdoctor.app_flows import attach_for_explain
    from kubectl_meshdoctor.diagnosis.evidence import FlowIndex
    from kubectl_meshdoctor.diagnosis.northsouth_entry import is_north_south
    from kubectl_meshdoctor.sources.pair_flows import no_objects

    if query.no_flows or no_objects(model) or query.via is not None:
        return
    if is_north_south(model, query.source, query.destination):
        return  # world → a gateway: app.explain reads the gateway leg's flows itself
    if model.flow_files:
        attach_for_explain(model, query)
    kept = of_pair(model.flows, sides.client.name, sides.server.name)
    if len(kept) == len(model.flows) and model.flow_index is not None:
        return  # already the pair's clusters' flows (matrix: every call within one cluster shares them)
    newest = model.flow_index.newest if model.flow_index is not None else 0.0
    model.flows = kept
    model.flow_index = FlowIndex(model.flows)
    model.flow_index.newest = max(model.flow_index.newest, newest)


def same_network(sides: Sides, query: Query, src_ref: str, src: Target, dst: Target) -> Diagnosis | None:
    """Both ends run a sidecar and both clusters are on one known Istio network; else None."""
    client, server = sides.client, sides.server
    if workload_mesh(client.model, src.pods)[0] is not Mesh.SIDECAR:
        return None
    if not dst.pods or workload_mesh(server.model, dst.pods)[0] is not Mesh.SIDECAR:
        return None
    mine, theirs = network_of(client)[0], network_of(server)[0]
    if mine is None or mine != theirs:
        return None
    found = services_for(server.model, dst.pods)
    svc = dst.service or (found[0] if found else None)
    if svc is None:
        return None  # Istio routes by Service host: without one the caller's path applies (unknown)
    key = f"{svc.namespace}/{svc.name}"
    front = client.model.services.get(key)
    if front is None and not dns_capture(client, src.pods[0]):
        name = f"{svc.name}.{svc.namespace}.svc.cluster.local"
        d = app.explain(client.model, replace(query, source=src_ref, destination=name))
        params = {"service": key, "cluster": client.name, "peer_cluster": server.name}
        d.causes.insert(0, Cause("istio-mc-service-not-local", (svc.ref(),), params))
        if d.verdict is Verdict.ALLOWED:
            d.verdict = Verdict.BROKEN
        return d
    backends = sorted(dst.pods, key=lambda p: (not p.ready, p.name))
    model, names = merged(client, server, backends)
    front = replace(front or svc, ready_pods={f"{p.namespace}/{names[p.key()]}" for p in backends if p.ready})
    model.services[key] = front
    model.services_by_ns[svc.namespace] = [s for s in model.services_by_ns[svc.namespace] if s.name != svc.name] + [
        front
    ]
    split_istio(model, client, server)
    down = mark_disconnected(model, sides)
    q = replace(query, source=src_ref, destination=f"{svc.namespace}/svc/{svc.name}")
    pair_flows(model, sides, q)
    d = overlay(explain_across(app.explain, model, q, sides), client, server)
    d.causes[:0] = down
    flows_gap(d, sides, query.no_flows)
    d.destination = replace(d.destination, pods=tuple(p.name for p in backends))
    d.warnings.append(
        f"Istio on one network ({mine}): the sidecar of {client.name} sends mTLS straight to the pod IP in "
        f"{server.name}; Cilium in {server.name} sees the client pod (cluster {client.name})"
    )
    return d


def pod_port(server: Cluster, dst: Target, port: int | None) -> tuple[int | None, str]:
    """Pod to pod across clusters: a Service port of the workload's Service means its target port."""
    if port is None:
        return None, ""
    for svc in services_for(server.model, dst.pods):
        for sp in svc.ports:
            if sp.port == port and sp.target_port != port:
                target = sp.target_port if isinstance(sp.target_port, int) else dst.pods[0].named_port(sp.target_port)
                if target is not None:
                    return target, (
                        f"across clusters the client calls the pod IP: port {port} of Service "
                        f"{svc.namespace}/{svc.name} is target port {target}"
                    )
    return port, ""
