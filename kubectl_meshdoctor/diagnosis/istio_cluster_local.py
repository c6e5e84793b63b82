"""A sidecar client asks for a Service of another cluster whose host is cluster-local in its own
cluster's mesh config (semantics-multicluster.md I3, MB13; model/cluster_local.py).

The client's istiod programs only its own cluster's endpoints for that host, so the other cluster's
backends are never used. The answer is then the call as it really happens — to the Service's
backends in the client's cluster — with ``istio-mc-cluster-local`` first: information when those
answer (it may be intended), an error when there is none (503 ``no healthy upstream``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.engines.istio_mesh import workload_mesh
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, Mesh, Severity
from kubectl_meshdoctor.model.cluster_local import locality
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import dns_capture
from kubectl_meshdoctor.model.refs import Target, resolve, services_for
from kubectl_meshdoctor.model.view import Model

Runner = Callable[[Model, Query], Diagnosis]


def stays_local(
    run: Runner, client: Cluster, server: Cluster, query: Query, src_ref: str, src: Target, dst: Target
) -> Diagnosis | None:
    """The answer when the destination's host is cluster-local for ``client``; None otherwise."""
    if not src.pods or workload_mesh(client.model, src.pods)[0] is not Mesh.SIDECAR:
        return None
    found = services_for(server.model, dst.pods) if dst.pods else []
    svc = dst.service or (found[0] if found else None)
    if svc is None:
        return None
    host = f"{svc.name}.{svc.namespace}.svc.cluster.local"
    where = locality(client, host)
    if not where.local:
        return None
    key = f"{svc.namespace}/{svc.name}"
    mine = client.model.services.get(key)
    if mine is None and not dns_capture(client, src.pods[0]):
        return None  # the name does not resolve in the client's cluster: that comes first (MB14)
    setting = (
        f"serviceSettings host {where.pattern} in {where.by.namespace}/{where.by.name}"
        if where.by is not None
        else f"the default for {where.pattern}"
    )
    target = f"{svc.namespace}/svc/{svc.name}" if mine is not None else host
    d = run(client.model, replace(query, source=src_ref, destination=target))
    served = mine is not None and any(p.ready for p in resolve(client.model, target, svc.namespace, True).pods)
    cause = Cause(
        "istio-mc-cluster-local",
        (where.by,) if where.by is not None else (),
        {"host": host, "cluster": client.name},
        detail=(
            f"{host} is cluster-local for clients of {client.name} ({setting}): requests stay in {client.name}, so "
            f"{server.name}'s backends are never used"
            + ("" if served else f"; {client.name} has no ready backend: its sidecar answers 503 no healthy upstream")
        ),
        severity=Severity.INFO if served else Severity.ERROR,
    )
    d.causes.insert(0, cause)
    d.warnings.append(
        f"{host} is cluster-local in {client.name}: this answer is for {client.name}'s backends of {key} (ask "
        f"{key}@{client.name}); {server.name}'s are not reached"
    )
    d.destination = replace(
        d.destination, namespace=svc.namespace, workload=svc.name, kind="Service", cluster=client.name
    )
    d.hops = [replace(h, cluster=client.name) for h in d.hops]
    return d
