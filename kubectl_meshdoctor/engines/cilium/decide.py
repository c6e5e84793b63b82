"""The per-direction decision (A1.8): mode, default deny, deny first, union of allows.

Both ends must agree (A1.8.6): the caller evaluates client egress and server
ingress separately with this one function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kubectl_meshdoctor.engines.cilium.l7 import http_rule_verdict
from kubectl_meshdoctor.engines.cilium.peers import matching_port_rules, peer_matches
from kubectl_meshdoctor.findings.types import Decision, ObjectRef
from kubectl_meshdoctor.model.cilium import HTTPRule, PolicyRule
from kubectl_meshdoctor.model.index import guarded_rules
from kubectl_meshdoctor.model.objects import Peer, Pod
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class L7Match:
    allowed: bool
    by: tuple[ObjectRef, ...]  # the http rule blocks that applied to this peer
    rules: tuple[HTTPRule, ...]
    allow_all_by: ObjectRef | None  # an L3/L4-only entry that makes L7 moot for this peer
    unknown: str | None = None  # no rule surely matches, but one depends on what we cannot read


@dataclass(frozen=True, slots=True)
class CiliumDecision:
    decision: Decision  # ALLOW or DENY
    by: tuple[ObjectRef, ...]
    detail: str
    enforced: bool  # some policy (or enable-policy=always) restricts this direction
    explicit_deny: bool = False
    audit: bool = False  # would deny, but policy-audit-mode lets it pass
    selecting: tuple[ObjectRef, ...] = ()
    redirect: tuple[ObjectRef, ...] = ()  # port rules that put Cilium's L7 proxy on this port
    l7_kind: str | None = None
    empty_entries: tuple[ObjectRef, ...] = ()
    http_rules: tuple[tuple[ObjectRef, HTTPRule], ...] = field(default=())
    allow_all_by: ObjectRef | None = None
    unsure: str = ""  # allowed by policy, but the outcome depends on what is not evaluated here
    # A1.8: L7 rules ignore enableDefaultDeny: false: a peer no entry names still meets the proxy
    # on that port, which admits no request of it
    l7_unadmitted: bool = False
    # A1.9 DNS rules on the port for this peer: (rule ref, ("matchName" | "matchPattern", value))
    dns_rules: tuple[tuple[ObjectRef, tuple[str, str]], ...] = ()

    def l7_for(self, method: str, path: str, host: str | None, headers: Mapping[str, str]) -> L7Match:
        if self.l7_unadmitted:
            return L7Match(False, self.redirect, (), None)
        if self.allow_all_by is not None or not self.http_rules:
            return L7Match(True, (), (), self.allow_all_by)
        verdicts = [(ref, r, http_rule_verdict(r, method, path, host, headers)) for ref, r in self.http_rules]
        hit = [(ref, r) for ref, r, v in verdicts if v is True]
        refs = tuple(dict.fromkeys(ref for ref, _ in self.http_rules))
        if hit:
            return L7Match(True, (hit[0][0],), (hit[0][1],), None)
        maybe = [(ref, r) for ref, r, v in verdicts if v is None]
        if maybe:
            secrets = sorted({m.secret or "" for _, r in maybe for m in r.header_matches if m.secret})
            why = f"HTTP rule headerMatches compare with the value of Secret(s) {', '.join(secrets)}, which is not read"
            if not secrets:
                why = (
                    f"HTTP rule path {maybe[0][1].path!r} matches {path!r} only with or only without its query "
                    "string; whether Cilium's path regex sees the query is not settled [uncertain]"
                )
            return L7Match(False, (maybe[0][0],), tuple(r for _, r in maybe), None, why)
        return L7Match(False, refs, tuple(r for _, r in self.http_rules), None)


def selecting_rules(model: Model, pod: Pod) -> list[PolicyRule]:
    """Rules whose subject selects the pod: its namespace's rules plus clusterwide ones (indexed)."""
    key = pod.key()
    cached = model.selecting_cache.get(key)
    if cached is not None:
        return cached
    identity = pod.identity
    try:  # the replicas of a workload share their identity labels: matched once for all of them
        same = (pod.namespace, tuple(identity.items()))
        out = model.selecting_cache.get(same)
    except TypeError:  # a label value that cannot be a key: matched for this pod alone
        same, out = None, None
    if out is None:
        if same is None:
            candidates = model.rules_by_ns.get(pod.namespace, []) + model.cluster_rules
            out = [r for r in candidates if r.subject.matches(identity)]
        else:  # every value hashable: a rule's guard drops most rules before its selector is asked
            out = [
                rule
                for rule, label, values in guarded_rules(model, pod.namespace)
                if (label is None or identity.get(label) in values) and rule.subject.matches(identity)
            ]
            model.selecting_cache[same] = out
    model.selecting_cache[key] = out
    return out


