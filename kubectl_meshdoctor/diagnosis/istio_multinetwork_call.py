"""When a call across clusters takes Istio's multi-network path (semantics-multicluster.md I1, I4):
both ends run a sidecar and the clusters' networks are known and differ. Then the destination is
the Service the client's sidecar routes to (by host), answered by diagnosis/istio_multinetwork.py.
Anything else returns None (the caller keeps its own path; an Istio end there is `unknown`)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import app_protocol
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.clustermesh import Sides
from kubectl_meshdoctor.diagnosis.istio_multinetwork import diagnose
from kubectl_meshdoctor.diagnosis.istio_multinetwork_hops import Path
from kubectl_meshdoctor.engines.istio_mesh import spiffe, workload_mesh
from kubectl_meshdoctor.findings.types import Diagnosis, Endpoint, Mesh, Request
from kubectl_meshdoctor.model.eastwest import east_west, network_of
from kubectl_meshdoctor.model.refs import Target, services_for


def multinetwork(sides: Sides, query: Query, src: Target, dst: Target) -> Diagnosis | None:
    client, server = sides.client, sides.server
    if workload_mesh(client.model, src.pods)[0] is not Mesh.SIDECAR:
        return None
    if not dst.pods or workload_mesh(server.model, dst.pods)[0] is not Mesh.SIDECAR:
        return None
    mine, _ = network_of(client)
    theirs, _ = network_of(server)
    if mine is None or theirs is None or mine == theirs:
        return None
    found = services_for(server.model, dst.pods)
    svc = dst.service or (found[0] if found else None)
    if svc is None or not svc.ports:
        return None
    sp = next((p for p in svc.ports if p.port == query.port), None) if query.port is not None else svc.ports[0]
    if sp is None:
        sp = next((p for p in svc.ports if p.target_port == query.port), None)
    if sp is None:
        return None
    pods = sorted(dst.pods, key=lambda p: (not p.ready, p.name))
    target = sp.target_port if isinstance(sp.target_port, int) else pods[0].named_port(sp.target_port)
    if target is None:
        return None
    proto, why = app_protocol.select(query.app_protocol, sp, query.http_asked, query.protocol)
    path = Path(
        client,
        server,
        src.pods[0],
        pods[0],
        svc,
        sp.port,
        target,
        east_west(server, theirs),
        proto != "tcp",
        query.method,
        query.path,
    )
    trust = (client.istio.get("rootCA"), server.istio.get("rootCA"))
    source = Endpoint(
        src.namespace,
        src.name,
        src.kind,
        tuple(p.name for p in src.pods),
        Mesh.SIDECAR,
        spiffe(client.model, src.pods[0]),
        cluster=client.name,
    )
    destination = Endpoint(
        dst.namespace,
        dst.name,
        dst.kind,
        tuple(p.name for p in pods),
        Mesh.SIDECAR,
        spiffe(server.model, pods[0]),
        svc.name,
        sp.port,
        target,
        cluster=server.name,
    )
    request = Request(query.protocol, query.method, query.path, f"{svc.name}.{svc.namespace}", {}, proto, why)
    d = diagnose(path, trust, source, destination, request)
    if any(c.code == "istio-mc-network-mislabeled" for c in d.causes):
        return d  # MB9: istiod sends the pod IP, not the gateway (the cause says why)
    d.warnings.append(
        f"Istio multi-network: {client.name} is in network {mine}, {server.name} in {theirs}; the call goes through "
        f"{server.name}'s east-west gateway, and Cilium in {server.name} sees the gateway, not the client"
    )
    return d
