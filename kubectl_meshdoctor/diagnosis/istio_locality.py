"""Locality load balancing across clusters (semantics-multicluster.md I8, MB17): information, never a
verdict.

A sidecar client's istiod merges the endpoints of ``ns/name`` from every cluster it reads (namespace
sameness, I1). Locality load balancing prefers endpoints in the client's own region/zone, so while the
client's cluster has healthy endpoints of the Service, requests likely stay there ("only local
responses" may be intended); failover to another cluster needs ``outlierDetection`` in a
DestinationRule for the host, else unhealthy local endpoints are never ejected. The clusters' localities
(node topology labels) are not read, so the answer words it as likely. Off when the client's mesh
config or the DestinationRule sets ``localityLbSetting.enabled: false``.
"""

from __future__ import annotations

from typing import Any

import yaml

from kubectl_meshdoctor.findings.types import Cause, Diagnosis, ObjectRef
from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.refs import Target, resolve, services_for


def _fqdn(host: str, namespace: str) -> str:
    dots = host.count(".")
    if dots == 0:
        return f"{host}.{namespace}.svc.cluster.local"
    if dots == 1:
        return f"{host}.svc.cluster.local"
    return host


def _matches(pattern: str, host: str) -> bool:
    return pattern == host or pattern == "*" or (pattern.startswith("*.") and host.endswith(pattern[1:]))


def _rules_for(cluster: Cluster, host: str) -> list[tuple[ObjectRef, dict[str, Any]]]:
    out = []
    for obj in cluster.raw.objects:
        doc = obj.doc
        meta = doc.get("metadata") or {}
        if doc.get("kind") != "DestinationRule":
            continue
        spec = doc.get("spec") or {}
        ns = str(meta.get("namespace") or "default")
        if _matches(_fqdn(str(spec.get("host") or ""), ns), host):
            out.append((ObjectRef("DestinationRule", ns, str(meta.get("name") or "?")), spec))
    return out


def _mesh_locality_off(cluster: Cluster) -> bool:
    root = cluster.model.istio.mesh.root_namespace
    for obj in cluster.raw.objects:
        meta = obj.doc.get("metadata") or {}
        if obj.doc.get("kind") == "ConfigMap" and meta.get("namespace") == root and meta.get("name") == "istio":
            try:
                raw = yamlcore.load(str((obj.doc.get("data") or {}).get("mesh") or "")) or {}
            except yaml.YAMLError:  # unreadable mesh config: the default (on) applies
                return False
            setting = raw.get("localityLbSetting") if isinstance(raw, dict) else None
            return isinstance(setting, dict) and setting.get("enabled") is False
    return False


def locality_cause(client: Cluster, server: Cluster, dst: Target) -> Cause | None:
    """The info cause when the client's cluster has ready endpoints of the destination's Service too."""
    found = services_for(server.model, dst.pods) if dst.pods else []
    svc = dst.service or (found[0] if found else None)
    if svc is None or f"{svc.namespace}/{svc.name}" not in client.model.services:
        return None
    local = resolve(client.model, f"{svc.namespace}/svc/{svc.name}", svc.namespace, True).pods
    if not any(p.ready for p in local) or _mesh_locality_off(client):
        return None
    host = f"{svc.name}.{svc.namespace}.svc.cluster.local"
    rules = _rules_for(client, host)
    policies = [spec.get("trafficPolicy") or {} for _, spec in rules]
    if any((p.get("loadBalancer") or {}).get("localityLbSetting", {}).get("enabled") is False for p in policies):
        return None
    outlier = [ref for (ref, _), p in zip(rules, policies, strict=True) if p.get("outlierDetection") is not None]
    failover = (
        f"{outlier[0].kind} {outlier[0].namespace}/{outlier[0].name} sets outlierDetection, so requests fail over "
        f"to {server.name} when {client.name}'s endpoints are ejected"
        if outlier
        else f"no DestinationRule for {host} in {client.name} sets outlierDetection, so failover to {server.name} "
        f"never happens (unhealthy local endpoints are not ejected)"
    )
    detail = (
        f"locality load balancing likely keeps requests to {host} in {client.name}, which has "
        f"{sum(p.ready for p in local)} ready endpoint(s) of it, while they are healthy (cluster localities are not "
        f"read: inferred); {failover} — this answer is for {server.name}'s backends"
    )
    return Cause("istio-mc-locality", tuple(outlier), {"cluster": client.name}, detail=detail)


def with_locality(d: Diagnosis, client: Cluster, server: Cluster, dst: Target) -> Diagnosis:
    cause = locality_cause(client, server, dst)
    if cause is not None:
        d.causes.append(cause)
    return d
