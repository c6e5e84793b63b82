"""Istio security and mesh objects as typed values (A3-A6): PeerAuthentication,
AuthorizationPolicy, DestinationRule (TLS part), mesh config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef

MTLS_MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")


@dataclass(frozen=True, slots=True)
class PeerAuthentication:
    ref: ObjectRef
    selector: Mapping[str, str] | None  # None / empty = namespace (or mesh) wide
    mode: str  # UNSET | DISABLE | PERMISSIVE | STRICT
    port_level: Mapping[int, str]
    created: str  # creationTimestamp; oldest wins at one level


@dataclass(frozen=True, slots=True)
class Source:
    principals: tuple[str, ...] | None = None
    not_principals: tuple[str, ...] | None = None
    namespaces: tuple[str, ...] | None = None
    not_namespaces: tuple[str, ...] | None = None
    service_accounts: tuple[str, ...] | None = None
    not_service_accounts: tuple[str, ...] | None = None
    request_principals: tuple[str, ...] | None = None
    not_request_principals: tuple[str, ...] | None = None
    ip_blocks: tuple[str, ...] | None = None
    not_ip_blocks: tuple[str, ...] | None = None
    remote_ip_blocks: tuple[str, ...] | None = None
    not_remote_ip_blocks: tuple[str, ...] | None = None
    trust_domains: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    hosts: tuple[str, ...] | None = None
    not_hosts: tuple[str, ...] | None = None
    ports: tuple[str, ...] | None = None
    not_ports: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    not_methods: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    not_paths: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    values: tuple[str, ...] | None
    not_values: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class AuthzRule:
    index: int
    sources: tuple[Source, ...] | None  # None = from omitted (matches anything)
    operations: tuple[Operation, ...] | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy:
    ref: ObjectRef
    selector: Mapping[str, str] | None
    target_refs: tuple[tuple[str, str, str], ...]  # (group, kind, name)
    action: str  # ALLOW | DENY | AUDIT | CUSTOM
    rules: tuple[AuthzRule, ...]
    has_rules_field: bool
    provider: str | None


@dataclass(frozen=True, slots=True)
class TLSSetting:
    mode: str  # DISABLE | SIMPLE | MUTUAL | ISTIO_MUTUAL
    path: str  # "trafficPolicy.tls" / "trafficPolicy.portLevelSettings[0].tls"


@dataclass(frozen=True, slots=True)
class DestinationRule:
    ref: ObjectRef
    host: str
    export_to: tuple[str, ...]
    tls: TLSSetting | None
    port_tls: Mapping[int, TLSSetting]
    workload_selector: Mapping[str, str] | None
    # A4: per subset, its own tls and port-level tls (they override the DR-level ones when routed there)
    subset_tls: Mapping[str, tuple[TLSSetting | None, Mapping[int, TLSSetting]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MeshConfig:
    root_namespace: str = "istio-system"
    enable_auto_mtls: bool = True
    trust_domain: str = "cluster.local"
    present: bool = False
    ref: ObjectRef | None = None


@dataclass(slots=True)
class IstioObjects:
    peer_authns: list[PeerAuthentication] = field(default_factory=list)
    authz: list[AuthorizationPolicy] = field(default_factory=list)
    dest_rules: list[DestinationRule] = field(default_factory=list)
    mesh: MeshConfig = field(default_factory=MeshConfig)
    other_kinds: dict[str, int] = field(default_factory=dict)  # present but not evaluated


def _strs(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, list):
        return tuple(str(x) for x in raw)
    return (str(raw),)


def _labels(raw: Any) -> dict[str, str] | None:
    if not isinstance(raw, dict):
        return None
    labels = raw.get("matchLabels")
    if not isinstance(labels, dict) or not labels:
        return None
    return {str(k): str(v) for k, v in labels.items()}


def parse_pa(doc: dict[str, Any], ref: ObjectRef) -> PeerAuthentication:
    spec = doc.get("spec") or {}
    mode = str((spec.get("mtls") or {}).get("mode") or "UNSET").upper()
    port_level: dict[int, str] = {}
    for port, setting in (spec.get("portLevelMtls") or {}).items():
        try:
            port_level[int(port)] = str((setting or {}).get("mode") or "UNSET").upper()
        except ValueError:
            continue
    created = str((doc.get("metadata") or {}).get("creationTimestamp") or "")
    return PeerAuthentication(ref, _labels(spec.get("selector")), mode, port_level, created)


def _source(raw: dict[str, Any]) -> Source:
    return Source(  # positional: the fields, in their order
        _strs(raw.get("principals")),
        _strs(raw.get("notPrincipals")),
        _strs(raw.get("namespaces")),
        _strs(raw.get("notNamespaces")),
        _strs(raw.get("serviceAccounts")),
        _strs(raw.get("notServiceAccounts")),
        _strs(raw.get("requestPrincipals")),
        _strs(raw.get("notRequestPrincipals")),
        _strs(raw.get("ipBlocks")),
        _strs(raw.get("notIpBlocks")),
        _strs(raw.get("remoteIpBlocks")),
        _strs(raw.get("notRemoteIpBlocks")),
        _strs(raw.get("trustDomains")),
    )


def _operation(raw: dict[str, Any]) -> Operation:
    return Operation(  # positional: the fields, in their order
        _strs(raw.get("hosts")),
        _strs(raw.get("notHosts")),
        _strs(raw.get("ports")),
        _strs(raw.get("notPorts")),
        _strs(raw.get("methods")),
        _strs(raw.get("notMethods")),
        _strs(raw.get("paths")),
        _strs(raw.get("notPaths")),
    )


def parse_ap(doc: dict[str, Any], ref: ObjectRef) -> AuthorizationPolicy:
    spec = doc.get("spec") or {}
    rules: list[AuthzRule] = []
    for i, raw in enumerate(spec.get("rules") or []):
        raw = raw or {}
        sources = None
        if raw.get("from") is not None:
            sources = tuple(_source((f or {}).get("source") or {}) for f in raw.get("from") or [])
        operations = None
        if raw.get("to") is not None:
            operations = tuple(_operation((t or {}).get("operation") or {}) for t in raw.get("to") or [])
        conditions = tuple(
            Condition(str(c.get("key", "")), _strs(c.get("values")), _strs(c.get("notValues")))
            for c in raw.get("when") or []
            if isinstance(c, dict)
        )
        rules.append(AuthzRule(i, sources, operations, conditions))
    targets = []
    for t in (spec.get("targetRefs") or []) + ([spec["targetRef"]] if spec.get("targetRef") else []):
        if isinstance(t, dict):
            targets.append((str(t.get("group", "")), str(t.get("kind", "")), str(t.get("name", ""))))
    return AuthorizationPolicy(  # positional: the fields, in their order
        ref,
        _labels(spec.get("selector")),
        tuple(targets),
        str(spec.get("action") or "ALLOW").upper(),
        tuple(rules),
        "rules" in spec,
        (spec.get("provider") or {}).get("name"),
    )


def _tls(raw: Any, path: str) -> TLSSetting | None:
    if isinstance(raw, dict) and raw.get("mode"):
        return TLSSetting(str(raw["mode"]).upper(), path)
    return None


def _port_tls(policy: dict[str, Any], base: str) -> dict[int, TLSSetting]:
    port_tls: dict[int, TLSSetting] = {}
    for i, pls in enumerate(policy.get("portLevelSettings") or []):
        number = ((pls or {}).get("port") or {}).get("number")
        setting = _tls((pls or {}).get("tls"), f"{base}.portLevelSettings[{i}].tls")
        if number is not None and setting is not None:
            port_tls[int(number)] = setting
    return port_tls


def parse_dr(doc: dict[str, Any], ref: ObjectRef) -> DestinationRule:
    spec = doc.get("spec") or {}
    policy = spec.get("trafficPolicy") or {}
    port_tls = _port_tls(policy, "trafficPolicy")
    subset_tls: dict[str, tuple[TLSSetting | None, Mapping[int, TLSSetting]]] = {}
    for j, sub in enumerate(spec.get("subsets") or []):
        if not isinstance(sub, dict) or not sub.get("name"):
            continue
        sp = sub.get("trafficPolicy") or {}
        base = f"subsets[{j}].trafficPolicy"
        subset_tls[str(sub["name"])] = (_tls(sp.get("tls"), f"{base}.tls"), _port_tls(sp, base))
    return DestinationRule(
        ref=ref,
        host=str(spec.get("host") or ""),
        export_to=tuple(str(x) for x in spec.get("exportTo") or ()),  # () = the mesh default
        tls=_tls(policy.get("tls"), "trafficPolicy.tls"),
        port_tls=port_tls,
        workload_selector=_labels(spec.get("workloadSelector")),
        subset_tls=subset_tls,
    )


def parse_mesh_config(text: str, ref: ObjectRef) -> MeshConfig:
    import yaml

    from kubectl_meshdoctor.model import yamlcore

    try:
        raw = yamlcore.load(text) or {}
    except yaml.YAMLError:
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    auto = raw.get("enableAutoMtls")
    return MeshConfig(
        root_namespace=str(raw.get("rootNamespace") or "istio-system"),
        enable_auto_mtls=True if auto is None else bool(auto),
        trust_domain=str(raw.get("trustDomain") or "cluster.local"),
        present=True,
        ref=ref,
    )
