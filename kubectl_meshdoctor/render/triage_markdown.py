"""``triage -o markdown``: the incident summary to paste into an issue.

A ranking table (cause, object, pairs, flows, last seen), a Mermaid graph of the failing calls (one
edge per call, labelled with its failure, coloured by the finding it belongs to), then per finding
its pairs, summary and fix. Values from flows and objects are escaped for tables and Mermaid.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.triage import EXPLAINED, Finding, TriageResult
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.render.markdown import cell, code, fenced, kubectl_get, mermaid_label
from kubectl_meshdoctor.render.triage import KIND_TEXT, UNSEEN_HEAD, UNSEEN_OBJECTS, stamp

# one colour per finding (ranked), so edges with one root cause read as one
_PALETTE = ("#cf222e", "#bc4c00", "#8250df", "#0969da", "#1a7f37", "#9a6700", "#bf3989", "#57606a")


def _cause(f: Finding) -> str:
    return code(f.cause.code) if f.cause is not None else "not explained"


def _object(f: Finding) -> str:
    if f.cause is None or not f.cause.objects:
        return "-"
    return ", ".join(code(r.key()) for r in f.cause.objects)


def triage_mermaid(findings: list[Finding]) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    names = sorted({n for f in findings for c in f.calls for n in (c.group.client.label, c.group.server.label)})
    for name in names:
        ids[name] = f"w{len(ids)}"
        lines.append(f'  {ids[name]}["{mermaid_label(name)}"]')
    edge = 0
    styles: list[str] = []
    for rank, f in enumerate(findings, 1):
        colour = _PALETTE[(rank - 1) % len(_PALETTE)]
        dashed = "" if f.kind == EXPLAINED else ",stroke-dasharray:4"
        for c in f.calls:
            g = c.group
            label = mermaid_label(f"#{rank} {g.signature}", f":{g.port} ×{g.flows}")
            lines.append(f'  {ids[g.client.label]} -->|"{label}"| {ids[g.server.label]}')
            styles.append(f"  linkStyle {edge} stroke:{colour},stroke-width:2px{dashed}")
            edge += 1
    return "\n".join(lines + styles)


def triage_markdown(result: TriageResult, top: int, window: str) -> str:
    shown = result.findings if top <= 0 else result.findings[:top]
    if not result.findings:
        icon, head = ("✅", "no failing flows") if not result.gaps else ("❓", "no failing flows could be read")
        out = [f"## {icon} triage: {head} {cell(window)}", ""]
    else:
        explained = sum(1 for f in result.findings if f.kind == EXPLAINED)
        out = [
            f"## ❌ triage: {result.calls} failing call(s), {result.flows} failing flow(s) {cell(window)}",
            "",
            f"{len(result.findings)} finding(s), {explained} explained by the objects.",
            "",
            "| # | cause | object | pairs | flows | clients | last seen | |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for rank, f in enumerate(shown, 1):
            out.append(
                f"| {rank} | {_cause(f)} | {_object(f)} | {len(f.calls)} | {f.flows} | {f.clients} | "
                f"{cell(stamp(f.last_ns) or '?')} | {cell(KIND_TEXT[f.kind])} |"
            )
        out += ["", "### Failing calls", "", *fenced(triage_mermaid(shown), "mermaid"), ""]
    for rank, f in enumerate(shown, 1):
        out += [f"### {rank}. {_cause(f)} ({cell(KIND_TEXT[f.kind])})", ""]
        if f.cause is not None:
            out += [cell(catalog.summary(f.cause)), ""]
            out += [f"- {code(r.key())}: {code(kubectl_get(r))}" for r in f.cause.objects]
            if f.cause.objects:
                out.append("")
        out += ["| client | server | port | failure | flows | first seen | last seen |",
                "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for c in f.calls:
            g = c.group
            out.append(
                f"| {cell(g.client.label)} | {cell(g.server.label)} | {g.port} | {cell(g.signature)} | {g.flows} | "
                f"{cell(stamp(g.first_ns) or '?')} | {cell(stamp(g.last_ns) or '?')} |"
            )
            for line in (c.error, c.note):  # why it was not asked; how triage found the call it asked
                if line:
                    out.append(f"| | {cell(line)} | | | | | |")
        out.append("")
        if f.cause is not None:
            out += ["**Fix**", "", *fenced(catalog.fix(f.cause), "text"), ""]
            if f.cause.params.get("fix_yaml"):
                out += [*fenced(f.cause.params["fix_yaml"], "yaml"), ""]
        out += [f"- gap: {cell(g)}" for g in f.gaps]
        if f.gaps:
            out.append("")
    if len(shown) < len(result.findings):
        out += [f"{len(result.findings) - len(shown)} more finding(s): `--top 0` lists all.", ""]
    if result.unseen:
        head = UNSEEN_HEAD.split(": ", 1)[1]
        out += ["### Not seen by Hubble", "", f"{cell(head)}; {cell(UNSEEN_OBJECTS.format(n=len(result.unseen)))}:", ""]
        out += [f"- {code(u.ref.key())}: {cell(u.answers)}" for u in result.unseen]
        out.append("")
    if result.gaps or result.warnings:
        out += ["### Gaps and warnings", ""]
        out += [f"- gap: {cell(g)}" for g in result.gaps] + [f"- warning: {cell(w)}" for w in result.warnings]
    return "\n".join(out).rstrip("\n") + "\n"
