"""AuthorizationPolicy (A5): CUSTOM, DENY, then ALLOW; allow-nothing; identity needs mTLS;
HTTP-only fields on TCP; ambient ztunnel enforces L4 only (B14)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kubectl_meshdoctor.findings.types import Decision, ObjectRef
from kubectl_meshdoctor.model.istio import AuthorizationPolicy, AuthzRule, Operation, Source
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class Conn:
    mtls: bool
    principal: str  # "cluster.local/ns/red/sa/default" or "" without mTLS
    namespace: str  # peer namespace from the cert, "" without mTLS
    source_ip: str | None
    port: int  # workload (target) port
    http: bool
    method: str
    path: str
    host: str | None
    # the identity the caller would present over mTLS (principal, namespace): B13 asks whether an
    # identity-keyed rule would match it, to tell "needs mTLS" from a plain deny
    identity_if_mtls: tuple[str, str] | None = None
    headers: tuple[tuple[str, str], ...] = ()  # request headers given in the question (lower-case names)


@dataclass(frozen=True, slots=True)
class AuthzResult:
    decision: Decision
    by: tuple[ObjectRef, ...]
    detail: str
    needs_mtls: tuple[ObjectRef, ...] = ()  # identity rules that cannot match on plaintext
    l7_without_waypoint: bool = False
    deny_rule: bool = False  # a DENY policy matched: no ALLOW rule can undo it
    uncertain: bool = False


_IDENTITY_FIELDS = (
    "principals",
    "not_principals",
    "namespaces",
    "not_namespaces",
    "service_accounts",
    "not_service_accounts",
    "trust_domains",
)
_HTTP_OP_FIELDS = ("hosts", "not_hosts", "methods", "not_methods", "paths", "not_paths")


def _str_match(pattern: str, value: str) -> bool:
    if pattern == "*":
        return value != ""
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return pattern == value


def _path_match(pattern: str, value: str) -> bool:
    if "{*}" in pattern or "{**}" in pattern:
        # {*} = exactly one path segment, {**} = any remainder; the rest matches literally
        parts = re.split(r"(\{\*\*\}|\{\*\})", pattern)
        regex = "".join("[^/]+" if p == "{*}" else ".*" if p == "{**}" else re.escape(p) for p in parts)
        return re.fullmatch(regex, value) is not None
    return _str_match(pattern, value)


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalised_path(raw: str) -> str:
    """A5: Istio matches ``paths`` on the normalised path without the query (Envoy url_path with
    the mesh's default BASE normalisation, RFC 3986): no ``?query``/``#fragment``, percent-encoded
    unreserved characters decoded, ``.``/``..`` segments removed."""
    path = raw.split("#", 1)[0].split("?", 1)[0] or "/"
    path = re.sub(
        r"%([0-9A-Fa-f]{2})",
        lambda m: chr(int(m.group(1), 16)) if chr(int(m.group(1), 16)) in _UNRESERVED else m.group(0).upper(),
        path,
    )
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif seg == ".":
            if last:
                out.append("")
        else:
            out.append(seg)
    text = "/".join(out)
    return text if text.startswith("/") else "/" + text


def _any(patterns: Sequence[str] | None, value: str, path: bool = False) -> bool:
    match = _path_match if path else _str_match
    return any(match(p, value) for p in patterns or ())


def _ip_in(blocks: Sequence[str] | None, ip: str | None) -> bool:
    if not ip:
        return False
    for block in blocks or ():
        try:
            if ipaddress.ip_address(ip) in ipaddress.ip_network(block, strict=False):
                return True
        except ValueError:
            continue
    return False


def _source_matches(s: Source, c: Conn, deny: bool = False) -> bool:
    sa = c.principal.split("/ns/", 1)[-1].replace("/sa/", "/") if c.principal else ""
    trust = c.principal.split("/", 1)[0] if c.principal else ""
    checks = [
        s.principals is None or _any(s.principals, c.principal),
        s.not_principals is None or not _any(s.not_principals, c.principal),
        s.namespaces is None or _any(s.namespaces, c.namespace),
        s.not_namespaces is None or not _any(s.not_namespaces, c.namespace),
        s.service_accounts is None or _any(s.service_accounts, sa),
        s.not_service_accounts is None or not _any(s.not_service_accounts, sa),
        s.trust_domains is None or _any(s.trust_domains, trust),
        # no JWT in the question; on TCP the field is HTTP-only: a DENY rule drops it (A5)
        s.request_principals is None or (deny and not c.http),
        s.not_request_principals is None or True,
        s.ip_blocks is None or _ip_in(s.ip_blocks, c.source_ip),
        s.not_ip_blocks is None or not _ip_in(s.not_ip_blocks, c.source_ip),
        s.remote_ip_blocks is None or _ip_in(s.remote_ip_blocks, c.source_ip),
        s.not_remote_ip_blocks is None or not _ip_in(s.not_remote_ip_blocks, c.source_ip),
    ]
    return all(checks)


def _op_matches(o: Operation, c: Conn, deny: bool) -> bool:
    port = str(c.port)
    on_port = (o.ports is None or port in o.ports) and (o.not_ports is None or port not in o.not_ports)
    if not c.http and any(getattr(o, f) is not None for f in _HTTP_OP_FIELDS):
        # A5 on TCP traffic: an ALLOW rule with HTTP-only fields never matches; a DENY rule drops only
        # those fields, so its ports (and sources, `when`) still narrow it
        return deny and on_port
    checks = [
        on_port,
        o.methods is None or _any(o.methods, c.method),
        o.not_methods is None or not _any(o.not_methods, c.method),
        o.paths is None or _any(o.paths, normalised_path(c.path), path=True),
        o.not_paths is None or not _any(o.not_paths, normalised_path(c.path), path=True),
        o.hosts is None or _any([h.lower() for h in o.hosts], (c.host or "").lower()),
        o.not_hosts is None or not _any([h.lower() for h in o.not_hosts], (c.host or "").lower()),
    ]
    return all(checks)


def _when_matches(rule: AuthzRule, c: Conn, deny: bool) -> bool:
    for cond in rule.conditions:
        value = {
            "source.ip": c.source_ip or "",
            "source.namespace": c.namespace,
            "source.principal": c.principal,
            "destination.port": str(c.port),
            "request.method": c.method if c.http else None,
        }.get(cond.key)
        if value is None and c.http and cond.key.startswith("request.headers[") and cond.key.endswith("]"):
            # A5 `when` on a request header: an absent header is an empty value (`values` fail, `notValues` pass)
            name = cond.key[len("request.headers[") : -1].lower()
            value = next((v for k, v in c.headers if k == name), "")
        if value is None:
            return deny  # cannot be evaluated from the question: conservative per action
        if cond.values is not None and not _any(cond.values, value):
            return False
        if cond.not_values is not None and _any(cond.not_values, value):
            return False
    return True


def rule_matches(rule: AuthzRule, c: Conn, deny: bool) -> bool:
    if rule.sources is not None and not any(_source_matches(s, c, deny) for s in rule.sources):
        return False
    if rule.operations is not None and not any(_op_matches(o, c, deny) for o in rule.operations):
        return False
    return _when_matches(rule, c, deny)


def uses_identity(rule: AuthzRule) -> bool:
    return any(getattr(s, f) is not None for s in rule.sources or () for f in _IDENTITY_FIELDS)


def has_l7(ap: AuthorizationPolicy) -> bool:
    for rule in ap.rules:
        if any(getattr(o, f) is not None for o in rule.operations or () for f in _HTTP_OP_FIELDS):
            return True
        if any(s.request_principals is not None or s.not_request_principals is not None for s in rule.sources or ()):
            return True
        if any(c.key.startswith("request.") for c in rule.conditions):
            return True
    return False


def _would_match_with_identity(rule: AuthzRule, conn: Conn) -> bool:
    """B13 / issue 11 §7: only a rule that would accept this caller once it has its mTLS identity
    is a "needs mTLS" problem; a rule that rejects the caller anyway is a plain deny."""
    if conn.identity_if_mtls is None:
        return False
    principal, namespace = conn.identity_if_mtls
    return rule_matches(rule, replace(conn, mtls=True, principal=principal, namespace=namespace), deny=False)


def applicable(model: Model, pod: Pod) -> list[AuthorizationPolicy]:
    """Selector/namespace/root-namespace policies; targetRefs ones bind to waypoints/gateways only."""
    root = model.istio.mesh.root_namespace
    if model.ap_by_ns is None:  # indexed once per model (with input positions): check asks for every server
        index: dict[str, list[tuple[int, AuthorizationPolicy]]] = {}
        for i, ap in enumerate(model.istio.authz):
            index.setdefault(ap.ref.namespace or "", []).append((i, ap))
        model.ap_by_ns = index
    nearby = model.ap_by_ns.get(root, []) + (model.ap_by_ns.get(pod.namespace, []) if pod.namespace != root else [])
    out = []
    for _, ap in sorted(nearby, key=lambda pair: pair[0]):
        if ap.target_refs:
            continue
        if ap.selector and not all(pod.labels.get(k) == v for k, v in ap.selector.items()):
            continue
        out.append(ap)
    return out


def waypoint_policies(
    model: Model, waypoint_ns: str, waypoint: str, svc_ns: str | None, svc: str | None, entry: str | None = None
) -> list[AuthorizationPolicy]:
    """A5 / issue 11 §1: a waypoint enforces only ``targetRefs`` policies: kind Service (core group,
    the Service's namespace), ServiceEntry (networking.istio.io), Gateway (the waypoint itself,
    gateway.networking.k8s.io) and GatewayClass istio-waypoint (root namespace). ``selector``
    policies are ignored by waypoints."""
    root = model.istio.mesh.root_namespace
    wanted = {
        ("", "Service", svc, svc_ns),
        ("core", "Service", svc, svc_ns),
        ("networking.istio.io", "ServiceEntry", entry, svc_ns),
        ("gateway.networking.k8s.io", "Gateway", waypoint, waypoint_ns),
        ("gateway.networking.k8s.io", "GatewayClass", "istio-waypoint", root),
    }
    return [
        ap
        for ap in model.istio.authz
        if any((group, kind, name, ap.ref.namespace) in wanted for group, kind, name in ap.target_refs)
    ]


def evaluate(model: Model, pod: Pod, conn: Conn, ztunnel: bool, waypoint: str | None = None) -> AuthzResult:
    """Selector / namespace policies at a sidecar or the destination ztunnel (``ztunnel=True``:
    L4 only; a policy with L7 attributes there denies defensively, A5, with or without a waypoint
    in front, since ztunnel still enforces selector policies)."""
    policies = applicable(model, pod)
    if not policies:
        return AuthzResult(Decision.ALLOW, (), "no AuthorizationPolicy applies")
    if ztunnel:
        l7 = [ap for ap in policies if has_l7(ap)]
        if l7:
            refs = tuple(ap.ref for ap in l7)
            why = (
                f"the destination ztunnel enforces this selector policy even behind waypoint {waypoint} and cannot "
                "evaluate HTTP attributes"
                if waypoint
                else "no waypoint serves this ambient workload"
            )
            return AuthzResult(
                Decision.DENY,
                refs,
                f"AuthorizationPolicy {refs[0].namespace}/{refs[0].name} has HTTP attributes but {why}: ztunnel "
                "denies all traffic defensively",
                l7_without_waypoint=True,
            )
    return decide(policies, conn)


def decide(policies: list[AuthorizationPolicy], conn: Conn) -> AuthzResult:
    """A5 order over the policies that apply: CUSTOM, DENY, then ALLOW (none = allow)."""
    if not policies:
        return AuthzResult(Decision.ALLOW, (), "no AuthorizationPolicy applies")
    custom = [ap for ap in policies if ap.action == "CUSTOM" and any(rule_matches(r, conn, True) for r in ap.rules)]
    for ap in policies:
        if ap.action != "DENY":
            continue
        for rule in ap.rules:
            if rule_matches(rule, conn, deny=True):
                ref = ap.ref.with_rule(f"spec.rules[{rule.index}]")
                return AuthzResult(
                    Decision.DENY,
                    (ref,),
                    f"DENY policy {ap.ref.namespace}/{ap.ref.name} rules[{rule.index}] matches",
                    deny_rule=True,
                )
    allows = [ap for ap in policies if ap.action == "ALLOW"]
    if custom:
        ref = custom[0].ref
        return AuthzResult(
            Decision.UNKNOWN,
            (ref,),
            f"CUSTOM policy {ref.namespace}/{ref.name} asks external "
            f"authorizer {custom[0].provider or '?'}: outcome unknown",
            uncertain=True,
        )
    if not allows:
        return AuthzResult(Decision.ALLOW, (), "only AUDIT/DENY policies apply and none matches")
    needs: list[ObjectRef] = []
    for ap in allows:
        for rule in ap.rules:
            if rule_matches(rule, conn, deny=False):
                ref = ap.ref.with_rule(f"spec.rules[{rule.index}]")
                return AuthzResult(
                    Decision.ALLOW,
                    (ref,),
                    f"ALLOW policy {ap.ref.namespace}/{ap.ref.name} rules[{rule.index}] matches",
                )
            if not conn.mtls and uses_identity(rule) and _would_match_with_identity(rule, conn):
                needs.append(ap.ref.with_rule(f"spec.rules[{rule.index}].from"))
    refs = tuple(ap.ref for ap in allows)
    nothing = [ap for ap in allows if not ap.rules]
    if nothing and len(nothing) == len(allows):
        detail = f"ALLOW policy {nothing[0].ref.namespace}/{nothing[0].ref.name} has no rules: allow-nothing"
    else:
        detail = f"ALLOW policies exist ({', '.join(f'{r.namespace}/{r.name}' for r in refs)}) and none matches"
    return AuthzResult(Decision.DENY, refs, detail, needs_mtls=tuple(needs))
