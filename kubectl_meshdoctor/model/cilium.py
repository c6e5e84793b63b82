"""CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and Kubernetes NetworkPolicy
as typed rules, each carrying its rule path (``specs[0].ingress[0]``).

Kubernetes NetworkPolicies are translated the way Cilium enforces them (A2): one
engine evaluates all three kinds, so deny rules of a CNP override KNP allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.selectors import Selector


@dataclass(frozen=True, slots=True)
class PortProto:
    port: str  # "80", "0" (all), "" (all) or a named port
    end_port: int | None
    protocol: str  # TCP | UDP | SCTP | ANY


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """A1.9 ``headerMatches`` entry: exact value (or presence), optionally from a Secret.

    ``mismatch`` (LOG/ADD/DELETE/REPLACE) makes a mismatch a logged or rewritten request, never a 403.
    """

    name: str
    value: str | None
    mismatch: str | None = None
    secret: str | None = None  # "ns/name" of the Secret holding the value (never read)


@dataclass(frozen=True, slots=True)
class HTTPRule:
    method: str | None
    path: str | None
    host: str | None
    headers: tuple[str, ...]
    header_matches: tuple[HeaderMatch, ...]
    index: int


@dataclass(frozen=True, slots=True)
class PortRule:
    ports: tuple[PortProto, ...]  # empty = all ports
    l7: str | None  # "http" | "dns" | "kafka" | None
    http: tuple[HTTPRule, ...]
    path: str  # "toPorts[0]"
    dns: tuple[tuple[str, str], ...] = ()  # rules.dns: ("matchName" | "matchPattern", value)


@dataclass(frozen=True, slots=True)
class CIDRRule:
    cidr: str
    excepts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PeerRule:
    """One ingress/egress (deny) entry. ``None`` = field absent, ``()`` = explicit empty list."""

    path: str  # "specs[0].ingress[1]"
    endpoints: tuple[Selector, ...] | None
    entities: tuple[str, ...] | None
    cidrs: tuple[CIDRRule, ...] | None
    services: tuple[Selector, ...] | None  # toServices, as selectors over the service's pods
    fqdns: tuple[str, ...] | None
    to_ports: tuple[PortRule, ...]
    deny: bool
    empty_entry: bool = False  # "{}": no L3 field and no ports (A1.8 edge case)
    # fromNodes/toNodes/fromGroups/toGroups: L3 peers that are never pods (A1.6), so the entry is
    # not an L4-only wildcard; meshdoctor does not resolve node labels or cloud groups
    other_l3: tuple[str, ...] | None = None
    auth_required: bool = False  # `authentication: {mode: required}`: mutual auth before any packet (A7)

    def has_l3(self) -> bool:
        fields = (self.endpoints, self.entities, self.cidrs, self.services, self.fqdns, self.other_l3)
        return any(f is not None for f in fields)


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One rule of a policy (``spec`` or ``specs[i]``, or a whole KNP)."""

    policy: ObjectRef  # kind/namespace/name (+ origin)
    path: str  # "spec", "specs[0]", "" for KNP
    namespace: str | None  # None for CCNP
    subject: Selector  # already confined to the namespace for CNP/KNP
    node_selector: bool
    ingress: tuple[PeerRule, ...]
    ingress_deny: tuple[PeerRule, ...]
    egress: tuple[PeerRule, ...]
    egress_deny: tuple[PeerRule, ...]
    # None = not said: the section decides; True/False explicit (enableDefaultDeny / KNP policyTypes)
    default_deny_ingress: bool | None
    default_deny_egress: bool | None
    is_knp: bool = False
    has_ingress_section: bool = False
    has_egress_section: bool = False

    def ref(self, sub: str | None = None) -> ObjectRef:
        rule = ".".join(p for p in (self.path, sub) if p) or None
        return self.policy.with_rule(rule)


@dataclass(slots=True)
class CiliumPolicies:
    rules: list[PolicyRule] = field(default_factory=list)
    invalid: list[tuple[ObjectRef, str]] = field(default_factory=list)  # (policy, reason)
    warnings: list[str] = field(default_factory=list)
