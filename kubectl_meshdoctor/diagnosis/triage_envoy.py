"""triage for failing flows Cilium's Envoy sent (issue 19 with issue 20 §4; semantics-gateways.md Part H).

A failing call whose client is the reserved identity ``ingress`` (8) is Cilium's Envoy calling a
backend pod for some Ingress or Gateway it serves: there is no client pod to explain. The call asked
instead is the north-south one, ``world → NS/gateway/NAME`` (or ``NS/ingress/NAME``), with the
request the flows show (their HTTP records when they carry any) or, else, one that a route rule
sending to that backend selects (said as inferred). Each candidate (diagnosis/envoy_entries.py) is
walked by explain's own north-south engine and kept only when the walk sends the request to a
Service of that backend. Then:

* one entry point (and every request that reaches the backend through it giving the same answer):
  the call is that north-south call, classified as any other (explained, objects-allow, unknown);
* several entry points, or requests through one that disagree: unexplained, naming each candidate
  and its answer (never one picked silently);
* none: unexplained, saying that no Cilium-served entry point in this view routes to the backend.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.envoy_entries import Candidate, candidates
from kubectl_meshdoctor.diagnosis.triage_groups import Group, Peer, orient
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.types import Decision, Diagnosis
from kubectl_meshdoctor.model.index import services_selecting
from kubectl_meshdoctor.model.view import Model

__all__ = ["Asked", "ask", "ends", "envoy_client", "explain_envoy_call", "is_envoy", "observed", "question", "settle"]

INGRESS_IDENTITY = 8
INGRESS_LABEL = "reserved:ingress"
ENVOY = "Cilium's Envoy (identity ingress)"
WORLD_DENIED = "cilium-ingress-world-denied"  # the policy point at the entry (diagnosis/cilium_ingress_point.py)


def is_envoy(ep: Any) -> bool:
    """A flow end that is Cilium's Envoy: the reserved identity ingress, no pod."""
    return not ep.pod_name and _is_ingress(ep)


def _is_ingress(ep: Any) -> bool:
    return bool(ep.identity == INGRESS_IDENTITY or INGRESS_LABEL in ep.labels)


def ends(flow: flow_pb2.Flow) -> tuple[Any, Any]:
    """(client end, server end) of a flow."""
    return (flow.destination, flow.source) if orient(flow) else (flow.source, flow.destination)


def envoy_client(group: Group) -> bool:
    """The call's client is Cilium's Envoy: no pod, the reserved identity ingress."""
    if group.client.kind != "external" or not group.kept:
        return False
    client, _ = ends(group.kept[-1])
    return is_envoy(client)


def observed(group: Group) -> tuple[str | None, str, str] | None:
    """(host, method, path) of the HTTP records the call's flows carry, the one seen most."""
    if not group.requests:
        return None
    method, path = group.request()
    hosts = [
        urlsplit(f.l7.http.url).hostname for f in group.kept if f.l7.WhichOneof("record") == "http" and f.l7.http.url
    ]
    return (hosts[-1] if hosts else None), method, path


def question(c: Candidate, source: str = "world") -> str:
    """The explain command line that asks this candidate (without the input flags)."""
    words = ["explain", source, c.entry]
    if c.port:
        words += ["--port", str(c.port)]
    if c.host:
        words += ["--host", c.host]
    if c.method != "GET":
        words += ["--method", c.method]
    if c.path != "/":
        words += ["--path", c.path]
    for name, value in c.headers:
        words += ["-H", f"{name}: {value}"]
    return shlex.join(words)


def ask(model: Model, c: Candidate, source: str = "world") -> Diagnosis | None:
    """explain's answer for the north-south call of this candidate (None: it cannot be asked)."""
    from kubectl_meshdoctor.diagnosis.explain import explain

    ns = c.entry.split("/", 1)[0]
    query = Query(source, c.entry, ns, c.port, "TCP", c.method, c.path, headers=c.headers, host=c.host)
    try:
        return explain(model, query)
    except MeshdoctorError:
        return None


def _probe(model: Model, c: Candidate, services: set[tuple[str, str]], blocked: list[str]) -> Diagnosis | None:
    d = ask(model, c)
    answer = d.gateway if d is not None else None
    if d is None or answer is None or not any((b.namespace, b.name) in services for b in answer.answering):
        return None  # the walk sends this request elsewhere (another rule wins, or the gateway answers itself)
    if any(h.decision is Decision.DENY and any(x.code == WORLD_DENIED for x in h.causes) for h in d.hops):
        blocked.append(c.entry)  # Envoy answers this request 403 itself (the entry's policy): no upstream call
        return None
    return d


