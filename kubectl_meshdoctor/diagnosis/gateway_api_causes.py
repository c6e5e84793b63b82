"""The causes the gateway hop and the route-status check report (issue 20; semantics-gateways.md
GB1-GB5, GB7), built in one place so `explain` and `check` word them the same way."""

from __future__ import annotations

from kubectl_meshdoctor.engines import gateway_api_attach as ga
from kubectl_meshdoctor.engines import gateway_api_match as gm
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.gateway_api import ApiGateway, ApiRoute, ApiRule, BackendRef, Condition


def conditions_false(conditions: tuple[Condition, ...], types: tuple[str, ...]) -> list[str]:
    return [f"{c.type}={c.status} ({c.reason})" for c in conditions if c.type in types and c.status == "False"]


def route_name(route: ApiRoute) -> str:
    return f"{route.ref.kind} {route.ref.namespace}/{route.ref.name}"


def would_match(a: ga.Attachment, req: gm.HttpRequest) -> bool:
    """A route the gateway did not accept whose rules would serve this request (the likely intent)."""
    if gm.request_hostname(a.route.hostnames or ("",), req.host) is None:
        return False
    return any(gm.match_applies(m, req) for rule in a.route.rules for m in rule.matches)


def not_accepted(route: ApiRoute, path: str, gateway: str, reason: str) -> Cause:
    params = {"route": route_name(route), "gateway": gateway, "reason": reason}
    return Cause("gateway-route-not-accepted", (route.ref.with_rule(path),), params)


def backend_cause(route: ApiRoute, rule: ApiRule, ref: BackendRef, problem: str, why: str, share: str) -> Cause:
    """GB2/GB3: a backendRef the gateway cannot use answers 500 for its share."""
    params = {
        "route": route_name(route),
        "rule": rule.where,
        "why": why,
        "share": share,
        "backend_ns": ref.namespace,
        "backend": ref.name,
        "route_ns": route.ref.namespace or "default",
        "kind": route.ref.kind,
    }
    where = (route.ref.with_rule(ref.where),)
    if problem == "RefNotPermitted":
        return Cause("gateway-refgrant-missing", where, params)
    return Cause("gateway-backend-unresolved", where, params)


def no_backend_cause(route: ApiRoute, rule: ApiRule) -> Cause:
    params = {
        "route": route_name(route),
        "rule": rule.where,
        "why": "the rule has no backendRefs with weight > 0",
        "share": "100%",
    }
    return Cause("gateway-backend-unresolved", (route.ref.with_rule(rule.where),), params)


def redirect_cause(route: ApiRoute, rule: ApiRule, status: int, location: str) -> Cause:
    params = {"route": route_name(route), "rule": rule.where, "status": str(status), "location": location}
    return Cause("gateway-redirect", (route.ref.with_rule(rule.where),), params)


def status_disagreements(route: ApiRoute, gw: ApiGateway, resolved: bool) -> list[str]:
    """G2: what the controller wrote on the route for this Gateway, when it says the route does not
    work as evaluated (not Accepted, refs not resolved, rules dropped): a reason we do not model
    (UnsupportedValue, IncompatibleFilters...) or a stale status. Either way the answer is not certain."""
    out: list[str] = []
    key = (gw.ref.namespace or "default", gw.ref.name)
    for st in route.status:
        ns, _, rest = st.parent.partition("/")
        if (ns or key[0], rest.split("/")[0]) != key:
            continue
        for c in st.conditions:
            bad = (
                (c.type == "Accepted" and c.status == "False")
                or (resolved and c.type == "ResolvedRefs" and c.status == "False")
                or (c.type == "PartiallyInvalid" and c.status == "True")
            )
            if bad:
                out.append(
                    f"{route_name(route)} status for Gateway {key[0]}/{key[1]} says {c.type}={c.status} ({c.reason}), "
                    f"written by {st.controller or '?'}: the walk does not see why"
                )
    return out
