"""A policy that exists in one cluster only (semantics-multicluster.md M4, MB3).

Policies are not distributed: the client's egress is enforced by the client's cluster, the server's
ingress by the server's. When one side explicitly allows the call (a policy of its cluster names the
peer) and the other side denies it by default (its policies select the endpoint and none allows the
peer; no explicit deny), the call is denied by ``cilium-policy-denied`` with the detail
``clustermesh-policy-asymmetric``: the answer names the cluster whose policy lacks the allow, and
policies of the other cluster selecting the same endpoint that the denying cluster lacks by name
(typically the missing copy) are named in the fix.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.engines.cilium.decide import evaluate
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Cause, Decision, Diagnosis, Hop, HopResult, ObjectRef, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.objects import Pod, pod_peer
from kubectl_meshdoctor.model.view import Model

DETAIL = "clustermesh-policy-asymmetric"
_SIDES = {Hop.CLIENT_EGRESS: ("egress", Hop.CILIUM_INGRESS), Hop.CILIUM_INGRESS: ("ingress", Hop.CLIENT_EGRESS)}
_POLICY_KINDS = frozenset({"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"})


def _pod(model: Model, namespace: str, names: tuple[str, ...]) -> Pod | None:
    return next((p for n in names if (p := model.pods.get(f"{namespace}/{n}")) is not None), None)


def _missing_copies(owner: Cluster, other: Cluster, subject: Pod, direction: str) -> list[ObjectRef]:
    """Policies of ``other`` that select ``subject``'s labels for ``direction`` and that ``owner`` lacks."""
    held = {r.policy.key_tuple() for r in owner.model.cilium.rules}
    out: dict[tuple[str, str | None, str], ObjectRef] = {}
    for rule in other.model.cilium.rules:
        if rule.namespace not in (None, subject.namespace) or rule.node_selector:
            continue
        entries = rule.ingress if direction == "ingress" else rule.egress
        key = rule.policy.key_tuple()
        if entries and key not in held and rule.subject.matches(subject.identity):
            out.setdefault(key, ObjectRef(*key))
    return list(out.values())


def asymmetric(d: Diagnosis, model: Model, client: Cluster, server: Cluster) -> None:
    """Rewrite the denying hop's ``cilium-policy-denied`` as MB3 when the other side's cluster allows."""
    if d.verdict is not Verdict.DENIED or client is server:
        return
    broken = next((h for h in d.hops if h.decision in (Decision.DENY, Decision.BREAK)), None)
    if broken is None or broken.hop not in _SIDES or len(broken.causes) != 1:
        return  # MB1/MB2 already explain it (their cause comes first), or not a Cilium L3/L4 denial
    cause = broken.causes[0]
    if cause.code != "cilium-policy-denied" or cause.params.get("deny_note") or cause.detail:
        return  # an explicit deny rule is no missing allow
    direction, other_hop = _SIDES[broken.hop]
    owner, other = (client, server) if direction == "egress" else (server, client)
    src = _pod(model, d.source.namespace, d.source.pods)
    dst = _pod(model, d.destination.namespace, d.destination.pods)
    port = cause.params.get("port", "")
    proto, _, number = port.partition("/")
    if src is None or dst is None or not number.isdigit():
        return
    subject, peer = (src, dst) if direction == "egress" else (dst, src)
    mirror = "ingress" if direction == "egress" else "egress"
    seen = evaluate(model, peer, mirror, pod_peer(subject, subject.name), int(number), proto)
    explicit = [r for r in seen.by if r.kind in _POLICY_KINDS and r.rule]
    if seen.decision is not Decision.ALLOW or seen.audit or seen.unsure or not explicit:
        return  # the other side allows by default (no policy there), or denies as well: not one-sided
    copies = _missing_copies(owner, other, subject, direction)
    _rewrite(d, broken, cause, owner, other, explicit[0], copies, direction, other_hop)


def _rewrite(
    d: Diagnosis,
    broken: HopResult,
    cause: Cause,
    owner: Cluster,
    other: Cluster,
    allowed_by: ObjectRef,
    copies: list[ObjectRef],
    direction: str,
    other_hop: Hop,
) -> None:
    side = "client's egress" if other_hop is Hop.CLIENT_EGRESS else "server's ingress"
    summary = (
        f"{catalog.summary(cause)} — in cluster {owner.name}, while {allowed_by.key()} of cluster {other.name} "
        f"allows this call on the {side}: the policy exists on one side only, and policies are not distributed "
        f"across clusters ({DETAIL})"
    )
    if copies:
        names = ", ".join(f"{r.kind} {r.namespace + '/' if r.namespace else ''}{r.name}" for r in copies)
        hint = (
            f"apply the matching policy in cluster {owner.name}: {names} of {other.name} selects this endpoint for "
            f"{direction} and does not exist in {owner.name} (kubectl --context <{owner.name}> apply -f ...); or "
            f"{cause.params.get('fix_hint', '')}"
        )
    else:
        hint = f"apply the matching {direction} policy in cluster {owner.name}: {cause.params.get('fix_hint', '')}"
    new = replace(
        cause,
        objects=(*cause.objects, *copies),
        params={**cause.params, "fix_hint": hint, "cluster": owner.name, "peer_cluster": other.name},
        detail=summary,
    )
    d.causes = [new if c == cause else c for c in d.causes]
    i = d.hops.index(broken)
    d.hops[i] = replace(broken, causes=(new,), detail=f"{broken.detail} ({DETAIL}: cluster {owner.name})")
