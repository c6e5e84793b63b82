"""References that name a cluster (issue 21): ``NS/NAME@CLUSTER``, ``NS/pod/NAME@CLUSTER``,
``NS/svc/NAME@CLUSTER`` (``@`` cannot occur in Kubernetes names). A bare reference means the only
cluster of the input; with several, it is an error listing them."""

from __future__ import annotations

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.refs import Target, closest, resolve


def split_cluster(text: str) -> tuple[str, str | None]:
    """'blue/echo@west' -> ('blue/echo', 'west'); a reference without '@' -> (text, None)."""
    ref, sep, cluster = text.strip().rpartition("@")
    if not sep:
        return text.strip(), None
    if not ref or not cluster or "@" in ref:
        raise UsageError(f"bad reference {text!r}: use NS/NAME@CLUSTER (one '@', then the cluster name)")
    return ref, cluster


def _listed(clusters: list[Cluster]) -> str:
    return ", ".join(c.name for c in clusters)


def pick_cluster(clusters: list[Cluster], text: str, what: str) -> tuple[str, Cluster]:
    """The reference without its cluster, and the cluster it names (or the only one)."""
    ref, name = split_cluster(text)
    if name is None:
        if len(clusters) == 1:
            return ref, clusters[0]
        raise UsageError(
            f"{what} {text!r} names no cluster and the input holds {len(clusters)}: {_listed(clusters)}; "
            f"write {ref}@CLUSTER"
        )
    found = [c for c in clusters if name in c.names]
    if len(found) == 1:
        return ref, found[0]
    if len(found) > 1:
        raise UsageError(f"{what} {text!r}: cluster name {name!r} is ambiguous ({_listed(found)})")
    hint = closest(name, [n for c in clusters for n in c.names])
    more = f"; did you mean {', '.join(hint)}?" if hint else ""
    raise UsageError(f"{what} {text!r}: no cluster {name!r} in the input (clusters: {_listed(clusters)}){more}")


def resolve_in(
    clusters: list[Cluster], cluster: Cluster, ref: str, text: str, default_ns: str, external: bool
) -> Target:
    """Resolve in the named cluster; an unknown name found in another cluster says where it is."""
    try:
        return resolve(cluster.model, ref, default_ns, external)
    except UsageError as err:
        elsewhere = []
        for other in clusters:
            if other is cluster:
                continue
            try:
                resolve(other.model, ref, default_ns, False)
            except UsageError:
                continue
            elsewhere.append(f"{ref}@{other.name}")
        if elsewhere:
            raise UsageError(f"{text!r}: not in cluster {cluster.name}; did you mean {', '.join(elsewhere)}?") from None
        near = _near_elsewhere(clusters, cluster, ref)
        more = f"; in other clusters: {', '.join(near)}" if near else ""
        raise UsageError(f"{err} (in cluster {cluster.name}){more}") from None


def _near_elsewhere(clusters: list[Cluster], cluster: Cluster, ref: str) -> list[str]:
    """Close workload and Service names of the other clusters, each with its ``@CLUSTER``."""
    pool: dict[str, list[str]] = {}
    for other in clusters:
        if other is cluster:
            continue
        names = [f"{ns}/{n}" for ns, n in other.model.workloads]
        names += [f"{s.namespace}/svc/{s.name}" for s in other.model.services.values()]
        for name in names:
            pool.setdefault(name, []).append(other.name)
    return [f"{n}@{c}" for n in closest(ref, sorted(pool)) for c in pool[n]][:3]