def shapes_egress(rule: PolicyRule) -> bool:
    """Can this rule change an egress decision? Only through its egress allow and deny entries and
    its egress default deny: one with none of them changes only the decision's detail (which
    policies select the endpoint)."""
    return bool(rule.egress or rule.egress_deny) or _is_default_deny(rule, "egress")


def _is_default_deny(rule: PolicyRule, direction: str) -> bool:
    explicit = rule.default_deny_ingress if direction == "ingress" else rule.default_deny_egress
    has_section = rule.has_ingress_section if direction == "ingress" else rule.has_egress_section
    if rule.is_knp or explicit is not None:
        # A1.8: an explicit enableDefaultDeny decides; only an unset one falls back to "has a section"
        # (Cilium 1.16 ignored `true` without a section, #35558: we keep the stricter reading)
        return bool(explicit)
    return has_section


def evaluate(model: Model, subject: Pod, direction: str, peer: Peer, port: int, protocol: str) -> CiliumDecision:
    """Decide one direction at one endpoint. ``port`` is the on-wire (target) port.

    A node peer (host / remote-node) may be what a deny entry's fromNodes/fromGroups selects; node
    labels and cloud groups are not read, so an allow then rests on something unevaluated (unsure).
    """
    result = _evaluate(model, subject, direction, peer, port, protocol)
    if result.decision is not Decision.ALLOW or result.unsure or not peer.reserved & _NODE_ENTITIES:
        return result
    for rule in selecting_rules(model, subject):
        for entry in rule.ingress_deny if direction == "ingress" else rule.egress_deny:
            if entry.other_l3 and matching_port_rules(
                entry, port, protocol, subject if direction == "ingress" else None
            ):
                ref = rule.policy.with_rule(_join(entry.path))
                why = (
                    f"{result.detail}, but the deny entry {ref.key()} ({', '.join(entry.other_l3)}) may select "
                    f"{peer.name} by node labels or cloud groups, which are not read [uncertain]"
                )
                return replace(result, unsure=why)
    return result


_NODE_ENTITIES = frozenset({"host", "remote-node"})


