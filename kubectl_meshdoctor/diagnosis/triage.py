"""triage(): every failing call explained on one model, collapsed by root cause, ranked (issue 19 §3-4).

Each group of failing flows (diagnosis/triage_groups.py) is asked as ``explain`` would be asked
(client, server, the port the server received it on, the request the flows show) with explain's own
engine, on one model holding the objects once and the failing flows as evidence. Then:

* ``explained``: explain says ``denied`` or ``broken``; groups whose root cause (the first cause of
  the breaking hop: code and deciding objects) is the same collapse into one finding;
* ``objects-allow``: explain says the call works (``allowed``, or ``unknown`` only because the flows
  contradict it) although Hubble shows it failing: cause ``failing-call-objects-allow``, saying
  whether it looks like the application's own answer, a construct we do not model, or objects that
  changed since the flows; one finding per call, never dropped;
* ``unexplained``: the static part is ``unknown`` (flows only, unreadable objects: the gaps say
  which), or the call could not be asked (an end missing from the objects); one finding per call.

Connections redirected to Cilium's L7 proxy are no failure by themselves (that is how L7 policy
works); such a group is kept only when explain says the proxy itself breaks the call (the Cilium L7
hop breaks, whatever the request: mTLS or HBONE where it expects HTTP), a failure that leaves no
failing flow (semantics B5/B6). Any other answer drops the group.

Findings rank by failing flows, then distinct clients, then recency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.evidence import FlowIndex
from kubectl_meshdoctor.diagnosis.triage_groups import REDIRECTED, Group
from kubectl_meshdoctor.diagnosis.triage_unseen import Unseen
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Cause, Decision, Diagnosis, Hop, Severity, Verdict
from kubectl_meshdoctor.model.view import Model

__all__ = ["EXPLAINED", "OBJECTS_ALLOW", "UNEXPLAINED", "Finding", "TriageResult", "Triaged", "triage"]

EXPLAINED, OBJECTS_ALLOW, UNEXPLAINED = "explained", "objects-allow", "unexplained"
HBONE_PORT = 15008


@dataclass(slots=True)
class Triaged:
    """One failing call and explain's answer for it."""

    group: Group
    diagnosis: Diagnosis | None
    kind: str
    cause: Cause | None  # the root cause (explained) or failing-call-objects-allow
    error: str | None = None  # why the call could not be asked
    note: str | None = None  # how the call was found (Cilium's Envoy at one end: diagnosis/triage_envoy.py)
    see: str | None = None  # explain's command line when triage asked another call than the group's ("": none)


@dataclass(slots=True)
class Finding:
    kind: str
    cause: Cause | None
    calls: list[Triaged] = field(default_factory=list)

    @property
    def flows(self) -> int:
        return sum(c.group.flows for c in self.calls)

    @property
    def clients(self) -> int:
        return len({c.group.client.label for c in self.calls})

    @property
    def last_ns(self) -> int:
        return max(c.group.last_ns for c in self.calls)

    @property
    def first_ns(self) -> int:
        return min(c.group.first_ns for c in self.calls)

    @property
    def gaps(self) -> list[str]:
        return list(dict.fromkeys(g for c in self.calls if c.diagnosis for g in c.diagnosis.gaps))


@dataclass(slots=True)
class TriageResult:
    findings: list[Finding]
    flows: int  # failing flows read
    gaps: list[str] = field(default_factory=list)  # what the whole triage could not see (Relay down)
    warnings: list[str] = field(default_factory=list)
    unseen: list[Unseen] = field(default_factory=list)  # objects whose Istio answers Hubble cannot show

    @property
    def calls(self) -> int:
        return sum(len(f.calls) for f in self.findings)

    @property
    def exit_code(self) -> int:
        """1: failures found and explained (or shown failing where the objects allow them); 0: the
        window has none; 3: failures none of which could be explained, or no flows could be read."""
        if any(f.kind != UNEXPLAINED for f in self.findings):
            return 1
        return 3 if self.findings or self.gaps else 0


def root_cause(d: Diagnosis) -> Cause | None:
    """The first cause of the hop that breaks the call, else its first error cause."""
    for hop in d.hops:
        if hop.decision in (Decision.DENY, Decision.BREAK) and hop.causes:
            return hop.causes[0]
    errors = [c for c in d.causes if catalog.severity(c) is Severity.ERROR and c.code != "invalid-object"]
    return errors[0] if errors else (d.causes[0] if d.causes else None)


def _query(group: Group) -> Query:
    method, path = group.request()
    port: int | None = group.port or None
    if port == HBONE_PORT:
        port = None  # ambient HBONE: the app port is inside the tunnel; explain takes the Service's
    protocol = "TCP"
    if group.kept:
        kind = group.kept[-1].l4.WhichOneof("protocol")
        protocol = kind if kind in ("UDP", "SCTP") else "TCP"
    namespace = group.client.namespace or group.server.namespace or "default"
    return Query(group.client.ref, group.server.ref, namespace, port, protocol, method, path)


