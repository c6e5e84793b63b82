"""Raw CNP/CCNP/KNP dicts -> PolicyRule (semantics.md A1.1-A1.10, A2)."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.cilium import (
    CIDRRule,
    HeaderMatch,
    HTTPRule,
    PeerRule,
    PolicyRule,
    PortProto,
    PortRule,
)
from kubectl_meshdoctor.model.frozen import maker
from kubectl_meshdoctor.model.objects import NS_KEY, NS_LABEL_PREFIX
from kubectl_meshdoctor.model.raw_memo import RawMemo
from kubectl_meshdoctor.model.selectors import Selector, make_requirement, make_selector, parse_selector
from kubectl_meshdoctor.raw import json_key

_L3_FIELDS = {
    "ingress": ("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet", None, None),
    "egress": ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet", "toServices", "toFQDNs"),
}

# A1.6: node and cloud-group peers; they never select a pod
_OTHER_L3 = {"ingress": ("fromNodes", "fromGroups"), "egress": ("toNodes", "toGroups")}


# PolicyRule(...), PeerRule(...) etc. with every field given, made as fast as unfrozen ones (model/frozen.py)
_policy_rule = maker(PolicyRule)
_peer_rule_of = maker(PeerRule)
_port_rule = maker(PortRule)
_port_proto = maker(PortProto)


class PolicyInvalid(Exception):
    pass


def _scope_peer(sel: Selector, namespace: str | None, warnings: list[str], where: str) -> Selector:
    """A1.4: the implicit namespace scoping of fromEndpoints/toEndpoints selectors."""
    # one pass for Selector.mentions(NS_KEY), has_reserved() and mentions_prefix(NS_LABEL_PREFIX)
    by_labels = False
    for r in sel.requirements:
        if r.source == "reserved":
            return sel
        if r.source in ("k8s", "any"):
            if r.key == NS_KEY:
                return sel
            by_labels = by_labels or r.key.startswith(NS_LABEL_PREFIX)
    if by_labels:
        if namespace is not None:
            warnings.append(
                f"{where}: selects peers by namespace labels inside a CiliumNetworkPolicy; Cilium 1.17+ "
                "honours it across namespaces, older docs say it is ignored [uncertain]"
            )
        return sel
    if namespace is not None:
        return sel.plus(make_requirement("any", NS_KEY, "In", (namespace,)))
    return sel.plus(make_requirement("any", NS_KEY, "Exists", ()))


def _header_match(raw: Any) -> HeaderMatch:
    raw = raw if isinstance(raw, dict) else {}
    secret = raw.get("secret") if isinstance(raw.get("secret"), dict) else None
    value = raw.get("value")
    mismatch = raw.get("mismatch")
    return HeaderMatch(
        name=str(raw.get("name", "")),
        value=None if value in (None, "") else str(value),
        mismatch=str(mismatch).upper() if mismatch else None,
        secret=f"{secret.get('namespace') or ''}/{secret.get('name') or ''}" if secret else None,
    )


def _shared_ports(raw: Any, path: str, memo: RawMemo | None) -> tuple[PortRule, ...]:
    """``_ports``, shared between equal toPorts (their rules do not hold the path; an error does,
    and is never remembered)."""
    text = json_key(raw) if memo is not None and raw is not None else None
    if memo is None or text is None:
        return _ports(raw, path)
    key = (text, "toPorts")
    held: tuple[PortRule, ...] | None = memo.find(key, raw)
    if held is None:
        held = _ports(raw, path)
        memo.keep(key, raw, held)
    return held


def _ports(raw: Any, path: str) -> tuple[PortRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PolicyInvalid(f"{path}.toPorts is not a list")
    out: list[PortRule] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise PolicyInvalid(f"{path}.toPorts[{i}] is not an object")
        ports = []
        for p in entry.get("ports") or []:
            proto = str(p.get("protocol") or "ANY").upper()
            end = p.get("endPort")
            text = str(p.get("port", "0") or "0")
            if text.isdigit() and int(text) > 65535:
                # the CRD pattern is unanchored and lets it through; the agent cannot parse it (A1.1)
                raise PolicyInvalid(f"{path}.toPorts[{i}].ports: port {text} is not 0-65535")
            ports.append(_port_proto(text, int(end) if end else None, proto))
        rules = entry.get("rules") or {}
        l7: str | None = None
        http: list[HTTPRule] = []
        dns: list[tuple[str, str]] = []
        if rules and isinstance(rules, dict):  # most entries have no rules
            kinds = [k for k in ("http", "kafka", "dns", "l7proto") if rules.get(k) is not None]
            if len(kinds) > 1:
                raise PolicyInvalid(f"{path}.toPorts[{i}].rules mixes {', '.join(kinds)}")
            l7 = kinds[0] if kinds else None
            for j, h in enumerate(rules.get("http") or []):
                h = h or {}
                matches = tuple(_header_match(m) for m in h.get("headerMatches") or [])
                http.append(
                    HTTPRule(
                        method=h.get("method"),
                        path=h.get("path"),
                        host=h.get("host"),
                        headers=tuple(str(x) for x in h.get("headers") or []),
                        header_matches=matches,
                        index=j,
                    )
                )
            for d in rules.get("dns") or []:
                d = d if isinstance(d, dict) else {}
                for key in ("matchName", "matchPattern"):
                    if d.get(key):
                        dns.append((key, str(d[key])))
        out.append(_port_rule(tuple(ports), l7, tuple(http), f"toPorts[{i}]", tuple(dns)))
    return tuple(out)


def _cidrs(entry: dict[str, Any], plain: str, cset: str) -> tuple[CIDRRule, ...] | None:
    if plain not in entry and cset not in entry:
        return None
    out = [CIDRRule(str(c), ()) for c in entry.get(plain) or []]
    for c in entry.get(cset) or []:
        if isinstance(c, dict) and c.get("cidr"):
            out.append(CIDRRule(str(c["cidr"]), tuple([str(x) for x in c.get("except") or []])))
        elif isinstance(c, dict) and c.get("cidrGroupRef"):
            out.append(CIDRRule(f"group:{c['cidrGroupRef']}", ()))
    return tuple(out)


def _peer_rules(
    raw: Any,
    direction: str,
    deny: bool,
    base: str,
    namespace: str | None,
    warnings: list[str],
    memo: RawMemo | None = None,
) -> tuple[PeerRule, ...]:
    """``memo``: an entry equal to one read before, at the same path of a policy in the same
    namespace, is that entry's rule again, with the same warnings (model/raw_memo.py)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PolicyInvalid(f"{base} is not a list")
    out: list[PeerRule] = []
    for i, entry in enumerate(raw):
        path = f"{base}[{i}]"
        if memo is None:
            out.append(_peer_rule(entry, direction, deny, path, namespace, warnings, None))
            continue
        text = json_key(entry)
        if text is None:  # not to be remembered (model/raw_memo.py)
            out.append(_peer_rule(entry, direction, deny, path, namespace, warnings, memo))
            continue
        key = (text, path, namespace, direction, deny)
        held = memo.find(key, entry)
        if held is None:
            start = len(warnings)
            held = (_peer_rule(entry, direction, deny, path, namespace, warnings, memo), tuple(warnings[start:]))
            memo.keep(key, entry, held)
        else:
            warnings.extend(held[1])
        out.append(held[0])
    return tuple(out)


