"""triage output: the contract's JSON/YAML document and the one-screen text ranking.

Names, paths and nodes come from flows: text escapes control characters (render/flows.escape).
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import Any

from kubectl_meshdoctor.diagnosis.triage import EXPLAINED, OBJECTS_ALLOW, Finding, Triaged, TriageResult
from kubectl_meshdoctor.diagnosis.triage_unseen import Unseen
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.render.document import cause_dict, diagnosis_dict
from kubectl_meshdoctor.render.flows import escape

UNSEEN_HEAD = "not seen by Hubble: answers Istio's own proxies give (sidecar, waypoint, gateway) leave no failing flow"
UNSEEN_OBJECTS = "{n} object(s) in scope can make them answer; `explain` decides each call"
UNSEEN_SHOWN = 6

KIND_TEXT = {
    EXPLAINED: "explained",
    OBJECTS_ALLOW: "the objects say this call works",
    "unexplained": "the objects do not decide it",
}


def stamp(ns: int) -> str | None:
    if not ns:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace("000Z", "Z")


def call_dict(call: Triaged) -> dict[str, Any]:
    g = call.group
    requests = [
        {"method": m, "path": p, "status": s, "flows": n}
        for (m, p, s), n in sorted(g.requests.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    out: dict[str, Any] = {
        "source": g.client.label,
        "destination": g.server.label,
        "destinationKind": g.server.kind,
        "port": g.port,
        "signature": g.signature,
        "flows": g.flows,
        "firstSeen": stamp(g.first_ns),
        "lastSeen": stamp(g.last_ns),
        "nodes": sorted(g.nodes),
        "clientPods": sorted(g.client_pods),
        "verdicts": dict(sorted(g.verdicts.items())),
        "requests": requests,
        "explain": diagnosis_dict(call.diagnosis) if call.diagnosis is not None else None,
    }
    if call.error:
        out["error"] = call.error
    if call.note:
        out["note"] = call.note
    if call.see:
        out["asked"] = call.see
    return out


def finding_dict(rank: int, f: Finding) -> dict[str, Any]:
    first = f.calls[0]
    cause = cause_dict(f.cause) if f.cause is not None else None
    verdict = first.diagnosis.verdict.value if first.diagnosis is not None else "unknown"
    return {
        "rank": rank,
        "kind": f.kind,
        "code": f.cause.code if f.cause is not None else None,
        "severity": cause["severity"] if cause else None,
        "summary": cause["summary"] if cause else _unexplained_line(first),
        "objects": cause["objects"] if cause else [],
        "fix": cause["fix"] if cause else None,
        "verdict": verdict,
        "flows": f.flows,
        "clients": f.clients,
        "pairs": len(f.calls),
        "firstSeen": stamp(f.first_ns),
        "lastSeen": stamp(f.last_ns),
        "calls": [call_dict(c) for c in f.calls],
        "gaps": f.gaps,
    }


def unseen_dict(u: Unseen) -> dict[str, Any]:
    out = {"kind": u.ref.kind, "namespace": u.ref.namespace, "name": u.ref.name, "answers": u.answers}
    if u.ref.origin:
        out["origin"] = u.ref.origin
    return out


def unseen_text(result: TriageResult) -> list[str]:
    """The statement that Istio's own answers are out of Hubble's sight, with the objects in scope."""
    if not result.unseen:
        return []
    out = ["", UNSEEN_HEAD + ";", f"   {UNSEEN_OBJECTS.format(n=len(result.unseen))}:"]
    out += [f"   {escape(u.ref.key())}: {u.answers}" for u in result.unseen[:UNSEEN_SHOWN]]
    if len(result.unseen) > UNSEEN_SHOWN:
        out.append(f"   ... and {len(result.unseen) - UNSEEN_SHOWN} more (-o json lists them)")
    return out


def _unexplained_line(call: Triaged) -> str:
    if call.error:
        return f"could not explain this call: {call.error}"
    gaps = call.diagnosis.gaps if call.diagnosis is not None else []
    return "the objects do not decide this call" + (f": {gaps[0]}" if gaps else "")


def triage_dict(result: TriageResult, top: int, meta: dict[str, Any]) -> dict[str, Any]:
    shown = result.findings if top <= 0 else result.findings[:top]
    return {
        "apiVersion": "meshdoctor/v1",
        "kind": "Triage",
        **meta,
        "summary": {
            "failingFlows": result.flows,
            "calls": result.calls,
            "findings": len(result.findings),
            "shown": len(shown),
            "explained": sum(1 for f in result.findings if f.kind == EXPLAINED),
        },
        "findings": [finding_dict(i, f) for i, f in enumerate(shown, 1)],
        "gaps": result.gaps,
        "warnings": result.warnings,
        "unseen": [unseen_dict(u) for u in result.unseen],
        "exitCode": result.exit_code,
    }


def _ago(ns: int, now: float | None) -> str:
    if not ns:
        return "?"
    when = datetime.fromtimestamp(ns / 1e9, UTC)
    if now is None:
        return when.strftime("%b %d %H:%M:%S")
    seconds = max(now - ns / 1e9, 0.0)
    if seconds < 90:
        return f"{int(seconds)}s ago"
    return f"{int(seconds // 60)}m ago" if seconds < 5400 else when.strftime("%b %d %H:%M")


def _pair(call: Triaged) -> str:
    g = call.group
    return escape(f"{g.client.label} → {g.server.label}:{g.port} ({g.signature}, {g.flows} flows)")


def triage_text(
    result: TriageResult, top: int, window: str, now: float | None = None, see_flags: str = ""
) -> list[str]:
    """The ranking: per finding its cause, deciding object, pairs, flows, last seen and fix."""
    out: list[str] = []
    if not result.findings:
        out.append(f"✓ no failing flows {window}" if not result.gaps else f"? no failing flows read {window}")
    else:
        explained = sum(1 for f in result.findings if f.kind == EXPLAINED)
        out.append(
            f"✗ {result.calls} failing call(s), {result.flows} failing flow(s) {window}: "
            f"{len(result.findings)} finding(s), {explained} explained by the objects"
        )
    shown = result.findings if top <= 0 else result.findings[:top]
    for rank, f in enumerate(shown, 1):
        first = f.calls[0]
        verdict = first.diagnosis.verdict.value if first.diagnosis is not None else "unknown"
        objects = ", ".join(r.key() for r in f.cause.objects) if f.cause is not None else ""
        head = f.cause.code if f.cause is not None else "not explained"
        out.append("")
        out.append(f"#{rank} {head}{'  ' + escape(objects) if objects else ''}  [{KIND_TEXT[f.kind]}; {verdict}]")
        pairs = [_pair(c) for c in f.calls[:5]]
        if len(f.calls) > 5:
            pairs.append(f"... and {len(f.calls) - 5} more")
        out.append(f"   pairs  {len(f.calls)}: " + "; ".join(pairs))
        out.append(f"   flows  {f.flows} from {f.clients} client(s), last seen {_ago(f.last_ns, now)}")
        if f.cause is not None:
            out.append(f"   why    {escape(catalog.summary(f.cause))}")
            fix = catalog.fix(f.cause).strip().splitlines()
            if fix:
                out.append(f"   fix    {fix[0]}")
                out += [f"          {line}" for line in fix[1:8]]
                if len(fix) > 8:
                    out.append("          ... (the whole fix: -o yaml, or explain the pair)")
        else:
            out.append(f"   why    {escape(_unexplained_line(first))}")
        if first.note:
            out.append(f"   note   {escape(first.note)}")
        req = first.group.request()
        see = (
            f"kubectl meshdoctor explain {first.group.client.ref} {first.group.server.ref}{_explain_flags(first, req)}"
            f"{see_flags}"
        )
        if first.see is not None:  # the call triage asked instead (Cilium's Envoy at one end); "": none
            see = f"kubectl meshdoctor {first.see}{see_flags}" if first.see else ""
        if see:
            out.append(f"   see    {escape(see)}")
    if len(shown) < len(result.findings):
        out += ["", f"{len(result.findings) - len(shown)} more finding(s): --top 0 shows all"]
    out += unseen_text(result)
    for gap in result.gaps:
        out.append(f"gap: {gap}")
    for warning in result.warnings:
        out.append(f"warning: {warning}")
    return out


def _explain_flags(call: Triaged, request: tuple[str, str]) -> str:
    d = call.diagnosis
    flags = ""
    if d is not None and d.destination.port:
        flags += f" --port {d.destination.port}"
    elif call.group.port and call.group.port != 15008:
        flags += f" --port {call.group.port}"
    method, path = request
    if method != "GET":
        flags += f" --method {method}"
    if path != "/":
        flags += f" --path {shlex.quote(path)}"
    return flags
