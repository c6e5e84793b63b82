"""Gateway API route status, evaluated (issue 20 §2, §6; semantics-gateways.md G2, GB1-GB3): for every
HTTPRoute, GRPCRoute, TLSRoute and TCPRoute parentRef to a Gateway in view, does a listener accept it
(Accepted and its reason), and does every backendRef resolve (ResolvedRefs: BackendNotFound,
InvalidKind, RefNotPermitted)? Through the same engine functions the north-south walk uses. When the
route's own status (written by the controller) says otherwise, that is reported too: one of the two is
stale or we miss something. A TLSRoute or TCPRoute backend that does not resolve closes its share of
the connections (the gateway reads no request to answer with a status)."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis.gateway_api_causes import backend_cause, not_accepted
from kubectl_meshdoctor.engines.gateway_api_attach import parent_status
from kubectl_meshdoctor.engines.gateway_api_backends import check_backend
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.gateway_api import GROUP, ApiGateway, ApiRoute, ParentRef
from kubectl_meshdoctor.model.view import Model

_L4_KINDS = ("TLSRoute", "TCPRoute")


def _accepted(model: Model, route: ApiRoute, gw: ApiGateway, parent: ParentRef) -> list[Cause]:
    key = f"{route.ref.namespace}/{route.ref.name}"
    gateway = f"{gw.ref.namespace}/{gw.ref.name}"
    reason = parent_status(route, gw, parent, model.ns_labels)
    out: list[Cause] = []
    if reason != "Accepted":
        out.append(not_accepted(route, parent.path, gateway, reason))
    for st in route.status:
        if st.parent.split("/")[:2] != [parent.namespace, parent.name] and st.parent.split("/")[1:2] != [parent.name]:
            continue
        said = next((c for c in st.conditions if c.type == "Accepted"), None)
        if said is None:
            continue
        ours = "True" if reason == "Accepted" else "False"
        if said.status != ours or (ours == "False" and said.reason not in ("", reason)):
            params = {
                "route": f"{route.ref.kind} {key}",
                "gateway": gateway,
                "condition": "Accepted",
                "status": f"{said.status} ({said.reason})",
                "ours": f"{ours} ({reason})",
                "controller": st.controller or "?",
            }
            out.append(Cause("gateway-status-disagrees", (route.ref.with_rule("status.parents"),), params))
    return out


def _resolved(model: Model, route: ApiRoute) -> list[Cause]:
    out: list[Cause] = []

    def ports(ns: str, name: str) -> tuple[int, ...] | None:
        svc = model.services.get(f"{ns}/{name}")
        return None if svc is None else tuple(p.port for p in svc.ports)

    for rule in route.rules:
        for b in rule.backends:
            problem, why = check_backend(b, route, model.gateway_api.grants, ports)
            if problem is None or problem == "Unevaluated":
                continue
            share = f"{b.weight}/{sum(x.weight for x in rule.backends) or 1}"
            why = f"{why} (ResolvedRefs=False, {problem})"
            cause = backend_cause(route, rule, b, problem, why, share)
            if route.ref.kind in _L4_KINDS:  # the gateway reads no request: it closes the connection
                text = f"{cause.params['route']} {rule.where}: {why}; the gateway closes {share} of the connections"
                cause = replace(cause, detail=f"{text} the rule takes (no HTTP status: TLS passthrough / TCP)")
            out.append(cause)
    return out


def _status(model: Model) -> list[Cause]:
    gateways = {(g.ref.namespace or "default", g.ref.name): g for g in model.gateway_api.gateways}
    out: list[Cause] = []
    for route in sorted(model.gateway_api.routes, key=lambda r: (r.ref.namespace or "", r.ref.name)):
        if route.ref.kind not in ("HTTPRoute", "GRPCRoute", *_L4_KINDS):
            continue  # UDPRoute: not evaluated yet
        parents = [p for p in route.parents if p.group == GROUP and p.kind == "Gateway"]
        for parent in parents:
            gw = gateways.get((parent.namespace, parent.name))
            if gw is not None:
                out.extend(_accepted(model, route, gw, parent))
        if any((p.namespace, p.name) in gateways for p in parents):
            out.extend(_resolved(model, route))
    return out


ROUTE_STATUS = Check(
    "gateway.RouteStatus",
    "Gateway API HTTPRoutes, GRPCRoutes, TLSRoutes and TCPRoutes: Accepted per parent Gateway "
    "(NotAllowedByListeners, NoMatchingParent, "
    "NoMatchingListenerHostname) and ResolvedRefs per backendRef (BackendNotFound, InvalidKind, RefNotPermitted), "
    "and where the route's status says otherwise",
    ("Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "ReferenceGrant", "Service", "Namespace"),
    _status,
)