def _peer_rule(
    entry: Any, direction: str, deny: bool, path: str, namespace: str | None, warnings: list[str], memo: RawMemo | None
) -> PeerRule:
    ep_f, ent_f, cidr_f, cset_f, svc_f, fqdn_f = _L3_FIELDS[direction]
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise PolicyInvalid(f"{path} is not an object")
    endpoints = None
    if ep_f in entry:
        found = []
        for s in entry.get(ep_f) or []:
            found.append(_scope_peer(parse_selector(s), namespace, warnings, path))
        endpoints = tuple(found)
    entities = tuple([str(e) for e in entry.get(ent_f) or []]) if ent_f in entry else None
    services = None
    if svc_f and svc_f in entry:
        services = tuple([_service_selector(s, namespace) for s in entry.get(svc_f) or []])
    fqdns = None
    if fqdn_f and fqdn_f in entry:
        fqdns = tuple([str(f.get("matchName") or f.get("matchPattern") or "") for f in entry[fqdn_f] or []])
    raw_ports = entry.get("toPorts")
    to_ports = () if raw_ports is None else _shared_ports(raw_ports, path, memo)
    node_f, group_f = _OTHER_L3[direction]
    if node_f in entry:
        other_l3: tuple[str, ...] | None = (node_f, group_f) if group_f in entry else (node_f,)
    else:
        other_l3 = (group_f,) if group_f in entry else None
    if deny and any(p.l7 for p in to_ports):
        raise PolicyInvalid(f"{path}: deny rules cannot carry L7 rules")
    cidrs = _cidrs(entry, cidr_f, cset_f)
    auth: Any = entry.get("authentication")
    auth_required = bool(auth) and str(auth.get("mode") or "disabled") != "disabled"
    # PeerRule.has_l3: any L3 field present
    empty_entry = (
        not to_ports
        and endpoints is None
        and entities is None
        and cidrs is None
        and services is None
        and fqdns is None
        and other_l3 is None
    )
    return _peer_rule_of(  # the fields of PeerRule, in their order
        path, endpoints, entities, cidrs, services, fqdns, to_ports, deny, empty_entry, other_l3, auth_required
    )


