"""A call between two clusters of a ClusterMesh (semantics-multicluster.md M4, MB1, MB2).

The hops run unchanged on the merged model (diagnosis/clustermesh_model.py). What ClusterMesh adds
is decided by asking again with one rule of M4 relaxed:

* ``policy-default-local-cluster`` unknown for a cluster (no key, no version): the Cilium hops are
  evaluated with it on and off; where they differ the hop is ``unknown`` and says why (never a guess);
* a Cilium hop denies, and would allow if peer selectors matched every cluster: the rule that would
  allow stopped matching the remote peer → ``clustermesh-policy-local-cluster`` (MB1);
* it would allow if the ``cluster`` entity covered remote pods → ``clustermesh-cluster-entity-local`` (MB2);
* the other side's cluster explicitly allows the call → the policy exists on one side only (MB3,
  diagnosis/clustermesh_asymmetric.py);
* the server's ingress denies a host-network client of another cluster → ``clustermesh-remote-node-peer``
  (MB20, diagnosis/clustermesh_remote_node.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.clustermesh_asymmetric import asymmetric
from kubectl_meshdoctor.diagnosis.clustermesh_model import Scoping, set_rules
from kubectl_meshdoctor.diagnosis.clustermesh_remote_node import remote_node_peer
from kubectl_meshdoctor.findings.types import (
    HOP_TITLES,
    Cause,
    Decision,
    Diagnosis,
    Gap,
    Hop,
    HopResult,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.clusters import LOCAL_DEFAULT_KEY, Cluster
from kubectl_meshdoctor.model.objects import CLUSTER_KEY
from kubectl_meshdoctor.model.view import Model

Runner = Callable[[Model, Query], Diagnosis]
_CILIUM_HOPS = (Hop.CLIENT_EGRESS, Hop.CILIUM_INGRESS, Hop.CILIUM_L7)
CLIENT_SIDE = frozenset({Hop.RESOLVE, Hop.DNS, Hop.CLIENT_EGRESS, Hop.CLIENT_PROXY, Hop.CLIENT_ROUTE})


@dataclass(frozen=True, slots=True)
class Sides:
    client: Cluster
    server: Cluster

    @property
    def both(self) -> list[Cluster]:
        return [self.client] if self.client is self.server else [self.client, self.server]

    def of(self, hop: Hop) -> Cluster:
        return self.client if hop in CLIENT_SIDE else self.server


def _local(sides: Sides, unknown_as: bool) -> dict[str, bool]:
    return {c.name: unknown_as if c.local_default.on is None else c.local_default.on for c in sides.both}


def _hop(d: Diagnosis, hop: Hop) -> HopResult | None:
    return next((h for h in d.hops if h.hop is hop), None)


def _first_break(d: Diagnosis) -> HopResult | None:
    return next((h for h in d.hops if h.decision in (Decision.DENY, Decision.BREAK)), None)


def explain_across(run: Runner, model: Model, query: Query, sides: Sides) -> Diagnosis:
    """The diagnosis of a call whose ends are in ``sides.client`` and ``sides.server``."""
    actual = Scoping(_local(sides, True))
    set_rules(model, sides.both, actual)
    d = run(model, query)
    _peer_cluster_in_fixes(d, sides)
    static = replace(query, no_flows=True)
    unsure = [c for c in sides.both if c.local_default.on is None]
    if unsure:
        set_rules(model, sides.both, Scoping(_local(sides, False)))
        _undecided(d, run(model, static), sides, unsure)
    broken = _first_break(d)
    if broken is not None and broken.hop in (Hop.CLIENT_EGRESS, Hop.CILIUM_INGRESS) and d.verdict is Verdict.DENIED:
        owner = sides.of(broken.hop)
        peer = sides.server if owner is sides.client else sides.client
        set_rules(model, sides.both, Scoping(dict.fromkeys(actual.local, False)))
        wide = _hop(run(model, static), broken.hop)
        if owner.local_default.on and wide is not None and wide.decision is Decision.ALLOW:
            _blame(d, broken, _local_cause(wide, owner, peer))
        set_rules(model, sides.both, Scoping(actual.local, entity_local=False))
        wide = _hop(run(model, static), broken.hop)
        if wide is not None and wide.decision is Decision.ALLOW:
            _blame(d, broken, _entity_cause(wide, owner, peer))
    set_rules(model, sides.both, actual)
    remote_node_peer(d, model, sides.client, sides.server)
    asymmetric(d, model, sides.client, sides.server)
    return d


_NS_LINE = re.compile(r"^([ \t-]*)(k8s:)?io\.kubernetes\.pod\.namespace: *(\S+)[ \t]*$", re.M)


def _peer_cluster_in_fixes(d: Diagnosis, sides: Sides) -> None:
    """A fix that admits a peer of the other cluster must name its cluster (M4.1: on, a selector without
    the key matches local peers only; off, the key narrows nothing away): add the key beside the peer's
    namespace in every proposed selector of a Cilium denial."""

    def fixed(cause: Cause) -> Cause:
        if cause.code != "cilium-policy-denied":
            return cause
        peer = sides.client if cause.params.get("direction") == "ingress" else sides.server
        line = f"k8s:{CLUSTER_KEY}: {peer.name}"

        def add(m: re.Match[str]) -> str:
            indent = " " * len(m.group(1))
            return f"{m.group(0)}\n{indent}{line}"

        params = {k: _NS_LINE.sub(add, v) if isinstance(v, str) else v for k, v in cause.params.items()}
        return replace(cause, params=params)

    d.causes = [fixed(c) for c in d.causes]
    d.hops = [replace(h, causes=tuple(fixed(c) for c in h.causes)) if h.causes else h for h in d.hops]


def _blame(d: Diagnosis, hop: HopResult, cause: Cause) -> None:
    d.causes.insert(0, cause)
    i = d.hops.index(hop)
    d.hops[i] = replace(hop, causes=(cause, *hop.causes))


def _rule_of(wide: HopResult) -> str:
    refs = [r.key() for r in wide.by if r.rule]
    return refs[0] if refs else (wide.by[0].key() if wide.by else "a rule")


def _local_cause(wide: HopResult, owner: Cluster, peer: Cluster) -> Cause:
    return Cause(
        "clustermesh-policy-local-cluster",
        tuple(wide.by),
        {
            "rule": _rule_of(wide),
            "cluster": owner.name,
            "peer_cluster": peer.name,
            "why": owner.local_default.why,
            "key": CLUSTER_KEY,
            "option": LOCAL_DEFAULT_KEY,
        },
    )


def _entity_cause(wide: HopResult, owner: Cluster, peer: Cluster) -> Cause:
    return Cause(
        "clustermesh-cluster-entity-local",
        tuple(wide.by),
        {"rule": _rule_of(wide), "cluster": owner.name, "peer_cluster": peer.name, "key": CLUSTER_KEY},
    )


def _undecided(d: Diagnosis, alt: Diagnosis, sides: Sides, unsure: list[Cluster]) -> None:
    """Hops whose answer depends on an unknown ``policy-default-local-cluster`` become unknown."""
    named = "; ".join(f"cluster {c.name}: {c.local_default.why}" for c in unsure)
    changed = False
    for i, hop in enumerate(d.hops):
        other = _hop(alt, hop.hop)
        if hop.hop not in _CILIUM_HOPS or other is None or other.decision is hop.decision:
            continue
        if hop.decision is Decision.SKIP or other.decision is Decision.SKIP:
            continue
        gap = Gap(
            f"{HOP_TITLES[hop.hop]} depends on {LOCAL_DEFAULT_KEY} ({named}): with it on, {hop.decision.value} "
            f"({hop.detail}); off, {other.decision.value} ({other.detail})",
            {"CiliumConfig"},
        )
        d.hops[i] = replace(
            hop,
            decision=Decision.UNKNOWN,
            detail=f"cannot decide: {gap}",
            symptom=Symptom.UNKNOWN,
            verdict=Verdict.UNKNOWN,
            gaps=(str(gap),),
        )
        d.gaps.append(gap)
        changed = True
    if not changed:
        return
    first = next((h for h in d.hops if h.decision in (Decision.DENY, Decision.BREAK, Decision.UNKNOWN)), None)
    if d.verdict is Verdict.ALLOWED or (first is not None and first.decision is Decision.UNKNOWN):
        d.verdict, d.symptom = Verdict.UNKNOWN, Symptom.UNKNOWN
