"""The witness search's server-side question, answered once per class of clients (issue 18 item 14).

Whether a server's Cilium ingress admits a client pod on a port depends on the client only through
the labels its identity carries under the keys the server's ingress (and ingress deny) selectors
name: a selector requirement reads ``labels.get(key)`` and nothing else, a CIDR or FQDN peer never
selects a pod, entities are the same for every pod. Two clients whose labels agree on those keys,
where a value the selectors never mention counts only as "present", get the same decision from the
same engine; so the decision is asked of the engine for the first client of each class and reused
for the others. A server whose selectors look at anything else about the client (Service
membership, ``@``-keys) is always asked directly.

The client-side question (is the client's egress denied?) depends on the client only through the
rules that select it and whether it is on the host network: the engine reads nothing else of its
subject on egress (the port names resolve on the server); and of those rules, only the ones with
egress entries or an egress default deny can change the decision (decide.shapes_egress). So it is
asked once per (those rules, host network, server, port) and reused for every client selected by
the same such rules (most clients: by none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubectl_meshdoctor.engines.cilium.decide import evaluate, selecting_rules, shapes_egress
from kubectl_meshdoctor.findings.types import Decision
from kubectl_meshdoctor.model.cilium import PolicyRule
from kubectl_meshdoctor.model.objects import Peer, Pod, pod_peer
from kubectl_meshdoctor.model.view import Model

_PRESENT = ("present, not named",)  # a value no selector names: only its presence matters

# key -> the values the server's selectors name under it
_Keys = tuple[tuple[str, frozenset[str]], ...]


def _keys(model: Model, server: Pod) -> _Keys | None:
    """The label keys the server's ingress selectors read, or None when they read more than labels."""
    named: dict[str, set[str]] = {}
    for rule in selecting_rules(model, server):
        for entry in (*rule.ingress, *rule.ingress_deny):
            if entry.services is not None:
                return None
            for sel in entry.endpoints or ():
                for req in sel.requirements:
                    if req.key.startswith("@"):
                        return None
                    if req.source in ("k8s", "any"):
                        named.setdefault(req.key, set()).update(req.values)
    return tuple((k, frozenset(v)) for k, v in sorted(named.items()))


def _class(keys: _Keys, labels: Mapping[str, str]) -> tuple[object, ...]:
    out: list[object] = [bool(labels)]
    for key, values in keys:
        value = labels.get(key)
        out.append(value if value is None or value in values else _PRESENT)
    return tuple(out)


@dataclass(slots=True)
class IngressMemo:
    """One per analyzer run: ``decide`` answers as ``evaluate(model, server, "ingress", client, port, protocol)``."""

    model: Model
    _keys: dict[int, tuple[Pod, _Keys | None]] = field(default_factory=dict)
    _answers: dict[tuple[object, ...], tuple[Decision, bool]] = field(default_factory=dict)
    _peers: dict[int, tuple[Pod, Peer]] = field(default_factory=dict)
    # the rules and server are held so that the ids in the key stay theirs
    _egress: dict[tuple[object, ...], tuple[list[PolicyRule], Pod, bool]] = field(default_factory=dict)

    def egress_denies(self, client: Pod, server: Pod, port: int, protocol: str) -> bool:
        """Is ``evaluate(model, client, "egress", pod_peer(server, server.workload_name), port,
        protocol).decision`` DENY?"""
        rules = [r for r in selecting_rules(self.model, client) if shapes_egress(r)]
        key = (tuple(map(id, rules)), client.host_network, id(server), port, protocol)
        found = self._egress.get(key)
        if found is None or found[1] is not server:
            peer = self.peer(server)
            got = evaluate(self.model, client, "egress", peer, port, protocol)
            found = self._egress[key] = (rules, server, got.decision is Decision.DENY)
        return found[2]

    def peer(self, pod: Pod) -> Peer:
        """``pod_peer(pod, pod.workload_name)``, made once per pod."""
        held = self._peers.get(id(pod))
        if held is None or held[0] is not pod:
            held = self._peers[id(pod)] = (pod, pod_peer(pod, pod.workload_name))
        return held[1]

    def decide(self, server: Pod, client: Pod, port: int, protocol: str) -> tuple[Decision, bool]:
        """The engine's decision and whether some policy enforces this direction (never its detail,
        which names the client it was asked for)."""
        held = self._keys.get(id(server))
        if held is None or held[0] is not server:
            held = self._keys[id(server)] = (server, _keys(self.model, server))
        keys = held[1]
        if keys is None:
            return _asked(self.model, server, self.peer(client), port, protocol)
        key = (id(server), port, protocol, _class(keys, client.identity))
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = _asked(self.model, server, self.peer(client), port, protocol)
        return found


def _asked(model: Model, server: Pod, client: Peer, port: int, protocol: str) -> tuple[Decision, bool]:
    got = evaluate(model, server, "ingress", client, port, protocol)
    return got.decision, got.enforced
