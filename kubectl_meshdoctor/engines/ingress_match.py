"""Which rule of a Kubernetes Ingress takes a request (issue 20 item 1), as networking.k8s.io/v1
defines matching, and where the controllers may differ, said as a gap instead of a guess.

* Host: a rule's `host` matches the request host exactly, or `*.example.com` matches exactly one more
  label (`a.example.com`, not `example.com` nor `a.b.example.com`); a rule without host matches every
  host. The Envoy-based controllers (Cilium, Istio) build one virtual host per host name, exact names
  before wildcards before the host-less rules [I].
* Path: `Exact` compares the whole path (case-sensitive); `Prefix` compares `/`-separated elements
  (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, never `/foobar`; a trailing slash is ignored; `/`
  matches everything). The longest matching path wins; at equal length `Exact` before `Prefix`.
  `ImplementationSpecific` is the controller's own (regular expression, or prefix/exact by suffix):
  decided only where every reading agrees (a literal path equal to the request path matches; one the
  request path does not start with does not), else a gap.
* Nothing matches: the `defaultBackend`. When the request's host has rules but none of their paths
  matches, whether the controller falls back to the host-less rules or the default backend, or answers
  404 from that host's virtual host, differs between readings of the spec [I]: a gap when it matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubectl_meshdoctor.model.ingress import Ingress, IngressBackend, IngressPath, IngressRule

_REGEX_CHARS = re.compile(r"[\\^$.|?*+()\[\]{}]")


@dataclass(frozen=True, slots=True)
class IngressMatch:
    backend: IngressBackend | None  # None: no rule and no default backend (the controller answers 404)
    rule: IngressRule | None
    path: IngressPath | None
    where: str  # "spec.rules[0].http.paths[1]", "spec.defaultBackend", or "" (no match)
    host_rules: tuple[IngressRule, ...] = ()  # the rules whose host took the request
    gaps: tuple[str, ...] = field(default_factory=tuple)


def host_matches(pattern: str | None, host: str | None) -> bool:
    if pattern is None:
        return True
    if host is None:
        return False
    host = host.lower().rstrip(".").split(":")[0]
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return host == pattern


def _elements(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def path_matches(p: IngressPath, path: str) -> bool | None:
    """True/False when every reading agrees; None when the controller decides (ImplementationSpecific)."""
    if p.path_type == "Exact":
        return path == p.path
    if p.path_type == "Prefix":
        want = _elements(p.path)
        return _elements(path)[: len(want)] == want
    value = p.path or "/"
    if not _REGEX_CHARS.search(value):
        if path == value:
            return True
        if not path.startswith(value):
            return False
    return None


def _hosts(ing: Ingress, host: str | None) -> tuple[tuple[IngressRule, ...], tuple[IngressRule, ...]]:
    """The rules of the virtual host the request lands on, and the host-less rules (the fallback)."""
    exact = tuple(
        r for r in ing.rules if r.host is not None and not r.host.startswith("*.") and host_matches(r.host, host)
    )
    wild = tuple(r for r in ing.rules if r.host is not None and r.host.startswith("*.") and host_matches(r.host, host))
    bare = tuple(r for r in ing.rules if r.host is None)
    return (exact or wild), bare


def _best(rules: tuple[IngressRule, ...], path: str) -> tuple[IngressRule, IngressPath] | str | None:
    """The winning path of these rules; None when none matches; a gap text when unsure."""
    hits: list[tuple[IngressRule, IngressPath]] = []
    for r in rules:
        for p in r.paths:
            m = path_matches(p, path)
            if m is None:
                return (
                    f"{p.where} has pathType ImplementationSpecific ({p.path or '(no path)'}): how its controller "
                    f"matches it against {path} is not evaluated"
                )
            if m:
                hits.append((r, p))
    if not hits:
        return None

    def rank(hit: tuple[IngressRule, IngressPath]) -> tuple[int, int]:
        p = hit[1]
        return (len(p.path.rstrip("/")) if p.path_type == "Prefix" else len(p.path), p.path_type == "Exact")

    return max(hits, key=rank)  # max keeps the first of equals: the rule and path order in the YAML


def match(ing: Ingress, host: str | None, path: str) -> IngressMatch:
    path = path.split("?")[0] or "/"
    own, bare = _hosts(ing, host)
    first = own or bare
    found = _best(first, path)
    if isinstance(found, str):
        return IngressMatch(None, None, None, "", first, (found,))
    if found is not None:
        rule, p = found
        return IngressMatch(p.backend, rule, p, p.where, first)
    gaps: list[str] = []
    fallback: IngressBackend | None = ing.default_backend
    if own and bare:
        other = _best(bare, path)
        if isinstance(other, str) or other is not None:
            gaps.append(
                f"no path of the rules for host {host} matches {path}, but a rule without host does: whether the "
                "controller falls back to it or answers 404 is not evaluated"
            )
    if own and fallback is not None and not gaps:
        gaps.append(
            f"no path of the rules for host {host} matches {path}: whether the controller sends it to the default "
            "backend or answers 404 from that host is not evaluated"
        )
    if fallback is not None:
        return IngressMatch(fallback, None, None, "spec.defaultBackend", first, tuple(gaps))
    return IngressMatch(None, None, None, "", first, tuple(gaps))
