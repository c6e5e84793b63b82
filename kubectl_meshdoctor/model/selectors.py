"""Label selectors (matchLabels / matchExpressions) over Cilium identity labels.

Cilium keys may carry a source prefix (A1.3): ``k8s:app`` matches only k8s-sourced
labels, ``any:app`` and a bare ``app`` match any source, ``reserved:world`` matches
the reserved identity. Pod labels are all k8s-sourced here, reserved identities
carry the ``reserved`` source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.model.frozen import maker

SOURCES = ("k8s", "any", "reserved", "cidr", "unspec", "container")
_SOURCE_SET = frozenset(SOURCES)
_OPERATORS = frozenset(("In", "NotIn", "Exists", "DoesNotExist"))


def split_key(key: str) -> tuple[str, str]:
    """'k8s:app' -> ('k8s', 'app'); 'app' -> ('any', 'app')."""
    head, sep, rest = key.partition(":")
    if sep and head in _SOURCE_SET:
        return head, rest
    return "any", key


@dataclass(frozen=True, slots=True)
class Requirement:
    source: str  # k8s | any | reserved | ...
    key: str
    op: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str], reserved: frozenset[str]) -> bool:
        if self.source == "reserved":
            present = self.key in reserved
            value: str | None = "" if present else None
        elif self.source in ("k8s", "any"):
            value = labels.get(self.key)
        else:
            value = None
        if self.op == "In":
            return value is not None and value in self.values
        if self.op == "NotIn":
            return value is None or value not in self.values
        if self.op == "Exists":
            return value is not None
        if self.op == "DoesNotExist":
            return value is None
        return False


@dataclass(frozen=True, slots=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()
    valid: bool = True  # False: unknown operator etc.; matches nothing

    def matches(self, labels: Mapping[str, str], reserved: frozenset[str] = frozenset()) -> bool:
        if not self.valid:
            return False
        return all(r.matches(labels, reserved) for r in self.requirements)

    def mentions(self, key: str) -> bool:
        return any(r.key == key and r.source in ("k8s", "any") for r in self.requirements)

    def mentions_prefix(self, prefix: str) -> bool:
        return any(r.key.startswith(prefix) and r.source in ("k8s", "any") for r in self.requirements)

    def has_reserved(self) -> bool:
        return any(r.source == "reserved" for r in self.requirements)

    def plus(self, *reqs: Requirement) -> Selector:
        return make_selector(self.requirements + reqs, self.valid)

    def is_empty(self) -> bool:
        return not self.requirements

    def describe(self) -> str:
        if not self.requirements:
            return "{}"
        parts = []
        for r in self.requirements:
            key = r.key if r.source == "any" else f"{r.source}:{r.key}"
            if r.op == "In" and len(r.values) == 1:
                parts.append(f"{key}={r.values[0]}")
            elif r.op in ("In", "NotIn"):
                parts.append(f"{key} {r.op} [{', '.join(r.values)}]")
            else:
                parts.append(f"{key} {r.op}")
        return ", ".join(parts)


# Requirement(...) and Selector(...) with every field given, made as fast as unfrozen ones (model/frozen.py)
make_requirement = maker(Requirement)
make_selector = maker(Selector)


def parse_selector(raw: Any, key_prefix: str = "") -> Selector:
    """Parse a Kubernetes LabelSelector; ``key_prefix`` rewrites keys (KNP namespaceSelector)."""
    if raw is None:
        return make_selector((), True)
    if not isinstance(raw, dict):
        return make_selector((), False)
    reqs: list[Requirement] = []
    valid = True
    match_labels = raw.get("matchLabels") or {}
    if isinstance(match_labels, dict):
        # one label (most selectors) needs no sorting
        for key, value in sorted(match_labels.items()) if len(match_labels) > 1 else match_labels.items():
            source, bare = split_key(str(key))
            reqs.append(make_requirement(source, key_prefix + bare, "In", (str(value),)))
    else:
        valid = False
    expressions = raw.get("matchExpressions")
    if not expressions:
        return make_selector(tuple(reqs), valid)
    for expr in expressions:
        if not isinstance(expr, dict):
            valid = False
            continue
        source, bare = split_key(str(expr.get("key", "")))
        op = str(expr.get("operator", ""))
        if op not in _OPERATORS:
            valid = False
        values = tuple([str(v) for v in expr.get("values") or []])
        reqs.append(make_requirement(source, key_prefix + bare, op, values))
    return make_selector(tuple(reqs), valid)
