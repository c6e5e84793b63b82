"""Fewer lists when many namespaces are read (issue 19, live triage at L).

Reading the objects of N namespaces lists each namespaced kind N times, and most of those lists are
small or empty (a few Gateways, AuthorizationPolicies or ServiceEntries in a cluster of hundreds of
namespaces). ``wide_list`` asks each such kind for the whole cluster first: when that list takes at
most one page per 4 asked namespaces (the first page says how many objects remain), it is read to
the end, page by page, and the objects of the asked namespaces are kept from each page; a longer list
(Pods, most often), or one that fails (RBAC may allow listing in namespaces only, an expired
``continue``, a timeout), is listed per namespace as before, so what is read, and every gap, is
what the per-namespace lists give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kubectl_meshdoctor.raw import RawObject

__all__ = ["WIDE_FROM", "wide_list"]

WIDE_FROM = 8  # namespaces asked from which the cluster-wide list of each kind is tried first
PAGES_PER_NAMESPACES = 4  # a cluster-wide list is read when it takes at most a page per 4 namespaces

_Get = Callable[[str, Sequence[tuple[str, str]]], dict[str, Any]]


def _pages(get: _Get, path: str, api_version: str, kind: str, page: int, wanted: frozenset[str], most: int,
           errors: tuple[type[Exception], ...]) -> list[RawObject] | None:  # fmt: skip
    """The kind's objects in ``wanted`` from the cluster-wide list, when it takes at most ``most``
    pages (the first page says how many remain); None: list it per namespace."""
    out: list[RawObject] = []
    query = [("limit", str(page))]
    for n in range(most):
        try:
            doc = get(path, query)
        except errors:
            return None
        meta = doc.get("metadata") or {}
        out += [
            RawObject({"apiVersion": api_version, "kind": kind, **item})
            for item in doc.get("items") or []
            if isinstance(item, dict) and (item.get("metadata") or {}).get("namespace") in wanted
        ]
        token = meta.get("continue")
        if not token:
            return out
        remaining = meta.get("remainingItemCount")
        if n == 0 and (not isinstance(remaining, int) or 1 + -(-remaining // page) > most):
            return None
        query = [("limit", str(page)), ("continue", str(token))]
    return None


def wide_list(get: _Get, path: str, api_version: str, kind: str, namespaces: Sequence[str], page: int,
              errors: tuple[type[Exception], ...]) -> list[RawObject] | None:  # fmt: skip
    """The objects in ``namespaces`` of the kind at cluster-wide ``path``, or None when it must be
    listed per namespace (KubeReader.read starts those lists as soon as this says so)."""
    most = max(1, len(namespaces) // PAGES_PER_NAMESPACES)
    return _pages(get, path, api_version, kind, page, frozenset(namespaces), most, errors)