def _why(group: Group, model: Model) -> tuple[str, str]:
    """Why flows fail where the objects allow: the reason and what to look at."""
    client, server = group.client, group.server
    app_answer = group.signature.startswith("HTTP ") and not group.verdicts.get("DROPPED")
    if app_answer:
        name = server.ref.split("/", 1)[-1]
        where = f"kubectl logs -n {server.namespace} {name}" if server.namespace else "the server"
        return (
            f"the server answered {group.signature} itself, behind every enforcement point (an application "
            "error or an upstream failure, not a policy)",
            f"look at the server's own logs and metrics: {where}",
        )
    unmodelled = [g for g in model.gaps if "not modelled" in g]
    observe = (
        f"`hubble observe --from-pod {client.label} --to-pod {server.label} --verdict DROPPED -o json`"
        if client.namespace and server.namespace
        else "`hubble observe --verdict DROPPED -o json`"
    )
    if unmodelled:
        return (
            f"a construct we do not model may decide it ({unmodelled[0]})",
            f"review those objects for this call; {observe} shows what Hubble attributes the failure to",
        )
    return (
        "the objects may have changed since these flows, or something outside them fails the call (a policy "
        "missing from this view, a host firewall, a stale endpoint identity)",
        f"compare with the objects at the time of the flows (a snapshot taken then); {observe}",
    )


def _objects_allow(group: Group, model: Model) -> Cause:
    why, hint = _why(group, model)
    params = {
        "client": group.client.label,
        "server": group.server.label,
        "port": str(group.port),
        "signature": group.signature,
        "flows": str(group.flows),
        "why": why,
        "fix_hint": hint,
    }
    return Cause("failing-call-objects-allow", (), params)


def _proxy_breaks(d: Diagnosis) -> bool:
    hop = next((h for h in d.hops if h.decision in (Decision.DENY, Decision.BREAK)), None)
    return (
        d.verdict is Verdict.BROKEN and hop is not None and hop.hop is Hop.CILIUM_L7 and hop.decision is Decision.BREAK
    )


def _classify(group: Group, d: Diagnosis, model: Model) -> Triaged | None:
    if group.signature == REDIRECTED:
        return Triaged(group, d, EXPLAINED, root_cause(d)) if _proxy_breaks(d) else None
    if d.verdict in (Verdict.DENIED, Verdict.BROKEN):
        return Triaged(group, d, EXPLAINED, root_cause(d))
    contradicted = any(c.code == "flows-contradict-policy" for c in d.causes)
    undecided = any(h.decision is Decision.UNKNOWN for h in d.hops)
    if d.verdict is Verdict.ALLOWED or (contradicted and not undecided):
        return Triaged(group, d, OBJECTS_ALLOW, _objects_allow(group, model))
    return Triaged(group, d, UNEXPLAINED, None)


def _explain_one(model: Model, group: Group, flows_only: bool) -> Triaged | None:
    from kubectl_meshdoctor.diagnosis.explain import explain

    if not flows_only and group.signature != REDIRECTED:
        from kubectl_meshdoctor.diagnosis.triage_envoy import behind_envoy

        asked = behind_envoy(model, group)  # Cilium's Envoy at one end: the north-south call behind it
        if asked is not None:
            if asked.diagnosis is None:
                return Triaged(group, None, UNEXPLAINED, None, asked.note, None, asked.see)
            triaged = _classify(asked.group, asked.diagnosis, model)
            if triaged is not None:
                triaged.note, triaged.see = asked.note, asked.see
            return triaged
    query = _query(group)
    try:
        d = _explain_from_flows(model, query, group) if flows_only else explain(model, query)
    except MeshdoctorError as err:
        return None if group.signature == REDIRECTED else Triaged(group, None, UNEXPLAINED, None, str(err))
    return _classify(group, d, model)


def _explain_from_flows(model: Model, query: Query, group: Group) -> Diagnosis:
    """Flows only: the ends resolve from this call's flows; the verdict is unknown with the gap."""
    from kubectl_meshdoctor.diagnosis.flows_only import explain_from_flows
    from kubectl_meshdoctor.model.flow_refs import FlowEndpoints, parse_ref

    endpoints = FlowEndpoints()
    refs = (parse_ref(query.source, query.namespace, False), parse_ref(query.destination, query.namespace, True))
    for flow in group.kept:
        for ref in refs:
            endpoints.note(ref, flow)
    model.flow_endpoints = endpoints
    return explain_from_flows(model, query)


def _collapse(calls: Iterable[Triaged]) -> list[Finding]:
    findings: dict[object, Finding] = {}
    for call in calls:
        if call.kind == EXPLAINED and call.cause is not None:
            key: object = (call.cause.code, tuple(dict.fromkeys(r.key_tuple() for r in call.cause.objects)))
        else:
            key = (call.kind, call.group.key)
        finding = findings.get(key)
        if finding is None:
            finding = findings[key] = Finding(call.kind, call.cause)
        finding.calls.append(call)
    for finding in findings.values():
        finding.calls.sort(key=lambda c: (-c.group.flows, -c.group.last_ns, c.group.key))
        if finding.calls and finding.calls[0].cause is not None:
            finding.cause = finding.calls[0].cause  # the summary and fix of its biggest call
    return sorted(
        findings.values(),
        key=lambda f: (-f.flows, -f.clients, -f.last_ns, f.kind, f.calls[0].group.key if f.calls else ()),
    )


def triage(model: Model, groups: Iterable[Group], flows_only: bool, flow_source: str) -> list[Finding]:
    """Explain every group on ``model`` (loaded once) and return the ranked findings."""
    chosen = list(groups)
    kept = [f for g in chosen for f in g.kept]
    model.flow_files = []
    model.flows = kept
    model.flow_index = FlowIndex(kept)
    model.flow_source = flow_source
    calls = [_explain_one(model, g, flows_only) for g in chosen if not (flows_only and g.signature == REDIRECTED)]
    return _collapse(c for c in calls if c is not None)
