"""A timeout on a Gateway API route against known delays behind the backend (issue 20 §2;
semantics-gateways.md G5, GB6): `timeouts.request` bounds the gateway's whole answer and
`timeouts.backendRequest` one try to a backend ("0s" disables either), so the shorter of the two bounds
the backend's answer, including the calls the backend makes while serving it. Objects cannot tell the
backend's own latency, but they can show a delay injected on the backend's own outbound route (a
VirtualService fault.delay its sidecar applies, diagnosis/downstream.py): a route timeout shorter than
that delay fires and the gateway answers 504 after exactly the timeout (`istio-timeout`, as for a
VirtualService timeout; Cilium's Envoy likewise [inferred]). An Istio Gateway's VirtualService timeout
is judged by the routing hop of the leg from the gateway pod (diagnosis/routing_hop.py)."""

from __future__ import annotations

import re

from kubectl_meshdoctor.diagnosis.call import Query, resolve_call
from kubectl_meshdoctor.diagnosis.downstream import Delay, server_delays
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer, GatewayAnswer
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Severity, Symptom, Verdict
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model

_PART = re.compile(r"(\d+)(ms|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def seconds(duration: str) -> float | None:
    """A Gateway API duration ("1h30m", "500ms", "0s"); None when it does not parse."""
    text = duration.strip()
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(int(n) * _UNIT[u] for n, u in parts)


def bound(timeouts: tuple[tuple[str, str], ...]) -> tuple[float, str] | None:
    """The shortest timeout that applies to one try (seconds, "request 500ms"); "0s" disables one."""
    found = [(s, f"{k} {v}") for k, v in timeouts if (s := seconds(v)) is not None and s > 0]
    return min(found) if found else None


def _route_ref(model: Model, answer: GatewayAnswer) -> ObjectRef | None:
    key = (answer.route or "").split(" ", 1)[-1]
    return next((r.ref for r in model.gateway_api.routes if f"{r.ref.namespace}/{r.ref.name}" == key), None)


def _delays(model: Model, q: Query, b: BackendAnswer, source: Pod | None) -> list[Delay]:
    svc = model.services.get(f"{b.namespace}/{b.name}")
    pods = [p for p in pods_for_service(model, svc) if p.ready] if svc is not None else []
    src = source or (pods[0] if pods else None)  # Cilium's Envoy is no pod: the delay is the backend's own
    if src is None:
        return []
    sub = Query(
        f"{src.namespace}/pod/{src.name}",
        f"{b.namespace}/svc/{b.name}",
        q.namespace,
        b.port,
        q.protocol,
        q.method,
        q.path,
        no_flows=True,
        headers=q.headers,
    )
    try:
        return server_delays(resolve_call(model, sub))
    except MeshdoctorError:
        return []


def route_timeout_hop(
    model: Model, q: Query, answer: GatewayAnswer, proxy: Pod | None, cilium: bool
) -> HopResult | None:
    """The gateway's answer when its route timeout fires before a known delay behind a backend (504),
    or None. Only a delay on every request of every answering backend breaks the call; a delay on some
    requests is said as a warning with its share."""
    limit = bound(answer.timeouts)
    ref = _route_ref(model, answer)
    if limit is None or ref is None or not answer.answering:
        return None
    secs, which = limit
    hits: list[tuple[BackendAnswer, Delay]] = []
    for b in answer.answering:
        hit = next((d for d in _delays(model, q, b, proxy) if d.seconds > secs), None)
        if hit is not None:
            hits.append((b, hit))
    if not hits:
        return None
    rule = answer.rule or ""
    field = "timeouts." + which.split(" ", 1)[0]
    share = sum(b.share * d.percent for b, d in hits)  # percent of the route's requests
    b, d = hits[0]
    server = f"{b.namespace}/{b.name}"
    likely = " (Cilium's Envoy: inferred)" if cilium else ""
    text = (
        f"{ref.kind} {ref.namespace}/{ref.name} {rule} sets {field} {which.split(' ', 1)[1]} but {q.method} "
        f"{q.path} takes at least {d.seconds:g}s: {d.chain(server)}; the gateway gives up and answers 504 after "
        f"the timeout{likely}"
    )
    fix = (
        f"raise {rule}.{field} above {d.seconds:g}s (or 0s to disable it; slower answers then reach the client): "
        f"kubectl -n {ref.namespace} edit httproute {ref.name}; or remove the delay on {d.ref.key()}"
    )
    params = {"vs": f"{ref.namespace}/{ref.name}", "rule": rule, "timeout": f"{secs:g}s", "fix_text": fix}
    params |= {"method": q.method, "path": q.path, "ns": ref.namespace or "default", "name": ref.name}
    refs = (ref.with_rule(f"{rule}.{field}"), d.ref)
    every = share >= 99.999
    cause = Cause("istio-timeout", refs, params, text, Severity.ERROR if every else Severity.WARNING)
    if not every:
        note = f"{share:g}% of requests get 504 ({text})"
        return HopResult(Hop.GATEWAY, Decision.ALLOW, refs, note, causes=(cause,))
    return HopResult(Hop.GATEWAY, Decision.BREAK, refs, text, Symptom.HTTP_504, Verdict.BROKEN, (cause,))
