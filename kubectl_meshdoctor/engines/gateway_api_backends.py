"""What the gateway does with the rule a request matched (semantics-gateways.md G4, G5): a
RequestRedirect answers 3xx itself; otherwise the weighted backendRefs share the traffic, and an
invalid one (not found, wrong kind, cross-namespace without a ReferenceGrant) answers 500 for its
share; no backendRefs, or every weight 0, is 500 for all. Filters it does not evaluate are gaps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubectl_meshdoctor.model.gateway_api import GROUP, ApiRoute, ApiRule, BackendRef, Filter, ReferenceGrant

REDIRECT_CODES = (301, 302, 303, 307, 308)
UNMODELLED_KINDS = frozenset({("multicluster.x-k8s.io", "ServiceImport"), ("networking.istio.io", "Hostname")})
# filters the walk reports without changing where the request goes
REPORTED = frozenset({"RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "CORS"})


@dataclass(frozen=True, slots=True)
class Share:
    ref: BackendRef
    share: float  # of the rule's traffic, 0..1
    problem: str | None  # the ResolvedRefs reason when invalid: BackendNotFound | InvalidKind | RefNotPermitted
    why: str = ""


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    status: int | None  # what the gateway answers itself (3xx, 500); None = forwarded to backends
    shares: tuple[Share, ...]
    location: str | None  # a redirect's Location
    path: str  # the path the backend receives (after URLRewrite)
    host: str | None  # the Host the backend receives
    filters: tuple[Filter, ...]
    gaps: tuple[str, ...]


def granted(grants: list[ReferenceGrant], route: ApiRoute, target: BackendRef) -> ReferenceGrant | None:
    """G4: a ReferenceGrant in the target's namespace whose `from` names the route's group, kind and
    namespace and whose `to` names the target's group and kind (and name, when given)."""
    for g in grants:
        if (g.ref.namespace or "default") != target.namespace:
            continue
        src = any(
            f.group == GROUP and f.kind == route.ref.kind and f.namespace == (route.ref.namespace or "default")
            for f in g.sources
        )
        dst = any(
            grp == target.group and kind == target.kind and name in (None, target.name) for grp, kind, name in g.targets
        )
        if src and dst:
            return g
    return None


def check_backend(
    ref: BackendRef,
    route: ApiRoute,
    grants: list[ReferenceGrant],
    service_ports: Callable[[str, str], tuple[int, ...] | None],
) -> tuple[str | None, str]:
    """(ResolvedRefs reason or None, why) for one backendRef; ``Unevaluated`` for a kind an
    implementation may support that we do not model (ServiceImport, Istio's Hostname)."""
    if (ref.group, ref.kind) in UNMODELLED_KINDS:
        return "Unevaluated", f"{ref.where} names a {ref.group}/{ref.kind} backend, which is not evaluated"
    if ref.group != "" or ref.kind != "Service":
        return "InvalidKind", f"{ref.where} names {ref.group or 'core'}/{ref.kind}, not a Service"
    route_ns = route.ref.namespace or "default"
    if ref.namespace != route_ns and granted(grants, route, ref) is None:
        why = (
            f"{ref.where} points at Service {ref.namespace}/{ref.name} and no ReferenceGrant in {ref.namespace} "
            f"allows {route.ref.kind}s from {route_ns}"
        )
        return "RefNotPermitted", why
    ports = service_ports(ref.namespace, ref.name)
    if ports is None:
        return "BackendNotFound", f"{ref.where}: Service {ref.namespace}/{ref.name} does not exist"
    if ref.port is None:
        return "BackendNotFound", f"{ref.where}: no port given for Service {ref.namespace}/{ref.name}"
    if ref.port not in ports:
        return "BackendNotFound", f"{ref.where}: Service {ref.namespace}/{ref.name} has no port {ref.port}"
    return None, ""


def _redirect(f: Filter, scheme: str, host: str | None, port: int, path: str) -> tuple[int, str]:
    c = f.config
    code = int(c.get("statusCode") or 302)
    new_scheme = str(c.get("scheme") or scheme)
    new_host = str(c.get("hostname") or host or "")
    if c.get("port") is not None:
        new_port: int | None = int(c["port"])
    elif c.get("scheme"):
        new_port = None  # the scheme's well-known port
    else:
        new_port = port
    if new_port in ({"http": 80, "https": 443}.get(new_scheme),):
        new_port = None
    authority = new_host + (f":{new_port}" if new_port else "")
    return code, f"{new_scheme}://{authority}{path}"


def _rewritten(spec: object, path: str, prefix: str = "/") -> str | None:
    if not isinstance(spec, dict):
        return None
    if spec.get("type") == "ReplaceFullPath":
        return str(spec.get("replaceFullPath") or "/")
    if spec.get("type") == "ReplacePrefixMatch":
        rest = path[len(prefix.rstrip("/")) :] if prefix != "/" else path
        new = str(spec.get("replacePrefixMatch") or "/").rstrip("/")
        joined = new + rest if rest.startswith("/") or not rest else f"{new}/{rest}"
        return joined or "/"
    return None


def outcome(
    route: ApiRoute,
    rule: ApiRule,
    prefix: str,
    req_path: str,
    req_host: str | None,
    scheme: str,
    port: int,
    grants: list[ReferenceGrant],
    service_ports: Callable[[str, str], tuple[int, ...] | None],
) -> RuleOutcome:
    gaps: list[str] = []
    path, host = req_path, req_host
    for f in rule.filters:
        if f.type == "RequestRedirect":
            new_path = _rewritten(f.config.get("path"), req_path, prefix) or req_path
            code, location = _redirect(f, scheme, req_host, port, new_path)
            return RuleOutcome(code, (), location, req_path, req_host, rule.filters, tuple(gaps))
        if f.type == "URLRewrite":
            path = _rewritten(f.config.get("path"), req_path, prefix) or path
            host = str(f.config.get("hostname") or host or "") or None
        elif f.type not in REPORTED:
            gaps.append(
                f"{route.ref.kind} {route.ref.namespace}/{route.ref.name} {f.where}: filter {f.type} is not evaluated"
            )
    if any(f.type not in REPORTED for b in rule.backends for f in b.filters):
        gaps.append(f"{route.ref.namespace}/{route.ref.name} {rule.where}: a backendRef filter is not evaluated")
    total = sum(b.weight for b in rule.backends)
    if not rule.backends or total == 0:
        return RuleOutcome(500, (), None, path, host, rule.filters, tuple(gaps))
    shares = []
    for b in rule.backends:
        problem, why = check_backend(b, route, grants, service_ports)
        if problem == "Unevaluated":
            gaps.append(f"{route.ref.kind} {route.ref.namespace}/{route.ref.name} {why}")
        shares.append(Share(b, b.weight / total, problem, why))
    return RuleOutcome(None, tuple(shares), None, path, host, rule.filters, tuple(gaps))
