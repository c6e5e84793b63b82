"""HTTPRoute matching and precedence across every route attached to one listener (semantics-gateways.md
G3): within a match path, headers, query and method are ANDed, matches of a rule are ORed. Across
routes: the most specific matching hostname, then Exact path, the longest PathPrefix, a method match,
the most header matches, the most query matches; ties go to the oldest route, then `namespace/name`
alphabetically, then the first rule and match in list order. A RegularExpression match is evaluated,
but its precedence against another candidate is implementation-specific (reported as a gap)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from kubectl_meshdoctor.engines.gateway_api_attach import Attachment, host_matches, specificity
from kubectl_meshdoctor.model.gateway_api import ApiRoute, ApiRule, RuleMatch, ValueMatch


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # may carry ?query
    host: str | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path or "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.path).query, keep_blank_values=True)


@dataclass(frozen=True, slots=True)
class Candidate:
    route: ApiRoute
    rule: ApiRule
    match: RuleMatch
    hostname: str  # the route hostname the request matched ("" = none given)


@dataclass(frozen=True, slots=True)
class MatchResult:
    winner: Candidate | None
    gaps: tuple[str, ...] = ()  # why the winner is not certain


def _regex(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return False


def path_matches(m: ValueMatch, path: str) -> bool:
    """PathPrefix is element-wise: `/foo` matches `/foo`, `/foo/` and `/foo/bar`, never `/foobar`;
    a trailing slash on the prefix is ignored."""
    if m.type == "Exact":
        return path == m.value
    if m.type == "RegularExpression":
        return _regex(m.value, path)
    prefix = m.value.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _value(m: ValueMatch, value: str | None) -> bool:
    if value is None:
        return False
    if m.type == "RegularExpression":
        return _regex(m.value, value)
    return value == m.value


def grpc_matches(m: tuple[str, str, str], path: str) -> bool:
    """GRPCRoute: the request path is /service/method; an empty part matches any."""
    kind, service, method = m
    parts = path.split("/")
    if len(parts) != 3 or parts[0]:
        return False
    for want, got in ((service, parts[1]), (method, parts[2])):
        if want and not (_regex(want, got) if kind == "RegularExpression" else want == got):
            return False
    return True


def is_grpc(req: HttpRequest) -> bool:
    return req.headers.get("content-type", "").startswith("application/grpc")


def match_applies(m: RuleMatch, req: HttpRequest) -> bool:
    if m.grpc is not None:
        if not grpc_matches(m.grpc, req.bare_path):
            return False
    elif not path_matches(m.path, req.bare_path):
        return False
    if m.method is not None and m.method != req.method.upper():
        return False
    if not all(_value(h, req.headers.get(h.name.lower())) for h in m.headers):
        return False
    query = req.query
    for q in m.query:
        first = next((v for k, v in query if k == q.name), None)  # the first value of a repeated parameter
        if not _value(q, first):
            return False
    return True


def request_hostname(route_hosts: tuple[str, ...], host: str | None) -> str | None:
    """The route hostname the request's host matches (best first); "" when the route names none."""
    if route_hosts == ("",):
        return ""
    if host is None:
        return None
    fits = [h for h in route_hosts if host_matches(h, host)]
    return max(fits, key=specificity) if fits else None


def _rank(c: Candidate) -> tuple[int, ...]:
    """Higher is preferred (everything except the tie rules)."""
    m = c.match
    if c.route.ref.kind == "GRPCRoute":  # hostname, then the longest service, method, most headers
        _, service, method = m.grpc or ("", "", "")
        return (*specificity(c.hostname), len(service), len(method), len(m.headers))
    exact = 1 if m.path.type == "Exact" else 0
    prefix = len(m.path.value) if m.path.type == "PathPrefix" else 0
    return (*specificity(c.hostname), exact, prefix, 1 if m.method else 0, len(m.headers), len(m.query))


def _uses_regex(m: RuleMatch) -> bool:
    grpc_regex = m.grpc is not None and m.grpc[0] == "RegularExpression"
    return (
        grpc_regex
        or m.path.type == "RegularExpression"
        or any(v.type == "RegularExpression" for v in (*m.headers, *m.query))
    )


def select(attached: list[Attachment], req: HttpRequest) -> MatchResult:
    """The rule that serves ``req`` among the accepted routes of one listener: GRPCRoutes for a gRPC
    request (content-type application/grpc), else HTTPRoutes."""
    kind = "GRPCRoute" if is_grpc(req) else "HTTPRoute"
    found: list[Candidate] = []
    for a in attached:
        if not a.accepted or a.route.ref.kind != kind:
            continue
        hostname = request_hostname(a.hostnames, req.host)
        if hostname is None:
            continue
        for rule in a.route.rules:
            found += [Candidate(a.route, rule, m, hostname) for m in rule.matches if match_applies(m, req)]
    if not found:
        return MatchResult(None)
    best = max(_rank(c) for c in found)
    top = [c for c in found if _rank(c) == best]
    gaps: list[str] = []
    if len(top) > 1 and any(_uses_regex(c.match) for c in top):
        gaps.append("several matches use RegularExpression; their precedence is implementation-specific")
    routes = {(c.route.ref.namespace, c.route.ref.name) for c in top}
    if len(routes) > 1 and any(not c.route.created for c in top):
        names = ", ".join(sorted(f"{ns}/{n}" for ns, n in routes))
        gaps.append(
            f"HTTPRoutes {names} match with equal precedence; the oldest wins and not all carry "
            "metadata.creationTimestamp (assumed: alphabetical order)"
        )
    top.sort(
        key=lambda c: (
            c.route.created or "~",
            f"{c.route.ref.namespace}/{c.route.ref.name}",
            c.rule.index,
            c.match.where,
        )
    )
    return MatchResult(top[0], tuple(gaps))
