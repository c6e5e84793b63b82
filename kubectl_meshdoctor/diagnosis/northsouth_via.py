"""`explain world NS/APP --via NS/gateway/NAME` (issue 20 §1): does this request, sent to that Gateway,
reach this backend? The north-south walk to the Gateway, then whether DESTINATION (a Service, or a
workload through the Services that select it) is among the backends that answer."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.northsouth import explain_north_south
from kubectl_meshdoctor.diagnosis.northsouth_entry import may_be_north_south
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings.types import Cause, Diagnosis, ObjectRef, Verdict
from kubectl_meshdoctor.model.refs import resolve, services_for
from kubectl_meshdoctor.model.view import Model


def explain_via(model: Model, q: Query) -> Diagnosis:
    if q.via is None or not may_be_north_south(q.source):
        raise UsageError("--via asks from outside the cluster: use SOURCE world (or an outside IP)")
    target = resolve(model, q.destination, q.namespace, allow_external=False)
    wanted = [target.service] if target.service is not None else services_for(model, target.pods)
    keys = {(s.namespace, s.name) for s in wanted}
    d = explain_north_south(model, replace(q, destination=q.via, via=None))
    g = d.gateway
    if g is None or g.route is None or g.status is not None:
        return d  # the gateway answers itself (or takes no route): the backend is not reached either way
    share = sum(b.share for b in g.answering if (b.namespace, b.name) in keys)
    if share > 0:
        return d
    kind, _, name = g.route.partition(" ")
    ns, _, route = name.partition("/")
    params = {
        "gateway": f"{g.namespace}/{g.name}",
        "route": g.route,
        "rule": g.rule or "",
        "request": f"{q.method} {q.host or ''}{q.path}",
        "answering": ", ".join(f"{b.namespace}/{b.name}" for b in g.answering) or "none",
        "destination": target.label,
    }
    cause = Cause("gateway-routes-elsewhere", (ObjectRef(kind, ns, route, g.rule),), params)
    d.causes.insert(0, cause)
    d.verdict = Verdict.BROKEN
    return d


def explain_world(model: Model, q: Query) -> Diagnosis:
    """SOURCE world (or an outside IP toward NS/gateway/NAME); with --via, toward a backend."""
    return explain_via(model, q) if q.via is not None else explain_north_south(model, q)
