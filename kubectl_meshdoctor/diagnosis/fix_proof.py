"""A fix as a proposal with proof (issue 17): the same question and a matrix of other calls are
explained before and after the fix (applied in memory, static analysis both sides).

- resolves: the question's verdict before → after;
- blast radius: every other call whose verdict changes, over the namespaces the fix names and every
  port of the Services there, for this request and two near requests (another method, another path);
- intent: a request the user's policies refuse as written (Cilium L3/L4 and HTTP rules on the app
  port, an AuthorizationPolicy) that the fix lets through is a widening — e.g. HBONE on 15008
  hides the HTTP of an ambient call from Cilium's proxy, so opening 15008 bypasses ``rules.http``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.explain import explain
from kubectl_meshdoctor.diagnosis.matrix import is_server, workloads
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.types import CallChange, Decision, Diagnosis, FixProof, Verdict
from kubectl_meshdoctor.model.objects import Pod, Workload, pod_peer
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model

SYSTEM = frozenset({"kube-system", "istio-system"})
REFUSED = (Verdict.DENIED, Verdict.BROKEN)
OTHER_PATH = "/meshdoctor-other-path"
MAX_CALLS = 600  # calls explained per side; beyond it the blast radius is stated as partial

_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}


def _ref(w: Workload) -> str:
    return f"{w.namespace}/pod/{w.name}" if w.kind == "Pod" else f"{w.namespace}/{_KINDS[w.kind]}/{w.name}"


def _requests(query: Query) -> list[tuple[str, str]]:
    other_method = "POST" if query.method != "POST" else "PUT"
    other_path = OTHER_PATH if query.path != OTHER_PATH else "/"
    return [(query.method, query.path), (other_method, query.path), (query.method, other_path)]


def probes(model: Model, query: Query, namespaces: Iterable[str]) -> list[Query]:
    """The calls a fix in ``namespaces`` can change: every client → server pair with one side there,
    on every port of the server's Services, for this request and its near requests."""
    wanted = set(namespaces)
    chosen = [w for w in workloads(model, None, {}) if w.namespace not in SYSTEM]
    servers = [w for w in chosen if is_server(model, w)]
    out: list[Query] = []
    for client in chosen:
        for server in servers:
            if (client.namespace, client.name) == (server.namespace, server.name):
                continue
            if client.namespace not in wanted and server.namespace not in wanted:
                continue
            ports: list[int | None] = [*sorted({p.port for s in services_for(model, server.pods) for p in s.ports})]
            ports = ports or [None]
            for port in ports:
                for method, path in _requests(query):
                    q = Query(_ref(client), _ref(server), client.namespace, port, query.protocol, method, path)
                    out.append(dataclasses.replace(q, no_flows=True))
    return out


def _key(d: Diagnosis) -> tuple[str, str, int | None, str, str, str]:
    return (
        f"{d.source.namespace}/{d.source.workload}",
        f"{d.destination.namespace}/{d.destination.workload}",
        d.destination.port,
        d.request.protocol,
        d.request.method,
        d.request.path,
    )


def _run(model: Model, queries: list[Query]) -> dict[tuple[str, str, int | None, str, str, str], Diagnosis]:
    out = {}
    for q in queries:
        try:
            d = explain(model, q)
        except MeshdoctorError:
            continue
        out[_key(d)] = d
    return out


def _pod(model: Model, namespace: str, pods: tuple[str, ...]) -> Pod | None:
    return next((model.pods[f"{namespace}/{p}"] for p in pods if f"{namespace}/{p}" in model.pods), None)


Refusal = tuple[str, str, bool]  # the rule, the sentence, whether it looks at the HTTP request


def _refusal(decision: CiliumDecision, d: Diagnosis) -> Refusal | None:
    if decision.decision is Decision.DENY:
        ref = decision.by[0].key() if decision.by else "Cilium default deny"
        return ref, ref, False
    if decision.redirect and decision.l7_kind == "http":
        r = d.request
        match = decision.l7_for(r.method, r.path, r.host, dict(r.headers))
        if not match.allowed and match.unknown is None:
            ref = (match.by or decision.redirect)[0].key()
            return ref, f"{ref} (its HTTP rules refuse {r.method} {r.path})", True
    return None


