"""Mesh-wide consistency of N clusters (issue 21 item 5; semantics-multicluster.md M1, M5, M8, MB4,
MB6): what no single cluster's check can see. Pure: reads the clusters' models and raw objects.

* identity of the clusters (M1): unique cilium-config ``cluster-name`` (not ``default``) and
  non-zero, unique ``cluster-id``; the same ``max-connected-clusters`` everywhere;
* pod IPs used in two clusters (overlapping pod CIDRs, M8): an IP maps to one identity only;
* global Services (M5): present in every cluster that marks it global, global everywhere it exists
  once one cluster marks it, with the same ports;
* policies present in one cluster only where the other's default deny makes the copy matter (MB3,
  checks/clustermesh_policies.py).
"""

from __future__ import annotations

from collections import defaultdict

from kubectl_meshdoctor.checks.clustermesh_policies import one_sided_policies
from kubectl_meshdoctor.engines.global_service import GLOBAL, judge
from kubectl_meshdoctor.findings.types import Cause, ObjectRef, Severity
from kubectl_meshdoctor.model.clusters import LOCAL_DEFAULT_KEY, Cluster, annotations_of
from kubectl_meshdoctor.model.index import distinct_identities
from kubectl_meshdoctor.model.objects import CLUSTER_KEY


def _misconfigured(reason: str, refs: tuple[ObjectRef, ...] = ()) -> Cause:
    return Cause("clustermesh-misconfigured", refs, {"reason": reason})


def _identity(clusters: list[Cluster]) -> list[Cause]:
    out: list[Cause] = []
    names: dict[str, list[str]] = defaultdict(list)
    ids: dict[str, list[str]] = defaultdict(list)
    maxes: dict[str, list[str]] = defaultdict(list)
    for c in clusters:
        config = c.model.cilium_config
        ref = (config.ref,) if config.ref is not None else ()
        if not config.present:
            continue
        configured = config.get("cluster-name")
        if not configured or configured == "default":
            out.append(_misconfigured(f"cluster {c.name}: cilium-config sets no cluster-name (or 'default')", ref))
        names[c.name].append(c.directory)
        cid = config.get("cluster-id", "0") or "0"
        if cid == "0":
            out.append(_misconfigured(f"cluster {c.name}: cilium-config cluster-id is 0 or unset (not in a mesh)", ref))
        else:
            ids[cid].append(c.name)
        maxes[config.get("max-connected-clusters", "255") or "255"].append(c.name)
    for name, dirs in sorted(names.items()):
        if len(dirs) > 1:
            out.append(_misconfigured(f"clusters {', '.join(dirs)} share the cluster-name {name!r}"))
    for cid, members in sorted(ids.items()):
        if len(members) > 1:
            out.append(_misconfigured(f"clusters {', '.join(members)} share cluster-id {cid}"))
    if len(maxes) > 1:
        listed = "; ".join(f"{v} in {', '.join(m)}" for v, m in sorted(maxes.items()))
        out.append(_misconfigured(f"max-connected-clusters differs ({listed}): it must be identical everywhere"))
    return out


def _shared_ips(clusters: list[Cluster]) -> list[Cause]:
    holders: dict[str, list[tuple[str, ObjectRef]]] = defaultdict(list)
    for c in clusters:
        for pod in c.model.pods.values():
            if pod.ip and not pod.host_network and not pod.inferred:
                holders[pod.ip].append((c.name, pod.ref()))
    out: list[Cause] = []
    for ip, found in sorted(holders.items()):
        if len({name for name, _ in found}) > 1:
            where = ", ".join(f"{r.namespace}/{r.name}@{name}" for name, r in found)
            reason = (
                f"pod IP {ip} is used in several clusters ({where}): overlapping pod CIDRs, the IP maps to one identity"
            )
            out.append(_misconfigured(reason, tuple(r for _, r in found)))
    return out


def _global_services(clusters: list[Cluster]) -> list[Cause]:
    keys = sorted({k for c in clusters for k in c.model.services})
    out: list[Cause] = []
    for key in keys:
        ns, name = key.split("/", 1)
        marked = [c for c in clusters if key in c.model.services and _global(c, ns, name)]
        if not marked:
            continue
        for server in marked:
            for client in clusters:
                if client is server:
                    continue
                view = judge(
                    key,
                    client.name,
                    server.name,
                    client.model.services.get(key),
                    server.model.services[key],
                    annotations_of(client, "Service", ns, name),
                    annotations_of(server, "Service", ns, name),
                )
                if view.cause is not None:
                    out.append(Cause(view.cause.code, view.cause.objects, view.cause.params, severity=Severity.WARNING))
    return out


def _global(cluster: Cluster, ns: str, name: str) -> bool:
    return annotations_of(cluster, "Service", ns, name).get(GLOBAL, "").strip().lower() == "true"


def _local_only(clusters: list[Cluster]) -> list[Cause]:
    """M4.1, as ``cilium clustermesh inspect-policy-default-local-cluster`` asks: allow rules whose peer
    selector names no cluster, in a cluster where such selectors match local peers only (or may: the
    default unknown), while pods of another cluster carry matching labels — calls from those fail."""
    out: list[Cause] = []
    for c in clusters:
        if c.local_default.on is False:
            continue
        others = [o for o in clusters if o is not c]
        for rule in c.model.cilium.rules:
            for entries in (rule.ingress, rule.egress):
                for entry in entries:
                    for sel in entry.endpoints or ():
                        if sel.mentions(CLUSTER_KEY) or sel.has_reserved():
                            continue
                        hit = next(
                            (o for o in others if any(sel.matches(i) for i in distinct_identities(o.model, None))), None
                        )
                        if hit is None:
                            continue
                        ref = rule.policy.with_rule(entry.path)
                        why = c.local_default.why if c.local_default.on else f"unknown: {c.local_default.why}"
                        params = {"rule": ref.key(), "cluster": c.name, "peer_cluster": hit.name, "why": why,
                                  "key": CLUSTER_KEY, "option": LOCAL_DEFAULT_KEY}  # fmt: skip
                        severity = Severity.WARNING if c.local_default.on is None else None
                        out.append(Cause("clustermesh-policy-local-cluster", (ref,), params, severity=severity))
    return out


def mesh_findings(clusters: list[Cluster]) -> list[tuple[str, Cause]]:
    """(analyzer name, cause) of every mesh-wide finding."""
    found = [("clustermesh.Identity", c) for c in _identity(clusters)]
    found += [("clustermesh.LocalClusterSelectors", c) for c in _local_only(clusters)]
    found += [("clustermesh.PodIPs", c) for c in _shared_ips(clusters)]
    found += [("clustermesh.GlobalServices", c) for c in _global_services(clusters)]
    found += [("clustermesh.OneSidedPolicies", c) for c in one_sided_policies(clusters)]
    return found