def _service_selector(raw: Any, namespace: str | None) -> Selector:
    """toServices: the service's pods; resolved against Services later by name labels."""
    svc = (raw or {}).get("k8sService") or {}
    if svc:
        ns = svc.get("namespace") or namespace or ""
        return make_selector(
            (make_requirement("any", "@service", "In", (f"{ns}/{svc.get('serviceName', '')}",)),), True
        )
    sel = (raw or {}).get("k8sServiceSelector") or {}
    return parse_selector(sel.get("selector"), key_prefix="@svc-label:")


_SECTIONS = (
    ("ingress", "ingress", False),
    ("ingressDeny", "ingress", True),
    ("egress", "egress", False),
    ("egressDeny", "egress", True),
)


def parse_cnp(
    doc: dict[str, Any], ref: ObjectRef, clusterwide: bool, warnings: list[str], memo: RawMemo | None = None
) -> list[PolicyRule]:
    """A1.1: iterate [spec] + specs; any invalid rule rejects the whole object. ``memo``: share what
    is read between the policies of one build (model/raw_memo.py)."""
    spec = doc.get("spec")
    specs = doc.get("specs")
    raw_rules: list[tuple[str, Any]] = [("spec", spec)] if isinstance(spec, dict) else []
    if isinstance(specs, list):
        for i, s in enumerate(specs):
            raw_rules.append((f"specs[{i}]", s))
    if not raw_rules:
        raise PolicyInvalid("empty policy: neither spec nor specs")
    # a namespaced manifest without metadata.namespace lands in the namespace it is applied to
    # (kubectl's default, "default"); it never becomes clusterwide
    namespace = None if clusterwide else (ref.namespace or "default")
    out: list[PolicyRule] = []
    for path, raw in raw_rules:
        if not isinstance(raw, dict):
            raise PolicyInvalid(f"{path} is not an object")
        has_ep = "endpointSelector" in raw
        has_node = "nodeSelector" in raw
        if has_ep == has_node:
            raise PolicyInvalid(f"{path}: exactly one of endpointSelector / nodeSelector is required")
        if has_node and not clusterwide:
            raise PolicyInvalid(f"{path}: nodeSelector is only allowed in a CiliumClusterwideNetworkPolicy")
        subject = _subject(raw.get("endpointSelector") or raw.get("nodeSelector") or {}, namespace, memo)
        edd = raw.get("enableDefaultDeny") or {}
        # the sections, in the order they are read (an error names the first bad one)
        ingress, ingress_deny, egress, egress_deny = [
            ()
            if (entries := raw.get(key)) is None
            else _peer_rules(entries, direction, deny, f"{path}.{key}", namespace, warnings, memo)
            for key, direction, deny in _SECTIONS
        ]
        if edd:
            edd_ingress, edd_egress = edd.get("ingress"), edd.get("egress")
            edd_ingress = edd_ingress if isinstance(edd_ingress, bool) else None
            edd_egress = edd_egress if isinstance(edd_egress, bool) else None
        else:
            edd_ingress = edd_egress = None
        out.append(
            _policy_rule(  # the fields of PolicyRule, in their order
                ref,
                path,
                namespace,
                subject,
                has_node,
                ingress,
                ingress_deny,
                egress,
                egress_deny,
                edd_ingress,
                edd_egress,
                False,
                bool(ingress or ingress_deny),
                bool(egress or egress_deny),
            )
        )
    return out


