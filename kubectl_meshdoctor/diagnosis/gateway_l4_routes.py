"""TLSRoute and TCPRoute on the Gateway API path (issue 20 §1-2; semantics-gateways.md G2-G4): a TLS
listener in Passthrough mode routes by the client's SNI hostname (the TLSRoute whose hostname fits it,
exact before wildcard, then the oldest route, then namespace/name), a TCP listener by its port (the
one TCPRoute attached to it). The rule's weighted backendRefs are resolved as for HTTPRoutes; since
the gateway never reads a request, an unusable backend or no route means the connection is closed
(`gateway-l4-route-unusable`), not an HTTP status. Not evaluated (unknown with the gap): more than
one rule in a route, several TCPRoutes on one listener, a TLSRoute question without the SNI (--host),
creation-time ties the objects cannot order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_meshdoctor.engines import gateway_api_attach as ga
from kubectl_meshdoctor.engines.gateway_api_attach import Attachment
from kubectl_meshdoctor.engines.gateway_api_backends import outcome
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.gateway_api import ApiListener

if TYPE_CHECKING:
    from kubectl_meshdoctor.diagnosis.gateway_api_hop import GatewayWalk, _Hop

HOP = Hop.GATEWAY


def is_l4(x: ApiListener) -> bool:
    """Listeners whose routes never read a request: TLS passthrough (TLSRoute) and TCP (TCPRoute)."""
    return (x.protocol == "TLS" and x.tls_mode == "Passthrough") or x.protocol == "TCP"


def _unknown(hop: _Hop, by: tuple[ObjectRef, ...], gap: str) -> GatewayWalk:
    hop.gaps.append(gap)
    result = HopResult(HOP, Decision.UNKNOWN, by, gap, Symptom.UNKNOWN, Verdict.UNKNOWN)
    return hop.done(result, hop.answer())


def _closed(hop: _Hop, x: ApiListener, by: tuple[ObjectRef, ...], why: str, *more: Cause) -> GatewayWalk:
    params = {"gateway": hop.key, "listener": x.name, "protocol": x.protocol, "why": why}
    cause = Cause("gateway-l4-route-unusable", by, params)
    detail = f"Gateway {hop.key} listener {x.name} ({x.protocol}): {why} → the gateway closes the connection"
    return hop.done(
        HopResult(HOP, Decision.BREAK, by, detail, Symptom.RESET, Verdict.BROKEN, (cause, *more)), hop.answer()
    )


def _oldest(found: list[tuple[Attachment, str]]) -> tuple[Attachment, str] | str:
    """The spec's ties: the oldest route, then namespace/name. A string: why it cannot be ordered."""
    created = [a.route.created for a, _ in found]
    if len(found) > 1 and (not all(created) or len(set(created)) < len(created)):
        names = ", ".join(f"{a.route.ref.namespace}/{a.route.ref.name}" for a, _ in found)
        return f"{names} match alike and their creationTimestamps do not order them: which one serves is not known"
    return min(found, key=lambda f: (f[0].route.created, f[0].route.ref.namespace or "", f[0].route.ref.name))


def _pick(hop: _Hop, x: ApiListener, attached: list[Attachment]) -> tuple[Attachment, str] | str | None:
    """The route that serves the connection, with the hostname it matched by; a string says why it
    is not known; None when none matches."""
    kind = "TLSRoute" if x.protocol == "TLS" else "TCPRoute"
    mine = [a for a in attached if a.accepted and a.route.ref.kind == kind]
    if kind == "TCPRoute":
        if len(mine) > 1:
            names = ", ".join(f"{a.route.ref.namespace}/{a.route.ref.name}" for a in mine)
            return f"TCPRoutes {names} all attach to listener {x.name}: how they share it is not evaluated"
        return (mine[0], "") if mine else None
    sni = hop.req.host
    if sni is None and any(h for a in mine for h in a.hostnames):
        return "the client's SNI is not known (give it as --host): the TLSRoutes route by hostname"
    found: list[tuple[Attachment, str]] = []
    for a in mine:
        fits = [h for h in a.hostnames if h == "" or (sni is not None and ga.host_matches(h, sni))]
        if fits:
            found.append((a, max(fits, key=ga.specificity)))
    if not found:
        return None
    best = max(ga.specificity(h or None) for _, h in found)
    return _oldest([f for f in found if ga.specificity(f[1] or None) == best])


def l4_route(hop: _Hop, x: ApiListener, lref: ObjectRef) -> GatewayWalk:
    gw = hop.gw
    attached = [
        ga.attach(r, gw, x, hop.model.ns_labels)
        for r in hop.model.gateway_api.routes
        if any(p.name == gw.ref.name for p in r.parents)
    ]
    picked = _pick(hop, x, attached)
    if isinstance(picked, str):
        return _unknown(hop, (lref,), picked)
    if picked is None:
        what = f"SNI {hop.req.host}" if x.protocol == "TLS" and hop.req.host else f"port {x.port}"
        return _closed(
            hop, x, (lref,), f"no {'TLSRoute' if x.protocol == 'TLS' else 'TCPRoute'} attached matches {what}"
        )
    a, matched = picked
    route = a.route
    if len(route.rules) != 1:
        return _unknown(
            hop,
            (lref, route.ref),
            f"{route.ref.kind} {route.ref.namespace}/{route.ref.name} has "
            f"{len(route.rules)} rules: how they share the connections is not evaluated",
        )
    rule = route.rules[0]
    out = outcome(route, rule, "/", "/", hop.req.host, "tls", x.port, hop.model.gateway_api.grants, hop._ports)
    hop.gaps += out.gaps
    rref = route.ref.with_rule(rule.where)
    by = (lref, rref)
    answer = hop.answer(
        route=f"{route.ref.kind} {route.ref.namespace}/{route.ref.name}",
        rule=rule.where,
        rule_name=rule.name,
        backends=tuple(
            BackendAnswer(s.ref.kind, s.ref.namespace, s.ref.name, s.ref.port, s.ref.weight, s.share, s.problem, s.why)
            for s in out.shares
        ),
    )
    lead = (
        f"Gateway {hop.key} listener {x.name} ({x.protocol}) → {route.ref.kind} {route.ref.namespace}/{route.ref.name}"
    )
    lead += f" (hostname {matched})" if matched else ""
    if out.status is not None:
        return _closed(hop, x, by, f"{route.ref.kind} {route.ref.namespace}/{route.ref.name} has no backend")
    bad = [s for s in out.shares if s.problem not in (None, "Unevaluated") and s.share > 0]
    if bad:
        share = sum(s.share for s in bad)
        why = "; ".join(s.why for s in bad) + f" ({share:.0%} of the connections)"
        walk = _closed(hop, x, by, why)
        return hop.done(walk.result, answer)
    names = ", ".join(f"{b.namespace}/{b.name}:{b.port} ({b.share:.0%})" for b in answer.answering)
    return hop.done(HopResult(HOP, Decision.ALLOW, by, f"{lead} → {names}"), answer, out)
