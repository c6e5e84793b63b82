"""The gateway hop of a north-south call (issue 20 §1-2, semantics-gateways.md G2-G5): the Gateway's
state, the listener that takes port and host, the routes attached to it, the rule that matches, and
what it does: redirect (3xx), 404 when no rule matches, 500 for the share of an unusable backend,
else the weighted backends that answer. Any construct not evaluated makes the hop unknown."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis import gateway_api_causes as gc
from kubectl_meshdoctor.diagnosis.gateway_l4_routes import is_l4, l4_route
from kubectl_meshdoctor.diagnosis.northsouth_entry import Entry
from kubectl_meshdoctor.engines import gateway_api_attach as ga
from kubectl_meshdoctor.engines import gateway_api_match as gm
from kubectl_meshdoctor.engines.gateway_api_backends import RuleOutcome, outcome
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer, GatewayAnswer
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.gateway_api import ApiGateway, ApiListener
from kubectl_meshdoctor.model.view import Model

HOP = Hop.GATEWAY


@dataclass(frozen=True, slots=True)
class GatewayWalk:
    result: HopResult
    answer: GatewayAnswer
    outcome: RuleOutcome | None  # the matched rule's outcome (backends to walk next)


def pick_port(gw: ApiGateway, port: int | None) -> int | None:
    ports = sorted({x.port for x in gw.listeners})
    if port is not None or not ports:
        return port
    if len(ports) == 1 or 80 in ports:
        return 80 if 80 in ports else ports[0]
    raise UsageError(
        f"Gateway {gw.ref.namespace}/{gw.ref.name} listens on ports {', '.join(map(str, ports))}: pick one with --port"
    )


class _Hop:
    def __init__(self, model: Model, entry: Entry, req: gm.HttpRequest, port: int | None) -> None:
        self.model, self.entry, self.req = model, entry, req
        self.gw = entry.gateway
        self.key = f"{self.gw.ref.namespace}/{self.gw.ref.name}"
        self.port = pick_port(self.gw, port)
        self.gaps: list[str] = [str(g) for g in entry.gaps]
        self.listener: ApiListener | None = None

    def answer(self, **kw: object) -> GatewayAnswer:
        x = self.listener
        return GatewayAnswer(
            "Gateway",
            self.gw.ref.namespace or "default",
            self.gw.ref.name,
            self.gw.class_name,
            self.entry.controller,
            self.entry.implementation,
            x.name if x else None,
            self.port,
            x.protocol if x else None,
            x.hostname if x else None,
            x.tls_mode if x else None,
            **kw,  # type: ignore[arg-type]
        )

    def done(self, result: HopResult, answer: GatewayAnswer, out: RuleOutcome | None = None) -> GatewayWalk:
        gaps = tuple(dict.fromkeys(self.gaps))
        if gaps and result.decision is not Decision.UNKNOWN:
            detail = f"cannot decide: {'; '.join(gaps)} (on what could be read: {result.detail})"
            result = HopResult(
                HOP, Decision.UNKNOWN, result.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, result.causes, gaps
            )
        return GatewayWalk(result, answer, out)

    def brk(
        self, by: tuple[ObjectRef, ...], detail: str, symptom: Symptom, *causes: Cause, status: int | None = None
    ) -> GatewayWalk:
        verdict = Verdict.DENIED if any(c.code == "gateway-refgrant-missing" for c in causes) else Verdict.BROKEN
        return self.done(
            HopResult(HOP, Decision.BREAK, by, detail, symptom, verdict, causes), self.answer(status=status)
        )

    def run(self) -> GatewayWalk:
        gw, host = self.gw, self.req.host
        down = gc.conditions_false(gw.conditions, ("Accepted", "Programmed"))
        if down:
            cause = Cause("gateway-not-programmed", (gw.ref,), {"gateway": self.key, "why": ", ".join(down)})
            return self.brk((gw.ref,), f"Gateway {self.key} is not serving: {', '.join(down)}", Symptom.REFUSED, cause)
        listeners = ga.listeners_for(gw, self.port, host)
        if not listeners:
            return self._no_listener()
        self.listener = x = listeners[0]
        lref = gw.ref.with_rule(x.path)
        if not is_l4(x) and (x.protocol not in ("HTTP", "HTTPS") or x.tls_mode == "Passthrough"):
            self.gaps.append(
                f"listener {x.name} of Gateway {self.key} is {x.protocol}: only HTTP/HTTPS listeners are walked yet"
            )
            return self.done(
                HopResult(HOP, Decision.UNKNOWN, (lref,), f"{x.protocol} listener", Symptom.UNKNOWN, Verdict.UNKNOWN),
                self.answer(),
            )
        status = gw.listener_status(x.name)
        bad = gc.conditions_false(status or (), ("Accepted", "ResolvedRefs", "Programmed"))
        if bad:
            why = f"listener {x.name}: {', '.join(bad)}"
            cause = Cause("gateway-not-programmed", (lref,), {"gateway": self.key, "why": why})
            symptom = Symptom.RESET if x.protocol == "HTTPS" else Symptom.REFUSED
            return self.brk((lref,), f"Gateway {self.key} {why}", symptom, cause)
        if is_l4(x):
            return l4_route(self, x, lref)  # TLSRoute (SNI) / TCPRoute (port)
        if x.protocol == "HTTPS" and status is None:
            self.gaps.append(
                f"listener {x.name} of Gateway {self.key} terminates TLS and has no status: its certificate "
                "(a Secret, not read) is not checked"
            )
        return self._route(x, lref)

    def _no_listener(self) -> GatewayWalk:
        gw, host = self.gw, self.req.host
        ref = gw.ref.with_rule("spec.listeners")
        on_port = [x for x in gw.listeners if x.port == self.port]
        if not on_port:
            why = f"no listener on port {self.port}"
            cause = Cause("gateway-listener-no-match", (ref,), {"gateway": self.key, "why": why})
            return self.brk((ref,), f"Gateway {self.key} has {why}", Symptom.REFUSED, cause)
        names = ", ".join(x.hostname or "*" for x in on_port)
        why = f"no listener on port {self.port} accepts host {host or '(none: the address)'} (hostnames: {names})"
        cause = Cause("gateway-listener-no-match", (ref,), {"gateway": self.key, "why": why})
        tls = all(x.protocol in ("HTTPS", "TLS") for x in on_port)
        return self.brk(
            (ref,),
            f"Gateway {self.key}: {why}",
            Symptom.RESET if tls else Symptom.HTTP_404,
            cause,
            status=None if tls else 404,
        )

    def _route(self, x: ApiListener, lref: ObjectRef) -> GatewayWalk:
        gw, req = self.gw, self.req
        ns_labels = self.model.ns_labels
        attached = [
            ga.attach(r, gw, x, ns_labels)
            for r in self.model.gateway_api.routes
            if any(p.name == gw.ref.name for p in r.parents)
        ]
        kind = "GRPCRoute" if gm.is_grpc(req) else "HTTPRoute"
        for a in attached:  # another route kind for the same host: which one wins is not evaluated
            if a.accepted and a.route.ref.kind != kind and gm.request_hostname(a.hostnames, req.host) is not None:
                self.gaps.append(
                    f"{a.route.ref.kind} {a.route.ref.namespace}/{a.route.ref.name} is attached to listener "
                    f"{x.name} for this host too: how it combines with the {kind}s is not evaluated"
                )
        if any(r.kind == "ListenerSet" for r in self.model.gateway_api.unmodelled):
            self.gaps.append("ListenerSets are not evaluated (they may add listeners to this Gateway)")
        found = gm.select(attached, req)
        self.gaps += found.gaps
        rejected = [a for a in attached if not a.accepted and a.route.ref.kind == kind]
        near = [
            gc.not_accepted(a.route, a.parent.path if a.parent else "spec.parentRefs", self.key, a.reason)
            for a in rejected
            if gc.would_match(a, req)
        ]
        if found.winner is None:
            accepted = [a.route.ref for a in attached if a.accepted]
            params = {
                "gateway": self.key,
                "listener": x.name,
                "host": req.host or "(any)",
                "method": req.method,
                "path": req.path,
            }
            params["routes"] = ", ".join(f"{r.namespace}/{r.name}" for r in accepted) or "none"
            miss = Cause("gateway-route-no-match", (lref, *accepted), params)
            causes = (*near, miss) if near else (miss,)
            detail = (
                f"Gateway {self.key} listener {x.name}: no rule of the attached routes ({params['routes']}) "
                f"matches {req.method} {req.host or ''}{req.path} → 404"
            )
            return self.brk((lref, *accepted), detail, Symptom.HTTP_404, *causes, status=404)
        return self._answer(x, lref, found.winner)

    def _answer(self, x: ApiListener, lref: ObjectRef, win: gm.Candidate) -> GatewayWalk:
        route, rule = win.route, win.rule
        rref = route.ref.with_rule(win.match.where)
        prefix = win.match.path.value if win.match.path.type == "PathPrefix" else "/"
        scheme = "https" if x.protocol == "HTTPS" else "http"
        grants = self.model.gateway_api.grants
        out = outcome(route, rule, prefix, self.req.path, self.req.host, scheme, x.port, grants, self._ports)
        self.gaps += out.gaps
        self.gaps += gc.status_disagreements(route, self.gw, all(s.problem is None for s in out.shares))
        tls_ns = {r.namespace or "" for r in self.model.gateway_api.unmodelled if r.kind == "BackendTLSPolicy"}
        for ns in sorted(tls_ns & {s.ref.namespace for s in out.shares}):
            self.gaps.append(
                f"BackendTLSPolicy objects in {ns} may make the gateway speak TLS to the backend: not evaluated"
            )
        kw: dict[str, object] = {
            "route": f"{route.ref.kind} {route.ref.namespace}/{route.ref.name}",
            "rule": rule.where,
            "rule_name": rule.name,
            "match": win.match.where,
            "status": out.status
            if out.shares == () or any(s.problem in (None, "Unevaluated") and s.share > 0 for s in out.shares)
            else 500,
            "location": out.location,
            "backends": tuple(
                BackendAnswer(
                    s.ref.kind, s.ref.namespace, s.ref.name, s.ref.port, s.ref.weight, s.share, s.problem, s.why
                )
                for s in out.shares
            ),
            "filters": tuple(f"{f.type} {f.where}" for f in out.filters),
            "timeouts": tuple(
                (k, v) for k, v in (("request", rule.timeout_request), ("backendRequest", rule.timeout_backend)) if v
            ),
            "forwarded_path": out.path,
            "forwarded_host": out.host,
        }
        answer = self.answer(**kw)
        lead = f"Gateway {self.key} listener {x.name} → {route.ref.kind} {route.ref.key().split(' ', 1)[1]}"
        by = (lref, rref)
        if out.status is not None and out.status < 400:
            cause = gc.redirect_cause(route, rule, out.status, out.location or "")
            return self.done(
                HopResult(HOP, Decision.ALLOW, by, f"{lead}: redirect {out.status} to {out.location}", causes=(cause,)),
                answer,
                out,
            )
        if out.status is not None:
            cause = gc.no_backend_cause(route, rule)
            return self._brk_answer(by, f"{lead}: no backend to send to → 500", answer, cause)
        bad = [s for s in out.shares if s.problem not in (None, "Unevaluated") and s.share > 0]
        if bad:
            share = sum(s.share for s in bad)
            causes = tuple(gc.backend_cause(route, rule, s.ref, s.problem or "", s.why, f"{s.share:.0%}") for s in bad)
            whys = "; ".join(s.why for s in bad)
            return self._brk_answer(by, f"{lead}: {whys} → 500 for {share:.0%} of these requests", answer, *causes)
        names = ", ".join(
            f"{b.namespace}/{b.name}:{b.port} ({b.share:.0%})"
            if len(answer.answering) > 1
            else f"{b.namespace}/{b.name}:{b.port}"
            for b in answer.answering
        )
        return self.done(
            HopResult(
                HOP,
                Decision.ALLOW,
                by,
                f"{lead} matches {self.req.method} {self.req.host or ''}{self.req.path} → {names}",
            ),
            answer,
            out,
        )

    def _brk_answer(self, by: tuple[ObjectRef, ...], detail: str, answer: GatewayAnswer, *causes: Cause) -> GatewayWalk:
        verdict = Verdict.DENIED if all(c.code == "gateway-refgrant-missing" for c in causes) else Verdict.BROKEN
        result = HopResult(HOP, Decision.BREAK, by, detail, Symptom.HTTP_500, verdict, causes)
        return self.done(result, answer)

    def _ports(self, ns: str, name: str) -> tuple[int, ...] | None:
        svc = self.model.services.get(f"{ns}/{name}")
        return None if svc is None else tuple(p.port for p in svc.ports)


def gateway_hop(model: Model, entry: Entry, req: gm.HttpRequest, port: int | None) -> GatewayWalk:
    return _Hop(model, entry, req, port).run()
