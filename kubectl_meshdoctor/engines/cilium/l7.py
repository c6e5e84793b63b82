"""Cilium HTTP rules (A1.9): regexes on method/path/host, whole-path match, union of rules."""

from __future__ import annotations

import re
from collections.abc import Mapping

from kubectl_meshdoctor.model.cilium import HTTPRule


def _full(pattern: str | None, value: str, flags: int = 0) -> bool:
    if pattern is None or pattern == "":
        return True
    try:
        return re.fullmatch(pattern, value, flags) is not None
    except re.error:
        return False


def http_rule_matches(rule: HTTPRule, method: str, path: str, host: str | None, headers: Mapping[str, str]) -> bool:
    """A rule matches when all its fields match; the path regex must match the whole path."""
    if not _full(rule.method, method):
        return False
    if not _full(rule.path, path.split("?", 1)[0]):
        return False
    if rule.host and not _full(rule.host, host or "", re.IGNORECASE):
        return False
    lower = {k.lower(): v for k, v in headers.items()}
    for name in rule.headers:
        key, _, value = name.partition(" ")
        if key.lower() not in lower or (value and lower[key.lower()] != value):
            return False
    for name, expected in rule.header_matches:
        if name.lower() not in lower or (expected is not None and lower[name.lower()] != expected):
            return False
    return True