def _evaluate(model: Model, subject: Pod, direction: str, peer: Peer, port: int, protocol: str) -> CiliumDecision:
    mode = model.cilium_config.enable_policy
    if mode == "never":
        return CiliumDecision(Decision.ALLOW, (), "enable-policy=never: Cilium enforces no policy", False)
    if subject.host_network:
        return CiliumDecision(Decision.ALLOW, (), "host-network pod: pod policies do not apply", False)
    rules = selecting_rules(model, subject)
    port_owner = subject if direction == "ingress" else (peer.pod or peer.workload_pod)
    selecting = tuple(dict.fromkeys(r.policy for r in rules if _touches(r, direction)))
    default_deny = mode == "always" or any(_is_default_deny(r, direction) for r in rules)
    empty: list[ObjectRef] = []

    # 1. deny entries win over every allow (A1.10)
    for rule in rules:
        for entry in rule.ingress_deny if direction == "ingress" else rule.egress_deny:
            if peer_matches(model, entry, peer) and matching_port_rules(entry, port, protocol, port_owner):
                ref = rule.policy.with_rule(_join(entry.path))
                return _deny(model, (ref,), f"deny rule matches {peer.name} on {protocol}/{port}", selecting, True)

    # A1.8 localhost: the node reaches its own endpoints without a rule unless allow-localhost=policy
    localhost = model.cilium_config.allow_localhost
    if direction == "ingress" and "host" in peer.reserved and localhost != "policy":
        detail = f"allow-localhost={localhost}: the local host ({peer.name}) reaches its own endpoints without a rule"
        return CiliumDecision(Decision.ALLOW, (), detail, False, selecting=selecting)

    # 2. union of allows; collect the L7 redirect for this port from every entry (A1.9)
    allows: list[ObjectRef] = []
    redirect: list[ObjectRef] = []
    l7_kind: str | None = None
    http_rules: list[tuple[ObjectRef, HTTPRule]] = []
    allow_all_by: ObjectRef | None = None
    auth: list[ObjectRef] = []
    dns_rules: list[tuple[ObjectRef, tuple[str, str]]] = []
    for rule in rules:
        for entry in rule.ingress if direction == "ingress" else rule.egress:
            if entry.empty_entry:
                empty.append(rule.policy.with_rule(_join(entry.path)))
                continue
            port_rules = matching_port_rules(entry, port, protocol, port_owner)
            for pr in port_rules:
                if pr.l7:
                    redirect.append(rule.policy.with_rule(_join(entry.path, pr.path, "rules." + pr.l7)))
                    l7_kind = l7_kind or pr.l7
            if not port_rules or not peer_matches(model, entry, peer):
                continue
            entry_ref = rule.policy.with_rule(_join(entry.path))
            allows.append(entry_ref)
            if entry.auth_required:
                auth.append(entry_ref)
            for pr in port_rules:
                if pr.l7 == "http":
                    ref = rule.policy.with_rule(_join(entry.path, pr.path, "rules.http"))
                    http_rules.extend((ref, h) for h in pr.http)
                elif pr.l7 == "dns":
                    ref = rule.policy.with_rule(_join(entry.path, pr.path, "rules.dns"))
                    dns_rules.extend((ref, d) for d in pr.dns)
                elif pr.l7 is None and allow_all_by is None:
                    allow_all_by = entry_ref
    if allows:
        detail = f"{allows[0].key()} allows {peer.name} on {protocol}/{port}"
        unsure = ""
        if auth:
            # A7: Cilium drops (AUTH_REQUIRED) until mutual authentication (SPIRE) succeeds
            unsure = (
                f"{detail}, but {auth[0].key()} sets authentication.mode required: packets are dropped "
                f"(AUTH_REQUIRED) until Cilium's mutual authentication succeeds, which depends on "
                f"mesh-auth-enabled={model.cilium_config.get('mesh-auth-enabled', 'unset')} and SPIRE, not evaluated"
            )
        return CiliumDecision(
            Decision.ALLOW,
            tuple(dict.fromkeys(allows)),
            detail,
            True,
            selecting=selecting,
            redirect=tuple(dict.fromkeys(redirect)),
            l7_kind=l7_kind,
            empty_entries=tuple(empty),
            http_rules=tuple(http_rules),
            # an L3/L4-only entry makes the port's L7 rules moot for this peer (A1.9), whatever their kind
            allow_all_by=allow_all_by if http_rules or l7_kind not in (None, "http") else None,
            unsure=unsure,
            dns_rules=tuple(dns_rules),
        )
    if default_deny:
        why = "enable-policy=always" if mode == "always" and not selecting else "default deny"
        names = ", ".join(r.key() for r in selecting) or "enable-policy=always"
        detail = (
            f"{why}: {names} select(s) the endpoint for {direction}; no rule allows {peer.name} on {protocol}/{port}"
        )
        return _deny(model, selecting, detail, selecting, False, tuple(empty))
    detail = (
        f"no {direction} policy selects the endpoint"
        if not selecting
        else (f"{', '.join(r.key() for r in selecting)} do(es) not make {direction} default-deny")
    )
    return CiliumDecision(
        Decision.ALLOW,
        (),
        detail,
        False,
        selecting=selecting,
        redirect=tuple(redirect),
        l7_kind=l7_kind,
        l7_unadmitted=bool(redirect) and l7_kind == "http",
    )


def _deny(
    model: Model,
    by: tuple[ObjectRef, ...],
    detail: str,
    selecting: tuple[ObjectRef, ...],
    explicit: bool,
    empty: tuple[ObjectRef, ...] = (),
) -> CiliumDecision:
    if model.cilium_config.audit_mode:
        return CiliumDecision(
            Decision.ALLOW,
            by,
            f"policy-audit-mode: would drop ({detail}) but only audits",
            True,
            explicit_deny=explicit,
            audit=True,
            selecting=selecting,
            empty_entries=empty,
        )
    return CiliumDecision(
        Decision.DENY, by, detail, True, explicit_deny=explicit, selecting=selecting, empty_entries=empty
    )


def _touches(rule: PolicyRule, direction: str) -> bool:
    explicit = rule.default_deny_ingress if direction == "ingress" else rule.default_deny_egress
    return (rule.has_ingress_section if direction == "ingress" else rule.has_egress_section) or explicit is True


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)
