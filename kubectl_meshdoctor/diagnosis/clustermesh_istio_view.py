"""Cilium's global Service and Istio's view of the mesh disagree (semantics-multicluster.md X3, MB18).

A sidecar (or ztunnel) picks an endpoint from Istio's registry and dials it directly, so Cilium's
global Service load balancing and its ``service.cilium.io/*`` annotations likely do not apply to mesh
clients ([I]). When a Service is global in Cilium in both clusters of the call while Istio's view of
the client's cluster lacks the server's cluster (mesh.yaml ``istioRemoteClusters``) or keeps the host
cluster-local (model/cluster_local.py), mesh and non-mesh clients of the same cluster reach different
backends: ``clustermesh-istio-view-mismatch`` (a warning, worded as likely) on the answer of either.
"""

from __future__ import annotations

from kubectl_meshdoctor.engines.global_service import GLOBAL
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, Mesh
from kubectl_meshdoctor.model.cluster_local import locality
from kubectl_meshdoctor.model.clusters import Cluster, annotations_of


def _istio_lacks(client: Cluster, server: Cluster, host: str) -> str | None:
    where = locality(client, host)
    if where.local:
        return f"{host} is cluster-local in {client.name}'s mesh config ({where.pattern})"
    listed = client.istio.get("istioRemoteClusters")
    if listed is None:
        return None
    names = {n.strip() for n in listed.split(",") if n.strip()}
    if names & set(server.names):
        return None
    return f"istiod of {client.name} does not read {server.name} (mesh.yaml istioRemoteClusters: {listed or 'empty'})"


def view_mismatch(d: Diagnosis, client: Cluster, server: Cluster) -> None:
    ns, name = d.destination.namespace, d.destination.service
    if client is server or not ns or not name:
        return
    if not all(annotations_of(c, "Service", ns, name).get(GLOBAL, "").lower() == "true" for c in (client, server)):
        return
    why = _istio_lacks(client, server, f"{name}.{ns}.svc.cluster.local")
    if why is None:
        return
    who = (
        f"this client is in the mesh: it likely stays in {client.name}, while Cilium load-balances non-mesh "
        f"clients of {client.name} to {server.name}'s backends"
        if d.source.mesh is not Mesh.NONE
        else f"this client is not in the mesh: Cilium load-balances it to {server.name}'s backends, while mesh "
        f"clients of {client.name} likely stay in {client.name}"
    )
    d.causes.append(Cause("clustermesh-istio-view-mismatch", (), {"service": f"{ns}/{name}", "why": f"{why}; {who}"}))
