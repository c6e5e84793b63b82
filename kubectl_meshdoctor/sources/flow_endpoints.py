"""The endpoint parts of Hubble's ``FlowFilter``: pods and services (``[ns/]prefix``), IPs and CIDRs,
and Kubernetes label selectors matched against a flow endpoint's ``source:key=value`` labels, as
Relay evaluates them (hubble-api.md §2.2)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubectl_meshdoctor._proto import flow_pb2

_Pred = Callable[[flow_pb2.Flow], bool]
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def ns_prefix(spec: str, what: str) -> tuple[str | None, str]:
    """Split ``[ns/]prefix``: "ns/x" → (ns, x), "ns/" → (ns, ""), "/x" → (any, x), "x" → (default, x)."""
    if not spec:
        raise ValueError(f"empty {what} filter")
    if "/" in spec:
        ns, _, prefix = spec.partition("/")
        return (ns or None), prefix
    return "default", spec


def _named_pred(specs: Sequence[str], side: str, what: str, name: str) -> _Pred:
    """``[ns/]prefix`` filters on an endpoint's namespace and the start of its ``name`` field."""
    parsed = [ns_prefix(s, what) for s in specs]

    def pred(flow: flow_pb2.Flow) -> bool:
        ep = getattr(flow, side)
        value = getattr(ep, name)
        if not ep.namespace and not value:
            return False
        return any((ns is None or ns == ep.namespace) and value.startswith(p) for ns, p in parsed)

    return pred


def pod_pred(specs: Sequence[str], side: str) -> _Pred:
    return _named_pred(specs, side, "pod", "pod_name")


def service_pred(specs: Sequence[str], side: str) -> _Pred:
    return _named_pred(specs, side, "service", "name")


def ip_pred(specs: Sequence[str], attr: str) -> _Pred:
    nets: list[_Network] = []
    exact: set[str] = set()
    for spec in specs:
        if "/" in spec:
            nets.append(ipaddress.ip_network(spec, strict=False))
        else:
            exact.add(str(ipaddress.ip_address(spec)))

    def pred(flow: flow_pb2.Flow) -> bool:
        raw = getattr(flow.IP, attr)
        if not raw:
            return False
        if raw in exact:
            return True
        try:
            addr = ipaddress.ip_address(raw)
        except ValueError:
            return False
        return str(addr) in exact or any(addr in net for net in nets)

    return pred


# Kubernetes label-selector requirement: key, !key, key=v, key==v, key!=v, key in (a,b), key notin (a,b).
_REQ_RE = re.compile(
    r"^\s*(?:(?P<not>!)\s*(?P<nkey>[^\s=!(),]+)"
    r"|(?P<key>[^\s=!(),]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[^\s,()]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<vals>[^)]*)\))?)\s*$"
)


def _split_key(key: str) -> tuple[str | None, str]:
    """``k8s:app`` → ("k8s", "app"); ``app`` / ``any:app`` → (any source, "app")."""
    source, sep, name = key.partition(":")
    if not sep:
        return None, key
    return (None if source == "any" else source), name


def _parse_label(label: str) -> tuple[str, str, str]:
    """Endpoint label ``source:key=value`` → (source, key, value)."""
    source, sep, rest = label.partition(":")
    if not sep:
        source, rest = "", label
    key, _, value = rest.partition("=")
    return source, key, value


def _split_requirements(selector: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(selector):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    parts.append(selector[start:])
    return parts


@dataclass(frozen=True, slots=True)
class _Requirement:
    source: str | None  # None = any label source
    key: str
    op: str  # "exists" | "!exists" | "in" | "notin"  (= and != are one-value in/notin)
    values: frozenset[str]

    def ok(self, labels: Sequence[tuple[str, str, str]]) -> bool:
        found = [v for s, k, v in labels if k == self.key and (self.source is None or s == self.source)]
        if self.op == "exists":
            return bool(found)
        if self.op == "!exists":
            return not found
        hit = any(v in self.values for v in found)
        return hit if self.op == "in" else not hit


def _selector(selector: str) -> Callable[[Sequence[str]], bool]:
    reqs: list[_Requirement] = []
    for req in _split_requirements(selector):
        m = _REQ_RE.match(req)
        if m is None or not (m["key"] or m["nkey"]):
            raise ValueError(f"bad label selector {selector!r}")
        source, key = _split_key(m["nkey"] or m["key"])
        if m["not"]:
            op, values = "!exists", frozenset[str]()
        elif m["op"]:
            op, values = ("notin" if m["op"] == "!=" else "in"), frozenset((m["val"],))
        elif m["setop"]:
            op, values = m["setop"], frozenset(v.strip() for v in m["vals"].split(",") if v.strip())
        else:
            op, values = "exists", frozenset()
        reqs.append(_Requirement(source, key, op, values))

    def match(labels: Sequence[str]) -> bool:
        parsed = [_parse_label(label) for label in labels]
        return all(r.ok(parsed) for r in reqs)

    return match


def label_pred(selectors: Sequence[str], side: str) -> _Pred:
    compiled = [_selector(s) for s in selectors]
    return lambda flow: any(sel(getattr(flow, side).labels) for sel in compiled)
