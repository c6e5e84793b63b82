"""`check` over N clusters (issue 21 item 5): each cluster's own analyzers, each finding naming its
cluster, plus the mesh-wide consistency no single cluster shows (checks/clustermesh.py). A namespace
given with -n is checked in the clusters that have it (unknown in all of them: exit 2)."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster_load import load
from kubectl_meshdoctor.checks.clustermesh import mesh_findings
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Cause, Severity
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.view import Model


def _present(model: Model, namespaces: list[str]) -> list[str]:
    known = set(model.namespaces) | set(model.pods_by_ns) | {s.namespace for s in model.services.values()}
    return [ns for ns in namespaces if ns in known]


def check(opts: app.SourceOptions, namespaces: list[str] | None) -> app.CheckResult:
    mesh = load(opts, Query("", "", no_flows=True))
    findings: list[app.Finding] = []
    gaps: list[str] = []
    seen_anywhere: set[str] = set()
    for cluster in mesh.clusters:
        scope = None
        if namespaces is not None:
            scope = _present(cluster.model, namespaces)
            seen_anywhere |= set(scope)
            if not scope:
                continue
        result = app.check(cluster.model, scope)
        for f in result.findings:
            if _served_remotely(mesh.clusters, cluster, f):
                continue
            findings.append(replace(f, cause=_elsewhere(mesh.clusters, cluster, f.cause), cluster=cluster.name))
        gaps += [f"cluster {cluster.name}: {g}" for g in result.gaps]
    if namespaces is not None and not seen_anywhere:
        listed = ", ".join(c.name for c in mesh.clusters)
        raise UsageError(f"namespace(s) not found in any cluster ({listed}): {', '.join(namespaces)}")
    findings += [app.Finding(cause, name, ()) for name, cause in mesh_findings(mesh.clusters)]
    return app.CheckResult(findings, list(dict.fromkeys(gaps)))


def _served_remotely(clusters: list[Cluster], cluster: Cluster, finding: app.Finding) -> bool:
    """``no-endpoints`` on a global Service whose backends another cluster shares is no problem (M5)."""
    from kubectl_meshdoctor.engines.global_service import judge
    from kubectl_meshdoctor.model.clusters import annotations_of

    refs = finding.cause.objects
    if finding.cause.code != "no-endpoints" or not refs or refs[0].kind != "Service" or refs[0].namespace is None:
        return False
    ns, name = refs[0].namespace, refs[0].name
    key = f"{ns}/{name}"
    mine = cluster.model.services.get(key)
    for other in clusters:
        theirs = other.model.services.get(key)
        if other is cluster or mine is None or theirs is None or not _has_backends(other, key):
            continue
        view = judge(
            key,
            cluster.name,
            other.name,
            mine,
            theirs,
            annotations_of(cluster, "Service", ns, name),
            annotations_of(other, "Service", ns, name),
        )
        if view.cause is None:
            return True
    return False


def _elsewhere(clusters: list[Cluster], cluster: Cluster, cause: Cause) -> Cause:
    """``no-endpoints`` on a Service whose namesake in another cluster has backends: Istio multicluster
    (namespace sameness) may serve it from there, so it is a warning saying so."""
    refs = cause.objects
    if cause.code != "no-endpoints" or not refs or refs[0].kind != "Service":
        return cause
    key = f"{refs[0].namespace}/{refs[0].name}"
    others = [c.name for c in clusters if c is not cluster and _has_backends(c, key)]
    if not others:
        return cause
    detail = (
        f"{catalog.summary(cause)} in {cluster.name}; {', '.join(others)} has backends for {key}: fine when Istio "
        "multicluster serves it from there (the Service must exist here for DNS)"
    )
    return replace(cause, detail=detail, severity=Severity.WARNING)


def _has_backends(cluster: Cluster, key: str) -> bool:
    from kubectl_meshdoctor.model.refs import pods_for_service

    svc = cluster.model.services.get(key)
    if svc is None:
        return False
    if svc.ready_pods is not None:
        return bool(svc.ready_pods)
    return any(p.ready for p in pods_for_service(cluster.model, svc))
