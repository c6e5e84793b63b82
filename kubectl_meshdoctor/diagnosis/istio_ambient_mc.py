"""Istio ends of a call across clusters outside the two sidecar paths, and ambient mesh across
clusters (semantics-multicluster.md I5, X1, MB15).

Ambient multicluster is alpha in Istio 1.27 and beta (multi-network only) in 1.29; its data path (double
HBONE through an ``istio-east-west`` Gateway) is not modelled, so a call across clusters with an
ambient end stays ``unknown``. What the input shows outside the supported envelope is named as
``istio-ambient-mc-unsupported`` beside the gap, each reason with the cluster it is about:

* istiod older than 1.27 (the image tag of Deployment ``istiod`` in the Istio root namespace);
* both clusters on one Istio network (single-network ambient multicluster is untested, may be broken);
* istiod without ``AMBIENT_ENABLE_MULTI_NETWORK=true``;
* no Gateway of class ``istio-east-west`` in the server's cluster;
* the Service not labelled ``istio.io/global=true`` in a cluster (the default ServiceScope).

A fact the input does not hold (no istiod Deployment, no network) is not a reason: the answer is
unknown anyway.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_meshdoctor.diagnosis.clustermesh import Sides
from kubectl_meshdoctor.engines.istio_mesh import workload_mesh
from kubectl_meshdoctor.findings.types import Cause, Gap, Mesh
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import network_of
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model

GLOBAL_LABEL = "istio.io/global"
_TAG = re.compile(r":v?(\d+)\.(\d+)")


def _istiod(cluster: Cluster) -> dict[str, Any] | None:
    root = cluster.model.istio.mesh.root_namespace
    for obj in cluster.raw.objects:
        doc = obj.doc
        meta = doc.get("metadata") or {}
        name = str(meta.get("name") or "")
        if doc.get("kind") == "Deployment" and meta.get("namespace") == root and name.startswith("istiod"):
            return doc
    return None


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c for c in spec.get("containers") or [] if isinstance(c, dict)]


def _version(doc: dict[str, Any]) -> tuple[int, int] | None:
    for c in _containers(doc):
        m = _TAG.search(str(c.get("image") or "").rsplit("/", 1)[-1])
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def _env(doc: dict[str, Any], name: str) -> str | None:
    for c in _containers(doc):
        for e in c.get("env") or []:
            if isinstance(e, dict) and e.get("name") == name:
                return str(e.get("value") or "")
    return None


def _has_eastwest_gateway(cluster: Cluster) -> bool:
    return any(
        o.doc.get("kind") == "Gateway"
        and str(o.doc.get("apiVersion") or "").startswith("gateway.networking.k8s.io")
        and (o.doc.get("spec") or {}).get("gatewayClassName") == "istio-east-west"
        for o in cluster.raw.objects
    )


def _labels_of(cluster: Cluster, svc: Service) -> dict[str, str] | None:
    for o in cluster.raw.objects:
        meta = o.doc.get("metadata") or {}
        if o.doc.get("kind") == "Service" and meta.get("name") == svc.name and meta.get("namespace") == svc.namespace:
            labels = meta.get("labels") or {}
            return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    return None


def outside_envelope(client: Cluster, server: Cluster, server_pods: list[Pod], service: Service | None) -> list[str]:
    """Why the input puts this ambient call outside ambient multicluster's support (I5); [] if nothing says."""
    why: list[str] = []
    for c in (client, server):
        istiod = _istiod(c)
        if istiod is None:
            continue
        version = _version(istiod)
        if version is not None and version < (1, 27):
            why.append(f"istiod of {c.name} is {version[0]}.{version[1]}: ambient multicluster needs Istio ≥1.27")
        if _env(istiod, "AMBIENT_ENABLE_MULTI_NETWORK") != "true":
            why.append(f"istiod of {c.name} does not set AMBIENT_ENABLE_MULTI_NETWORK=true")
    mine, theirs = network_of(client)[0], network_of(server)[0]
    if mine is not None and mine == theirs:
        why.append(
            f"{client.name} and {server.name} are on one Istio network ({mine}): single-network ambient multicluster "
            "is untested and may be broken (only multi-primary multi-network is supported)"
        )
    elif not _has_eastwest_gateway(server):
        why.append(f"{server.name} has no Gateway of class istio-east-west (HBONE on 15008)")
    found = services_for(server.model, server_pods) if server_pods else []
    svc = service or (found[0] if found else None)
    if svc is not None:
        for c in (client, server):
            labels = _labels_of(c, svc)
            if labels is not None and labels.get(GLOBAL_LABEL) != "true":
                why.append(f"Service {svc.namespace}/{svc.name} in {c.name} is not labelled {GLOBAL_LABEL}=true")
    return why


def unsupported_cause(why: list[str]) -> Cause:
    return Cause("istio-ambient-mc-unsupported", (), {"why": "; ".join(why)})


def unmodelled_istio(
    model: Model, sides: Sides, client_pods: list[Pod], server_pods: list[Pod], svc: Service | None
) -> list[Cause]:
    """Istio multicluster (east-west gateways, networks, trust, remote secrets; Part I) is not modelled:
    a call with a mesh end is unknown across clusters, naming both, never a guess. An ambient end
    outside ambient multicluster's support adds why (MB15, diagnosis/istio_ambient_mc.py)."""
    ends = [
        (sides.client, workload_mesh(sides.client.model, client_pods)[0]),
        (sides.server, workload_mesh(sides.server.model, server_pods)[0]),
    ]
    meshed = [f"{c.name} ({mesh.value})" for c, mesh in ends if mesh is not Mesh.NONE]
    merged_view = [workload_mesh(model, client_pods[:1])[0], workload_mesh(model, server_pods[:1])[0]]
    ambient = any(mesh is Mesh.AMBIENT for _, mesh in ends) or Mesh.AMBIENT in merged_view
    if meshed or any(m is not Mesh.NONE for m in merged_view):
        who = ", ".join(meshed) or "a namespace label of the other cluster"
        extra = (
            "; ambient across clusters (alpha in Istio 1.27, multi-network beta in 1.29: double HBONE through an "
            "istio-east-west Gateway, waypoints of the destination's cluster) is not modelled either"
            if ambient
            else ""
        )
        model.gaps.append(
            Gap(
                f"Istio multicluster is not modelled yet (same network or east-west gateway, trust, remote secrets): "
                f"the call from {sides.client.name} to {sides.server.name} has an Istio end in {who}{extra}",
                {"*"},
            )
        )
    if ambient:
        why = outside_envelope(sides.client, sides.server, server_pods, svc)
        if why:
            return [unsupported_cause(why)]
    return []
