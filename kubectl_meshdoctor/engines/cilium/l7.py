"""Cilium HTTP rules (A1.9): regexes on method/path/host, headers, whole-path match, union of rules.

Cilium hands each rule to its Envoy as header matchers: ``:method``, ``:path`` and ``:authority``
as anchored regexes; each ``headers`` entry "Name" (presence) or "Name: value" / "Name value"
(exact value; the key's trailing ':' is dropped); each ``headerMatches`` entry an exact value or
presence, where a ``mismatch`` action (LOG/ADD/DELETE/REPLACE) lets a mismatching request through
(logged or rewritten) instead of denying it, and a value kept in a Secret is not known here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kubectl_meshdoctor.model.cilium import HeaderMatch, HTTPRule


def _full(pattern: str | None, value: str, flags: int = 0) -> bool:
    if pattern is None or pattern == "":
        return True
    try:
        return re.fullmatch(pattern, value, flags) is not None
    except re.error:
        return False


def parse_header(entry: str) -> tuple[str, str | None]:
    """``headers`` entry -> (lower-case name, exact value or None for presence)."""
    key, sep, value = entry.strip().partition(" ")
    key = key.rstrip(":") if sep else key
    return key.lower(), (value if sep else None)


def _header_match(m: HeaderMatch, lower: Mapping[str, str]) -> bool | None:
    """True matches, False denies, None: cannot tell (the value lives in a Secret)."""
    if m.mismatch:
        return True  # LOG / ADD / DELETE / REPLACE: a mismatch is logged or rewritten, not denied
    name = m.name.lower()
    if m.secret and m.value is None:
        return None
    if name not in lower:
        return False
    return m.value is None or lower[name] == m.value


def http_rule_verdict(
    rule: HTTPRule, method: str, path: str, host: str | None, headers: Mapping[str, str]
) -> bool | None:
    """A rule matches when all its fields match (None: it depends on a Secret's value)."""
    if not _full(rule.method, method):
        return False
    # Envoy's `:path` carries the query string; whether Cilium's regex sees it is not settled here,
    # so a rule whose verdict depends on the query is undecided (None) rather than a guess
    bare = path.split("?", 1)[0]
    on_bare, on_full = _full(rule.path, bare), _full(rule.path, path)
    if not on_bare and not on_full:
        return False
    query_unsure = on_bare != on_full
    if rule.host and not _full(rule.host, host or "", re.IGNORECASE):
        return False
    lower = {k.lower(): v for k, v in headers.items()}
    for entry in rule.headers:
        name, value = parse_header(entry)
        if name not in lower or (value is not None and lower[name] != value):
            return False
    unknown = False
    for m in rule.header_matches:
        result = _header_match(m, lower)
        if result is False:
            return False
        unknown = unknown or result is None
    return None if unknown or query_unsure else True


def http_rule_matches(rule: HTTPRule, method: str, path: str, host: str | None, headers: Mapping[str, str]) -> bool:
    return http_rule_verdict(rule, method, path, host, headers) is True


def describe_rule(rule: HTTPRule) -> str:
    """``{method: GET, path: /ip, headers: [X-Token]}``: the fields a reader compares with the request."""
    parts = [f"method: {rule.method or '*'}", f"path: {rule.path or '*'}"]
    if rule.host:
        parts.append(f"host: {rule.host}")
    if rule.headers:
        parts.append(f"headers: [{', '.join(rule.headers)}]")
    if rule.header_matches:
        shown = [
            f"{m.name}={m.value if m.value is not None else ('<secret>' if m.secret else '*')}"
            + (f" (mismatch: {m.mismatch})" if m.mismatch else "")
            for m in rule.header_matches
        ]
        parts.append(f"headerMatches: [{', '.join(shown)}]")
    return "{" + ", ".join(parts) + "}"
