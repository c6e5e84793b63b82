"""Fewer lists when many namespaces are read (issue 19, live triage at L).

Reading the objects of N namespaces lists each namespaced kind N times, and most of those lists are
empty (a few Gateways, AuthorizationPolicies or ServiceEntries in a cluster of hundreds of
namespaces). ``wide_first`` asks each such kind once for the whole cluster, one page: when that
page is the whole list (no ``continue``), the objects of the asked namespaces are kept from it and
the kind needs no other request; a kind with more objects than one page (Pods, most often), or whose
cluster-wide list fails (RBAC may allow listing in namespaces only, a timeout), is listed per
namespace as before, so what is read, and every gap, is what the per-namespace lists give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubectl_meshdoctor.raw import RawObject

__all__ = ["WIDE_FROM", "wide_first"]

WIDE_FROM = 8  # namespaces asked from which one cluster-wide page per kind is tried first

_Get = Callable[[str, Sequence[tuple[str, str]]], dict[str, Any]]


def _one_page(get: _Get, path: str, api_version: str, kind: str, page: int, wanted: frozenset[str],
              errors: tuple[type[Exception], ...]) -> list[RawObject] | None:  # fmt: skip
    try:
        doc = get(path, [("limit", str(page))])
    except errors:
        return None
    if (doc.get("metadata") or {}).get("continue"):
        return None
    return [
        RawObject({"apiVersion": api_version, "kind": kind, **item})
        for item in doc.get("items") or []
        if isinstance(item, dict) and (item.get("metadata") or {}).get("namespace") in wanted
    ]


def wide_first(get: _Get, lists: Sequence[tuple[str, str, str]], namespaces: Sequence[str], page: int,
               workers: int, errors: tuple[type[Exception], ...]) -> list[list[RawObject] | None]:  # fmt: skip
    """For each (cluster-wide path, apiVersion, kind): its objects in ``namespaces``, or None when it
    must be listed per namespace."""
    wanted = frozenset(namespaces)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda i: _one_page(get, i[0], i[1], i[2], page, wanted, errors), lists))