def written_refusal(model: Model, d: Diagnosis) -> Refusal | None:
    """The user's rule that refuses this request as written — the Cilium rules of both ends on the app
    port with the HTTP visible, or an AuthorizationPolicy's denial — as (rule, sentence), or None."""
    authz = next((c for c in d.causes if c.code in ("istio-authz-denied", "cilium-l7-denied")), None)
    if authz is not None and authz.objects:
        return authz.objects[0].key(), authz.objects[0].key(), True
    client = _pod(model, d.source.namespace, d.source.pods)
    server = _pod(model, d.destination.namespace, d.destination.pods)
    port = d.destination.target_port or d.destination.port
    if client is None or server is None or port is None:
        return None
    protocol = d.request.protocol
    ingress = evaluate(model, server, "ingress", pod_peer(client, d.source.workload), port, protocol)
    egress = evaluate(model, client, "egress", pod_peer(server, d.destination.workload), port, protocol)
    return _refusal(ingress, d) or _refusal(egress, d)


def _another_reason(d: Diagnosis, question: Diagnosis, found: Refusal, same: Refusal | None) -> bool:
    """Refused for another reason than the question: another peer or port (any rule of the user's),
    or the same call with another method/path that an HTTP rule (or AuthorizationPolicy) refuses
    while it admits the question's request. A client under the question's client's identity (same
    service account) is the same peer to an identity-based rule."""
    key, asked = _key(d), _key(question)
    twin = d.source.identity is not None and d.source.identity == question.source.identity
    if key[1:] == asked[1:] and twin and same is not None and found[0] == same[0]:
        return False
    if key[:3] != asked[:3]:
        return True
    return found[2] and (same is None or found[0] != same[0])


def prove(
    before_model: Model,
    after_model: Model,
    query: Query,
    title: str,
    manifests: tuple[str, ...],
    applied: tuple[str, ...],
    namespaces: Iterable[str],
) -> FixProof:
    static = dataclasses.replace(query, no_flows=True)
    question_before = explain(before_model, static)
    question_after = explain(after_model, static)
    asked = _key(question_before)
    touched = sorted(
        n for n in set(namespaces) | {question_before.source.namespace, question_before.destination.namespace} if n
    )
    queries = probes(before_model, static, touched)
    notes: list[str] = []
    if len(queries) > MAX_CALLS:
        notes.append(f"blast radius over the first {MAX_CALLS} of {len(queries)} calls only")
        queries = queries[:MAX_CALLS]
    before, after = _run(before_model, queries), _run(after_model, queries)
    changes: list[CallChange] = []
    widened: list[CallChange] = []
    kept = 0
    same = written_refusal(before_model, question_before)
    if question_after.verdict is Verdict.ALLOWED:
        # the question itself passes, but a request-level rule of the user's still refuses it as written
        # (HTTP rules that HBONE or mTLS hides from Cilium's proxy): the fix goes around that rule
        bypassed = written_refusal(after_model, question_after)
        if bypassed is not None and bypassed[2]:
            widened.append(CallChange(*asked, before=question_before.verdict, after=question_after.verdict,
                                      refused_by=bypassed[1]))  # fmt: skip
    for key, b in before.items():
        a = after.get(key)
        if key == asked or a is None:
            continue
        found = written_refusal(before_model, b) if b.verdict is not Verdict.ALLOWED else None
        refusal = found[1] if found is not None and _another_reason(b, question_before, found, same) else ""
        change = CallChange(*key, before=b.verdict, after=a.verdict, refused_by=refusal)
        moves_with_question = (b.verdict, a.verdict) == (question_before.verdict, question_after.verdict)
        if key[:3] == asked[:3] and moves_with_question and not (refusal and a.verdict not in REFUSED):
            continue  # the question's own call (same peer and port), another request: it is what the fix opens
        if a.verdict is not b.verdict:
            changes.append(change)
            if refusal and a.verdict not in REFUSED:
                widened.append(change)
        if refusal and a.verdict in REFUSED:
            kept += 1
    ports = sorted({k[2] for k in before if k[2] is not None})
    return FixProof(
        title,
        manifests,
        applied,
        question_before.verdict,
        question_after.verdict,
        question_after.symptom,
        len(before) - (1 if asked in before else 0),
        tuple(touched),
        tuple(ports),
        tuple(changes),
        tuple(widened),
        kept=kept,
        notes=tuple(notes),
    )