def _answer(d: Diagnosis) -> tuple[str, tuple[str, ...]]:
    return d.verdict.value, tuple(c.code for c in d.causes)


@dataclass(frozen=True, slots=True)
class Asked:
    """The call triage asked for a group (relabelled when found), explain's answer (None: none could be
    given), a note saying how it was found or why not, and the explain command to see it ("": there is
    no call to ask)."""

    group: Group
    diagnosis: Diagnosis | None
    note: str
    see: str


def explain_envoy_call(model: Model, group: Group) -> Asked:
    """The north-south call behind a group whose client is Cilium's Envoy."""
    _, server = ends(group.kept[-1])
    pod = model.pods.get(f"{server.namespace}/{server.pod_name}") if server.pod_name else None
    if pod is None:
        return Asked(group, None, f"{ENVOY} sent these flows to a peer that is no pod in this view", "")
    services = services_selecting(model, pod)
    keys = {(s.namespace, s.name) for s in services}
    backend = f"{pod.namespace}/{group.server.name}"
    found, skipped = candidates(model, services)
    seen = observed(group)
    if seen is not None:  # the flows' own request, through each entry point that routes to the backend
        host, method, path = seen
        found = list(dict.fromkeys(replace(c, host=host or c.host, method=method, path=path) for c in found))
    blocked: list[str] = []
    confirmed = [(c, d) for c in found if (d := _probe(model, c, keys, blocked)) is not None]
    left_out = f"; route rules left out: {', '.join(skipped)}" if skipped else ""
    if not confirmed and blocked:
        why = (
            f"{ENVOY} sent these flows to {backend}, but every entry point Cilium serves that routes to it "
            f"({', '.join(dict.fromkeys(blocked))}) denies the request at its own policy (Cilium policies selecting "
            f"the ingress endpoint), so Envoy would not call the backend: the objects may have changed since{left_out}"
        )
        return Asked(group, None, why, "")
    if not confirmed:
        why = (
            f"{ENVOY} sent these flows to {backend}, but no entry point Cilium serves in this view (an Ingress of "
            f"Cilium's class, a Gateway of a Cilium GatewayClass and its routes) routes a request to it{left_out}"
        )
        return Asked(group, None, why, "")
    head = f"{ENVOY} sent these flows to {backend}"
    how = "the request its HTTP records show" if seen is not None else "a request inferred from {rule}"
    return settle(group, confirmed, "world", head, how + left_out)


def settle(group: Group, confirmed: list[tuple[Candidate, Diagnosis]], source: str, head: str, how: str) -> Asked:
    """One entry point whose requests all give one answer: that call; else unexplained naming each."""
    entries = list(dict.fromkeys(c.entry for c, _ in confirmed))
    answers = {_answer(d) for _, d in confirmed}
    if len(entries) > 1 or len(answers) > 1:
        each = "; ".join(f"`{question(c, source)}` ({d.verdict.value})" for c, d in confirmed[:6])
        more = f" and {len(confirmed) - 6} more" if len(confirmed) > 6 else ""
        what = (
            f"entry points fit ({', '.join(entries)}): which one it was these flows do not tell"
            if len(entries) > 1
            else f"requests through {entries[0]} fit and their answers differ"
        )
        return Asked(
            group, None, f"{head}; several {what}; explain each: {each}{more}", question(confirmed[0][0], source)
        )
    c, d = confirmed[0]
    others = f" (each of the {len(confirmed)} requests that fit gives this answer)" if len(confirmed) > 1 else ""
    note = f"{head}: explained as `{question(c, source)}`, {how.format(rule=c.rule)}{others}"
    d.warnings.append(note)
    kind = "ingress" if "/ingress/" in c.entry else "gateway"
    client = Peer("external", "", "world", "world") if source == "world" else group.client
    entry = Peer(kind, "", c.entry, c.entry)
    asked = replace(group, client=client, server=entry, port=d.destination.port or group.port)
    return Asked(asked, d, note, question(c, source))


def behind_envoy(model: Model, group: Group) -> Asked | None:
    """The north-south call behind a group with Cilium's Envoy at one end; None: neither end is it."""
    if envoy_client(group):
        return explain_envoy_call(model, group)
    from kubectl_meshdoctor.diagnosis.triage_envoy_front import envoy_server, explain_envoy_front

    return explain_envoy_front(model, group) if envoy_server(model, group) else None
