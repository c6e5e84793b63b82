"""One model for a call that crosses clusters (semantics-multicluster.md M3, M4, S3).

The client's cluster is the base: its DNS, its Services (a client resolves names in its own
cluster, M5), its policies. The other side's pods come from their own cluster with the identity
they carry there (their namespace's labels, their cluster label, M3). Every cluster's policies
are kept, each scoped to its own endpoints and, per its ``policy-default-local-cluster``, to local
peers (model/cluster_scope.py): client egress is then decided by the client's cluster's rules and
server ingress by the server's, as the agents of each cluster do.

A pod or workload whose name is taken in the base cluster is added as ``NAME@CLUSTER``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping

from kubectl_meshdoctor.findings.types import Gap
from kubectl_meshdoctor.model.cilium import CiliumPolicies, PolicyRule
from kubectl_meshdoctor.model.cluster_scope import scope_rule
from kubectl_meshdoctor.model.clusters import POLICY_KEYS, Cluster
from kubectl_meshdoctor.model.index import ModelIndex
from kubectl_meshdoctor.model.objects import Pod, Workload
from kubectl_meshdoctor.model.view import Model


@dataclasses.dataclass(slots=True)
class Scoping:
    """How each cluster's selectors are read: local-only peers (M4.1) and a local-only `cluster` entity."""

    local: Mapping[str, bool]  # cluster name -> policy-default-local-cluster in effect
    entity_local: bool = True


def _tagged(cluster: Cluster, items: list[str]) -> list[str]:
    out: list[str] = []
    for g in items:
        text = f"cluster {cluster.name}: {g}"
        out.append(Gap(text, g.kinds, g.namespace, g.objects) if isinstance(g, Gap) else text)
    return out


def merged(base: Cluster, other: Cluster, pods: list[Pod]) -> tuple[Model, dict[str, str]]:
    """``base``'s model plus ``pods`` of ``other`` (and their workload). Returns the model and the
    names the added pods and workloads carry in it (``name`` or ``name@cluster``)."""
    m = base.model
    out = dataclasses.replace(
        m,
        namespaces=dict(m.namespaces),
        pods=dict(m.pods),
        pods_by_ns=defaultdict(list, {ns: list(v) for ns, v in m.pods_by_ns.items()}),
        pods_by_ip=dict(m.pods_by_ip),
        workloads=dict(m.workloads),
        services=dict(m.services),
        services_by_ns=defaultdict(list, {ns: list(v) for ns, v in m.services_by_ns.items()}),
        gaps=_tagged(base, list(m.gaps)) + _tagged(other, list(other.model.gaps)),
        warnings=list(dict.fromkeys(m.warnings + other.model.warnings)),
        invalid=m.invalid + other.model.invalid,
        kinds_seen=m.kinds_seen | other.model.kinds_seen,
        flows=m.flows + other.model.flows,
        flow_source="snapshot" if "snapshot" in (m.flow_source, other.model.flow_source) else m.flow_source,
        flow_files=list(base.raw.flow_files) + list(other.raw.flow_files),
        selecting_cache={},
        config_cache={},
        pa_by_ns=None,
        ap_by_ns=None,
        flow_index=None,
        index=ModelIndex(),
        flow_endpoints=None,
        out_of_scope=m.out_of_scope + other.model.out_of_scope,
    )
    names: dict[str, str] = {}
    taken = any(p.key() in out.pods for p in pods) or any((p.namespace, p.workload_name) in out.workloads for p in pods)
    suffix = f"@{other.name}" if taken else ""
    added: dict[tuple[str, str], list[Pod]] = {}
    for pod in pods:
        # nodes of different clusters are never the same node (kind names them alike): `host` vs `remote-node`
        node = f"{pod.node}@{other.name}" if pod.node else None
        copy = dataclasses.replace(pod, name=pod.name + suffix, workload_name=pod.workload_name + suffix, node=node)
        names[pod.key()] = copy.name
        names[f"{pod.namespace}/{pod.workload_name}"] = copy.workload_name
        out.pods[copy.key()] = copy
        out.pods_by_ns[copy.namespace].append(copy)
        if copy.ip and not copy.host_network:
            held = out.pods_by_ip.get(copy.ip)
            if held is not None and held.key() != copy.key():
                out.gaps.append(
                    Gap(
                        f"pod IP {copy.ip} is used by {held.key()} in cluster {base.name} and by {pod.key()} in "
                        f"cluster {other.name}: overlapping pod CIDRs (MB4), Cilium may attribute it to either",
                        {"Pod"},
                    )
                )
            else:
                out.pods_by_ip[copy.ip] = copy
        added.setdefault((copy.namespace, copy.workload_name), []).append(copy)
        if pod.namespace not in out.namespaces and pod.namespace in other.model.namespaces:
            out.namespaces[pod.namespace] = other.model.namespaces[pod.namespace]
    for (ns, name), members in added.items():
        kind = members[0].workload_kind
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            source = other.model.workloads.get((ns, members[0].workload_name.removesuffix(suffix) if suffix else name))
            selector = dict(source.selector) if source is not None else {}
            out.workloads[(ns, name)] = Workload(ns, name, kind, selector, members[0].host_network, None, members)
    differing = [k for k in POLICY_KEYS if base.model.cilium_config.get(k) != other.model.cilium_config.get(k)]
    if differing:
        out.gaps.append(
            Gap(
                f"clusters {base.name} and {other.name} differ in cilium-config {', '.join(differing)}: the "
                f"{other.name} side is judged with {base.name}'s settings",
                {"CiliumConfig"},
            )
        )
    return out, names


def set_rules(model: Model, clusters: list[Cluster], scoping: Scoping) -> None:
    """Install every cluster's rules, scoped (see the module docstring); caches are reset."""
    rules: list[PolicyRule] = []
    invalid = []
    warnings: list[str] = []
    for c in clusters:
        local = scoping.local.get(c.name, False)
        rules += [scope_rule(r, c.name, local, scoping.entity_local) for r in c.model.cilium.rules]
        invalid += c.model.cilium.invalid
        warnings += c.model.cilium.warnings
    model.cilium = CiliumPolicies(rules, invalid, list(dict.fromkeys(warnings)))
    model.rules_by_ns = defaultdict(list)
    model.cluster_rules = []
    for rule in rules:
        if rule.node_selector:
            continue
        if rule.namespace is None:
            model.cluster_rules.append(rule)
        else:
            model.rules_by_ns[rule.namespace].append(rule)
    model.selecting_cache = {}
