"""The proxy hop of a call through a Kubernetes Ingress (issue 20 item 1): the port (an Ingress serves
80, and 443 where `spec.tls` covers the host), the rule that takes host and path
(engines/ingress_match.py), and the backend Service and port it names. No rule and no default backend:
the controller's Envoy answers 404 [I]; a backend Service or port that does not exist: no upstream
cluster/endpoints, Envoy answers 503 [I] (both controllers build Envoy routes from the Ingress;
semantics-gateways.md C1 for Cilium). Anything not evaluated makes the hop unknown with its gap."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubectl_meshdoctor.diagnosis.ingress_entry import IngressEntry
from kubectl_meshdoctor.engines.ingress_match import IngressMatch, host_matches, match
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer, GatewayAnswer
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, Symptom, Verdict
from kubectl_meshdoctor.model.ingress import Ingress, IngressBackend
from kubectl_meshdoctor.model.view import Model

HOP = Hop.GATEWAY


@dataclass(frozen=True, slots=True)
class IngressWalk:
    result: HopResult
    answer: GatewayAnswer


def _tls_for(ing: Ingress, host: str | None) -> str | bool | None:
    """The TLS Secret covering this host (True: an entry without a Secret), None when none covers it."""
    for t in ing.tls:
        if not t.hosts or any(host_matches(h, host) for h in t.hosts):
            return t.secret or True
    return None


def resolve_backend(model: Model, ing: Ingress, b: IngressBackend) -> tuple[BackendAnswer | None, str | None]:
    """The Service and port the backend names, or why the controller cannot use it (it answers 503)."""
    ns = ing.ref.namespace or "default"
    name = b.service or ""
    svc = model.services.get(f"{ns}/{name}")
    port = b.port_number
    if svc is None:
        why = f"Service {ns}/{name} does not exist"
        return BackendAnswer("Service", ns, name, port, 1, 1.0, "BackendNotFound", why), why
    if b.port_name is not None:
        sp = next((p for p in svc.ports if p.name == b.port_name), None)
        if sp is None:
            why = f"Service {ns}/{name} has no port named {b.port_name}"
            return BackendAnswer("Service", ns, name, None, 1, 1.0, "BackendNotFound", why), why
        port = sp.port
    elif all(p.port != port for p in svc.ports):
        have = ", ".join(str(p.port) for p in svc.ports) or "none"
        why = f"Service {ns}/{name} has no port {port} (ports: {have})"
        return BackendAnswer("Service", ns, name, port, 1, 1.0, "BackendNotFound", why), why
    return BackendAnswer("Service", ns, name, port, 1, 1.0), None


def _shared_hosts(model: Model, e: IngressEntry, host: str | None) -> list[str]:
    """Other Ingresses the same proxy serves for this host: the controller merges their rules [I]."""
    if e.implementation == "cilium" and e.lb is not None and e.lb.startswith("dedicated"):
        return []  # its own load balancer and listener
    out = []
    for other in model.ingress.ingresses:
        if other.ref == e.ingress.ref or (other.class_name or other.legacy_class) != e.class_name:
            continue
        if any(r.host is not None and host_matches(r.host, host) for r in other.rules):
            out.append(f"{other.ref.namespace}/{other.ref.name}")
    return out


def ingress_hop(model: Model, e: IngressEntry, method: str, host: str | None, path: str, port: int) -> IngressWalk:
    ing = e.ingress
    key = f"{ing.ref.namespace}/{ing.ref.name}"
    gaps = list(e.gaps)
    tls = _tls_for(ing, host)
    if port not in (80, 443):
        gaps.append(
            f"port {port}: an Ingress is served on 80 (HTTP) and 443 (HTTPS); whether the controller listens on "
            "another port (Cilium's host-network mode) is not evaluated"
        )
    elif port == 443 and tls is None:
        gaps.append(f"port 443: no spec.tls entry of Ingress {key} covers host {host or '(none)'}; not evaluated")
    elif port == 443:
        secret = f"Secret {tls}" if isinstance(tls, str) else "the controller's default certificate"
        gaps.append(f"Ingress {key} terminates TLS on 443 with {secret} (not read): the certificate is not checked")
    if port == 80 and tls is not None and e.implementation == "cilium":
        gaps.append(_https_redirect(model, ing, host))
    m = match(ing, host, path)
    gaps += m.gaps
    shared = _shared_hosts(model, e, host)
    if shared:
        gaps.append(
            f"Ingress(es) {', '.join(shared)} of the same class also claim host {host}: how the controller merges "
            "their rules is not evaluated"
        )
    answer = _answer(e, port, m, tls is not None and port == 443)
    by = (ing.ref.with_rule(m.where or "spec.rules"), *e.by)
    lead = f"Ingress {key} [{e.implementation}; {e.how}]"
    if m.backend is None and not m.gaps:
        params = {"ingress": key, "method": method, "host": host or "(any)", "path": path}
        params["proxy"] = _proxy(e)
        cause = Cause("ingress-rule-no-match", (ing.ref.with_rule("spec.rules"),), params)
        detail = f"{lead}: no rule matches {method} {host or ''}{path} and there is no default backend → 404"
        result = HopResult(HOP, Decision.BREAK, by, detail, Symptom.HTTP_404, Verdict.BROKEN, (cause,))
        return _done(IngressWalk(result, _with(answer, status=404)), gaps)
    if m.backend is None:
        return _done(IngressWalk(HopResult(HOP, Decision.UNKNOWN, by, lead), answer), gaps)
    if m.backend.service is None:
        gaps.append(f"{m.where} of Ingress {key} is a resource backend ({m.backend.resource}): not evaluated")
        return _done(IngressWalk(HopResult(HOP, Decision.UNKNOWN, by, lead), answer), gaps)
    b, problem = resolve_backend(model, ing, m.backend)
    assert b is not None
    answer = _with(answer, backends=(b,), status=503 if problem else None)
    if problem is not None:
        params = {"ingress": key, "rule": m.where, "why": problem, "proxy": _proxy(e)}
        cause = Cause("ingress-backend-missing", (ing.ref.with_rule(m.backend.path),), params)
        detail = f"{lead} {m.where}: {problem} → 503"
        result = HopResult(HOP, Decision.BREAK, by, detail, Symptom.HTTP_503, Verdict.BROKEN, (cause,))
        return _done(IngressWalk(result, answer), gaps)
    detail = f"{lead} {m.where} takes {method} {host or ''}{path} → Service {b.namespace}/{b.name}:{b.port}"
    if e.lb:
        detail += f"; Cilium's Envoy behind its {e.lb}"
    return _done(IngressWalk(HopResult(HOP, Decision.ALLOW, by, detail), answer), gaps)


def _https_redirect(model: Model, ing: Ingress, host: str | None) -> str:
    """GB7: Cilium may answer plain HTTP for a host it terminates TLS for with a redirect to HTTPS
    (cilium-config enforce-ingress-https, annotation ingress.cilium.io/force-https)."""
    said = ing.annotations.get("ingress.cilium.io/force-https") or model.cilium_config.get("enforce-ingress-https")
    setting = f" (set: {said})" if said else ""
    return (
        f"Ingress {ing.ref.namespace}/{ing.ref.name} terminates TLS for host {host or '(none)'}: whether Cilium "
        f"redirects plain HTTP to HTTPS (enforce-ingress-https / ingress.cilium.io/force-https{setting}) is not "
        "evaluated"
    )


def _proxy(e: IngressEntry) -> str:
    return {"cilium": "Cilium's Envoy", "istio": "Istio's ingress gateway"}.get(e.implementation, "its controller")


def _answer(e: IngressEntry, port: int, m: IngressMatch, tls: bool) -> GatewayAnswer:
    ing = e.ingress
    return GatewayAnswer(
        "Ingress",
        ing.ref.namespace or "default",
        ing.ref.name,
        e.class_name,
        e.controller,
        e.implementation,
        None,
        port,
        "HTTPS" if tls else "HTTP",
        m.rule.host if m.rule is not None else None,
        "Terminate" if tls else None,
        route=f"Ingress {ing.ref.namespace}/{ing.ref.name}",
        rule=m.where or None,
        match=m.where or None,
    )


def _with(a: GatewayAnswer, **kw: object) -> GatewayAnswer:
    return replace(a, **kw)  # type: ignore[arg-type]


def _done(walk: IngressWalk, gaps: list[str]) -> IngressWalk:
    named = tuple(dict.fromkeys(gaps))
    r = walk.result
    if not named or (r.decision is Decision.UNKNOWN and r.gaps):
        return walk
    on = f" (on what could be read: {r.detail})" if r.decision is not Decision.UNKNOWN else ""
    detail = f"cannot decide: {'; '.join(named)}{on}"
    result = HopResult(HOP, Decision.UNKNOWN, r.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, r.causes, named)
    return IngressWalk(result, walk.answer)
