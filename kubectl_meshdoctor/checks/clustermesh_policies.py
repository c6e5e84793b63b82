"""Policies present in one cluster only (semantics-multicluster.md M4, MB3): what `check` sees of it.

Policies are not distributed. A policy of cluster A that allows traffic (an ingress or egress
section) and selects pods that cluster B also runs — same namespace, same labels — is missing in B
when B holds no policy of that kind, namespace and name; it matters when B's policies put those pods
under default deny in that direction: the calls A's copy allows are dropped in B. Each such case is
a warning ``cilium-policy-denied`` whose summary says ``clustermesh-policy-asymmetric``.
"""

from __future__ import annotations

from kubectl_meshdoctor.engines.cilium.decide import evaluate
from kubectl_meshdoctor.findings.types import Cause, ObjectRef, Severity
from kubectl_meshdoctor.model.cilium import PolicyRule
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.objects import Pod, world_peer

DETAIL = "clustermesh-policy-asymmetric"


def _directions(rule: PolicyRule) -> list[str]:
    return [d for d, entries in (("ingress", rule.ingress), ("egress", rule.egress)) if entries]


def _selected(rule: PolicyRule, other: Cluster) -> list[Pod]:
    pods = other.model.pods_by_ns.get(rule.namespace, []) if rule.namespace else list(other.model.pods.values())
    return [p for p in pods if not p.inferred and not p.host_network and rule.subject.matches(p.identity)]


def _enforced(other: Cluster, pod: Pod, direction: str) -> bool:
    return evaluate(other.model, pod, direction, world_peer(None), 65535, "TCP").enforced


def _under_default_deny(pods: list[Pod], other: Cluster, direction: str, most: int = 4) -> list[Pod]:
    """Up to ``most`` of the pods (enough to name a few and count "more")."""
    out: list[Pod] = []
    for pod in pods:
        if _enforced(other, pod, direction):
            out.append(pod)
            if len(out) >= most:
                break
    return out


def one_sided_policies(clusters: list[Cluster]) -> list[Cause]:
    out: list[Cause] = []
    held = {c.name: {r.policy.key_tuple() for r in c.model.cilium.rules} for c in clusters}
    for owner in clusters:
        seen: set[tuple[tuple[str, str | None, str], str, str]] = set()
        for rule in owner.model.cilium.rules:
            key = rule.policy.key_tuple()
            if rule.node_selector:
                continue
            for other in clusters:
                if other is owner or key in held[other.name]:
                    continue
                for direction in _directions(rule):
                    if (key, other.name, direction) in seen:
                        continue
                    pods = _under_default_deny(_selected(rule, other), other, direction)
                    if not pods:
                        continue
                    seen.add((key, other.name, direction))
                    out.append(_finding(ObjectRef(*key), owner, other, direction, pods))
    return out


def _finding(ref: ObjectRef, owner: Cluster, other: Cluster, direction: str, pods: list[Pod]) -> Cause:
    where = f"{ref.namespace}/" if ref.namespace else ""
    shown = ", ".join(p.name for p in pods[:3]) + (" and more" if len(pods) > 3 else "")
    detail = (
        f"{ref.kind} {where}{ref.name} allows {direction} in cluster {owner.name} only: in {other.name} the pods it "
        f"would select ({shown}) are under default deny for {direction} and no copy of it exists, so what it "
        f"allows in {owner.name} is dropped in {other.name} — policies are not distributed across clusters ({DETAIL})"
    )
    hint = (
        f"apply {ref.kind} {where}{ref.name} in cluster {other.name} as well "
        f"(kubectl --context <{other.name}> apply -f ...), unless {other.name} is meant to refuse those calls"
    )
    return Cause("cilium-policy-denied", (ref,), {"fix_hint": hint, "cluster": other.name}, detail, Severity.WARNING)
