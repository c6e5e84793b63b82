"""Does one allow/deny entry cover this peer and port? (A1.4-A1.8, A2)."""

from __future__ import annotations

import fnmatch
import ipaddress
import re

from kubectl_meshdoctor.model.cilium import CIDRRule, PeerRule, PortProto, PortRule
from kubectl_meshdoctor.model.objects import Peer, Pod
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.selectors import Selector
from kubectl_meshdoctor.model.view import Model

_ENTITY_ALIASES = {"world-ipv4": "world", "world-ipv6": "world"}


def _selector_matches(model: Model, sel: Selector, peer: Peer) -> bool:
    service_reqs = [r for r in sel.requirements if r.key == "@service"]
    if service_reqs:
        if peer.pod is None:
            return False
        for req in service_reqs:
            svc = model.services.get(req.values[0]) if req.values else None
            if svc is None or peer.pod not in pods_for_service(model, svc):
                return False
        return True
    if any(r.key.startswith("@svc-label:") for r in sel.requirements):
        return False  # k8sServiceSelector: not resolved offline [uncertain]
    if not peer.labels and not sel.has_reserved():
        return False  # label selectors never select reserved identities (A1.5)
    return sel.matches(peer.labels, peer.reserved)


def _cidr_matches(model: Model, rule: CIDRRule, peer: Peer) -> bool:
    """A1.6: CIDR rules never select Cilium-managed pods, nor node IPs unless policy-cidr-match-mode=nodes."""
    if peer.pod is not None or not peer.ip or rule.cidr.startswith("group:"):
        return False
    if peer.node_ip and not model.cilium_config.cidr_match_nodes:
        return False
    try:
        ip = ipaddress.ip_address(peer.ip)
        if ip not in ipaddress.ip_network(rule.cidr, strict=False):
            return False
        return not any(ip in ipaddress.ip_network(e, strict=False) for e in rule.excepts)
    except ValueError:
        return False


def _fqdn_matches(pattern: str, peer: Peer) -> bool:
    if not peer.dns_name or peer.pod is not None:
        return False
    return fqdn_pattern_matches(pattern, peer.dns_name)


def fqdn_pattern_matches(pattern: str, name: str) -> bool:
    """A1.6 matchName / matchPattern: `*` alone = every name, `*` = one label, `**.` = any depth."""
    name = name.rstrip(".").lower()
    pattern = pattern.lower()
    if pattern.rstrip(".") == "*":
        return True
    if pattern.startswith("**."):
        return name.endswith(pattern[2:]) or fnmatch.fnmatchcase(name, pattern[3:])
    if "*" in pattern:
        # `*` stays inside one label (Cilium turns it into a DNS-character class without the dot)
        regex = "".join("[^.]*" if ch == "*" else re.escape(ch) for ch in pattern.rstrip("."))
        return re.fullmatch(regex, name) is not None
    return name == pattern.rstrip(".")


def peer_matches(model: Model, entry: PeerRule, peer: Peer) -> bool:
    """Matching the L3 part of one entry. Absent fields do not restrict; [] selects nothing."""
    if entry.empty_entry:
        return False  # A1.8: `{}` is allow-nothing in the classic engine (see empty-rule-semantics)
    if not entry.has_l3():
        return True  # L4-only entry: any peer (incl. world/host) on those ports
    if entry.endpoints and any(_selector_matches(model, s, peer) for s in entry.endpoints):
        return True
    if entry.entities:
        ents = {_ENTITY_ALIASES.get(e, e) for e in entry.entities}
        if ents & peer.entities:
            return True
    if entry.cidrs and any(_cidr_matches(model, c, peer) for c in entry.cidrs):
        return True
    if entry.services and any(_selector_matches(model, s, peer) for s in entry.services):
        return True
    return bool(entry.fqdns and any(_fqdn_matches(f, peer) for f in entry.fqdns))


def _port_value(proto: PortProto, port_owner: Pod | None, protocol: str) -> tuple[int, int] | None:
    text = proto.port or "0"
    if text.isdigit():
        start = int(text)
        if start == 0:
            return (0, 65535)
        return (start, proto.end_port if proto.end_port and proto.end_port >= start else start)
    if port_owner is None:
        return None
    # A1.7: named ports resolve on the destination pod, for the packet's protocol (a name declared
    # only for SCTP does not open UDP)
    number = port_owner.named_port(text, protocol)
    return (number, number) if number is not None else None


def port_rule_matches(rule: PortRule, port: int, protocol: str, port_owner: Pod | None) -> bool:
    if not rule.ports:
        return True
    for proto in rule.ports:
        if proto.protocol not in ("ANY", "", protocol):
            continue
        span = _port_value(proto, port_owner, protocol)
        if span is not None and span[0] <= port <= span[1]:
            return True
    return False


def matching_port_rules(entry: PeerRule, port: int, protocol: str, port_owner: Pod | None) -> list[PortRule]:
    """Port rules of an entry that cover the port; an entry without toPorts covers all ports."""
    if not entry.to_ports:
        return [PortRule((), None, (), "")]
    return [r for r in entry.to_ports if port_rule_matches(r, port, protocol, port_owner)]