def _subject(raw: Any, namespace: str | None, memo: RawMemo | None) -> Selector:
    text = json_key(raw) if memo is not None else None
    if memo is None or text is None:
        return _read_subject(raw, namespace)
    key = (text, "subject", namespace)
    held: Selector | None = memo.find(key, raw)
    if held is None:
        held = _read_subject(raw, namespace)
        memo.keep(key, raw, held)
    return held


def _read_subject(raw: Any, namespace: str | None) -> Selector:
    subject = parse_selector(raw)
    if namespace is not None:
        subject = subject.plus(make_requirement("any", NS_KEY, "In", (namespace,)))
    return subject


def _knp_peers(raw: Any, namespace: str, path: str) -> tuple[tuple[Selector, ...], tuple[CIDRRule, ...]]:
    """A2: each element ORed; namespaceSelector AND podSelector inside one element."""
    sels: list[Selector] = []
    cidrs: list[CIDRRule] = []
    for element in raw or []:
        element = element or {}
        if "ipBlock" in element:
            block = element["ipBlock"] or {}
            cidrs.append(CIDRRule(str(block.get("cidr", "")), tuple([str(x) for x in block.get("except") or []])))
            continue
        has_ns = "namespaceSelector" in element
        has_pod = "podSelector" in element
        if not has_ns and not has_pod:
            raise PolicyInvalid(f"{path}: peer without podSelector, namespaceSelector or ipBlock")
        sel = parse_selector(element.get("podSelector")) if has_pod else make_selector((), True)
        if has_ns:
            ns_sel = parse_selector(element.get("namespaceSelector"), key_prefix=NS_LABEL_PREFIX)
            if not ns_sel.requirements:
                ns_sel = make_selector((make_requirement("any", NS_KEY, "Exists", ()),), True)
            sel = make_selector(sel.requirements + ns_sel.requirements, sel.valid and ns_sel.valid)
        else:
            sel = sel.plus(make_requirement("any", NS_KEY, "In", (namespace,)))
        sels.append(sel)
    return tuple(sels), tuple(cidrs)


def _knp_ports(raw: Any) -> tuple[PortRule, ...]:
    if not raw:
        return ()
    ports = []
    for p in raw:
        p = p or {}
        proto = str(p.get("protocol") or "TCP").upper()
        end = p.get("endPort")
        ports.append(
            _port_proto(
                str(p.get("port", "0") if p.get("port") is not None else "0"),
                int(end) if end else None,
                proto,
            )
        )
    return (_port_rule(tuple(ports), None, (), "ports", ()),)


def _knp_section(raw: Any, base: str, peer_key: str, namespace: str) -> tuple[PeerRule, ...]:
    if not raw:
        return ()
    rules: list[PeerRule] = []
    for i, entry in enumerate(raw):
        entry = entry or {}
        path = f"{base}[{i}]"
        to_ports = _knp_ports(entry.get("ports"))
        if peer_key in entry and entry.get(peer_key):
            sels, cidrs = _knp_peers(entry.get(peer_key), namespace, path)
            rules.append(_peer_rule_of(path, sels, None, cidrs, None, None, to_ports, False, False, None, False))
        else:
            # A2: no from/to = every peer (the opposite of the CNP reading of {}).
            rules.append(_peer_rule_of(path, None, ("all",), None, None, None, to_ports, False, False, None, False))
    return tuple(rules)


def parse_knp(doc: dict[str, Any], ref: ObjectRef) -> list[PolicyRule]:
    spec = doc.get("spec") or {}
    namespace = ref.namespace or "default"
    subject = parse_selector(spec.get("podSelector") or {}).plus(make_requirement("any", NS_KEY, "In", (namespace,)))
    types = spec.get("policyTypes")
    if not types:
        # A2 / API defaulting: omitted or empty -> Ingress, plus Egress when there are egress rules
        # ("will be set if the NetworkPolicy has any egress rules": `egress: []` has none)
        types = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    ingress = _knp_section(spec.get("ingress"), "spec.ingress", "from", namespace)
    egress = _knp_section(spec.get("egress"), "spec.egress", "to", namespace)
    return [
        _policy_rule(  # the fields of PolicyRule, in their order
            ref,
            "",
            namespace,
            subject,
            False,
            ingress,
            (),
            egress,
            (),
            "Ingress" in types,
            "Egress" in types,
            True,
            "Ingress" in types,
            "Egress" in types,
        )
    ]
