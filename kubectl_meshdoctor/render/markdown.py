"""``-o markdown`` (contract §1): an incident-ready summary to paste into a GitHub/GitLab issue.

explain: verdict, symptom, the breaking hop, causes with their objects (and the kubectl command
that shows each), evidence counts, fixes with their YAML in fenced blocks, and a Mermaid
``flowchart`` of the path (client → proxies → policies → server, the breaking hop marked).
matrix: the table, the failing pairs with their causes, and a Mermaid graph of the pairs.
Data from objects and flows is escaped for Markdown tables and Mermaid labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from kubectl_meshdoctor.diagnosis.matrix import Cell
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import HOP_TITLES, Decision, Diagnosis, HopResult, ObjectRef, Verdict
from kubectl_meshdoctor.model.objects import Workload
from kubectl_meshdoctor.render.proof import proof_lines
from kubectl_meshdoctor.render.text import SYMPTOM_TEXT, clean

_ICON = {Verdict.ALLOWED: "✅", Verdict.DENIED: "⛔", Verdict.BROKEN: "❌", Verdict.UNKNOWN: "❓"}
_KUBECTL_KIND = {
    "CiliumNetworkPolicy": "ciliumnetworkpolicies.cilium.io",
    "CiliumClusterwideNetworkPolicy": "ciliumclusterwidenetworkpolicies.cilium.io",
    "PeerAuthentication": "peerauthentications.security.istio.io",
    "AuthorizationPolicy": "authorizationpolicies.security.istio.io",
    "DestinationRule": "destinationrules.networking.istio.io",
    "VirtualService": "virtualservices.networking.istio.io",
    "Gateway": "gateways.networking.istio.io",
    "Sidecar": "sidecars.networking.istio.io",
    "ServiceEntry": "serviceentries.networking.istio.io",
    "HTTPRoute": "httproutes.gateway.networking.k8s.io",
}
_BAD = (Decision.BREAK, Decision.DENY)
_CLASS = {Decision.BREAK: "broken", Decision.DENY: "broken", Decision.UNKNOWN: "unknown", Decision.SKIP: "skipped"}


def cell(value: object) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return clean(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def code(value: object) -> str:
    """Inline code that survives backticks in the value."""
    text = clean(value).replace("\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def mermaid_label(*parts: object) -> str:
    """A quoted Mermaid label's text: quotes and angle brackets as entity codes, parts joined by <br/>."""
    escaped = []
    for part in parts:
        text = clean(part).replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
        escaped.append(text.replace("\n", " "))
    return "<br/>".join(escaped)


def fenced(body: str, lang: str = "") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", body.rstrip("\n"), fence]


def kubectl_get(ref: ObjectRef) -> str:
    kind = _KUBECTL_KIND.get(ref.kind, ref.kind.lower())
    ns = f"-n {ref.namespace} " if ref.namespace else ""
    return f"kubectl get {kind} {ns}{ref.name} -o yaml"


def breaking_hop(d: Diagnosis) -> HopResult | None:
    return next((h for h in d.hops if h.decision in _BAD), None) or next(
        (h for h in d.hops if h.decision is Decision.UNKNOWN), None
    )


def explain_markdown(d: Diagnosis, before: Diagnosis | None = None, applied: Iterable[str] = ()) -> str:
    src = f"{d.source.namespace}/{d.source.workload}" if d.source.namespace else d.source.workload
    dst = d.destination.external or f"{d.destination.namespace}/{d.destination.workload}"
    src += f"@{d.source.cluster}" if d.source.cluster else ""  # multi-cluster input (issue 21)
    dst += f"@{d.destination.cluster}" if d.destination.cluster and not d.destination.external else ""
    target = f"{dst}:{d.destination.port}"
    out = [f"## {_ICON[d.verdict]} {d.verdict.value.upper()}: {cell(src)} → {cell(target)} {code(_request(d))}", ""]
    hop = breaking_hop(d)
    ev = d.evidence
    rows = [
        ("Verdict", f"**{d.verdict.value}**"),
        (
            "Symptom",
            f"client sees {cell(SYMPTOM_TEXT.get(d.symptom.value, d.symptom.value))} ({code(d.symptom.value)})"
            + (f" for {d.share:.3g}% of requests" if d.share is not None else ""),
        ),
        ("Breaking hop", _hop_line(hop) if hop else "none: every hop allows the call"),
        ("Causes", ", ".join(code(c.code) for c in d.causes) or "none"),
        ("Mesh", cell(f"{src} {d.source.mesh.value} → {dst} {d.destination.mesh.value}")),
        ("Evidence", cell(_evidence_line(d))),
    ]
    if before is not None:
        rows.append(
            ("What-if", cell(f"before: {before.verdict.value} ({before.symptom.value}); " + "; ".join(applied)))
        )
    out += ["| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows), ""]
    out += ["### Path", "", *fenced(path_mermaid(d), "mermaid"), ""]
    out += ["### Hops", "", "| hop | decision | decided by |", "| --- | --- | --- |"]
    leg: str | None = None
    for h in d.hops:
        if h.leg and h.leg != leg:
            out.append(f"| **{cell(h.leg)}** | | |")  # a leg: client → waypoint, waypoint → server
        leg = h.leg
        decision = f"**{h.decision.value.upper()}**" if h.decision in _BAD else h.decision.value
        by = "; ".join(r.key() for r in h.by)
        detail = h.detail if not by or by in h.detail else f"{by}: {h.detail}"
        out.append(f"| {cell(HOP_TITLES[h.hop])} | {decision} | {cell(detail)} |")
    out.append("")
    if d.causes:
        out += ["### Causes", ""]
    for cause in d.causes:
        out += [f"#### {code(cause.code)} ({catalog.severity(cause).value})", "", clean(catalog.summary(cause)), ""]
        for ref in cause.objects:
            origin = f" ({code(ref.origin)})" if ref.origin else ""
            out.append(f"- {code(ref.key())}{origin}: {code(kubectl_get(ref))}")
        if cause.objects:
            out.append("")
        out += ["**Fix**", "", *fenced(catalog.fix(cause), "text"), ""]
        if cause.params.get("fix_yaml"):
            out += [*fenced(cause.params["fix_yaml"], "yaml"), ""]
    if d.fixes:
        out += ["### Fix proof", ""]
    for proof in d.fixes:
        lines = proof_lines(proof)
        out.append(f"- **{cell(lines[0])}**")
        out += [f"{'    ' if line.startswith('  ') else '  '}- {cell(line.strip())}" for line in lines[1:]]
        if proof.chosen and proof.manifests != _cause_manifests(d):
            out += ["", *fenced("---\n".join(m + "\n" for m in proof.manifests), "yaml")]
        out.append("")
    out += ["### Evidence", "", f"- {cell(_evidence_line(d))}"]
    for name, counts in (("verdicts", ev.verdicts), ("drop reasons", ev.drop_reasons), ("HTTP status", ev.http_status)):
        if counts:
            out.append(f"- {name}: " + ", ".join(f"{cell(k)} {v}" for k, v in sorted(counts.items())))
    out += [f"- gap: {cell(g)}" for g in d.gaps] + [f"- note: {cell(w)}" for w in d.warnings]
    return "\n".join(out) + "\n"


def _cause_manifests(d: Diagnosis) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.params["fix_yaml"].strip() for c in d.causes if c.params.get("fix_yaml")))


def _request(d: Diagnosis) -> str:
    host = f" Host: {d.request.host}" if d.request.host else ""
    return f"{d.request.protocol} {d.request.method} {d.request.path}{host}"


def _hop_line(hop: HopResult) -> str:
    by = ", ".join(code(r.key()) for r in hop.by)
    return f"{cell(HOP_TITLES[hop.hop])} ({hop.decision.value})" + (f": {by}" if by else "")


def _evidence_line(d: Diagnosis) -> str:
    ev = d.evidence
    if ev.source == "none" or not ev.flows:
        return f"Hubble: {ev.summary or 'no flows'}"
    if ev.agrees is None:  # inconclusive: the summary says why, as text and JSON do
        return f"Hubble ({ev.source}): {ev.summary}"
    agrees = "agrees with the objects" if ev.agrees else "CONTRADICTS the objects"
    return f"Hubble ({ev.source}): {ev.summary}; {agrees}"


def path_mermaid(d: Diagnosis) -> str:
    """client → each hop (proxies and policies, in call order) → server; the breaking hop red,
    hops after it dashed (not reached)."""
    src = f"{d.source.namespace}/{d.source.workload}" if d.source.namespace else d.source.workload
    dst = d.destination.external or f"{d.destination.namespace}/{d.destination.workload}"
    lines = ["flowchart LR", f'  client(["{mermaid_label(src, f"client, {d.source.mesh.value}")}"])']
    broken = breaking_hop(d)
    previous, reached = "client", True
    classes: dict[str, list[str]] = {"passed": [], "broken": [], "unknown": [], "skipped": []}
    for i, h in enumerate(d.hops, 1):
        node = f"h{i}"
        parts = [HOP_TITLES[h.hop], h.decision.value.upper(), *(r.key() for r in h.by[:1])]
        lines.append(f'  {node}["{mermaid_label(*parts)}"]')
        new_leg = h.leg and (i == 1 or d.hops[i - 2].leg != h.leg)  # a leg starts: name it on the edge
        label = f'|"{mermaid_label(h.leg)}"|' if new_leg else ""
        lines.append(f"  {previous} {'-->' if reached else '-.->'}{label} {node}")
        group = _CLASS.get(h.decision, "passed")
        classes[group].append(node)
        if h is broken and h.decision in _BAD:
            reached = False
        previous = node
    server = mermaid_label(f"{dst}:{d.destination.port}", f"server, {d.destination.mesh.value}")
    lines.append(f'  server(["{server}"])')
    lines.append(f"  {previous} {'-->' if reached else '-.->'} server")
    lines += [
        "  classDef passed fill:#e6ffed,stroke:#2da44e",
        "  classDef broken fill:#ffebe9,stroke:#cf222e,stroke-width:3px",
        "  classDef unknown fill:#fff8c5,stroke:#bf8700",
        "  classDef skipped fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4",
    ]
    lines += [f"  class {','.join(nodes)} {name}" for name, nodes in classes.items() if nodes]
    return "\n".join(lines)


def matrix_markdown(
    clients: list[Workload], servers: list[Workload], cells: list[Cell], gaps: Sequence[str] = ()
) -> str:
    names = [f"{s.namespace}/{s.name}" for s in servers]
    by_pair = {(c.source, c.destination): c for c in cells}
    failing = [c for c in cells if c.verdict is not Verdict.ALLOWED]
    icon = "✅" if not failing else "❌"
    out = [f"## {icon} matrix: {len(failing)} of {len(cells)} calls fail", ""]
    out += ["| client \\ server | " + " | ".join(cell(n) for n in names) + " |", "| --- |" + " --- |" * len(names)]
    for client in clients:
        src = f"{client.namespace}/{client.name}"
        row = []
        for dst in names:
            item = by_pair.get((src, dst))
            row.append("-" if item is None else cell(_shown(item)))
        out.append(f"| {cell(src)} | " + " | ".join(row) + " |")
    out += ["", "Cells: the predicted outcome (200, 403, 503, 000 = timeout); `(x)`: what Hubble observed.", ""]
    out += ["### Calls", "", *fenced(matrix_mermaid(cells), "mermaid"), ""]
    if failing:
        out += [
            "### Failing calls",
            "",
            "| client | server | verdict | symptom | causes |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in failing:
            causes = ", ".join(code(x) for x in c.causes) or cell(c.error or "")
            out.append(
                f"| {cell(c.source)} | {cell(c.destination)} | {c.verdict.value} | {c.symptom.value} | {causes} |"
            )
        out += ["", "Explain one: `kubectl meshdoctor explain CLIENT SERVER -o markdown`."]
    every = list(dict.fromkeys([*gaps, *(g for c in cells for g in c.gaps)]))
    if every:
        out += ["", "### Gaps", "", *(f"- {cell(g)}" for g in every)]
    return "\n".join(out) + "\n"


def _shown(c: Cell) -> str:
    text = c.predicted + (f" ({c.observed})" if c.observed is not None else "")
    return text + (" !" if c.agrees is False else "")


def matrix_mermaid(cells: list[Cell]) -> str:
    """Workloads as nodes, one edge per pair labelled with the predicted outcome; failing edges red."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for name in sorted({c.source for c in cells} | {c.destination for c in cells}):
        ids[name] = f"w{len(ids)}"
        lines.append(f'  {ids[name]}["{mermaid_label(name)}"]')
    red = []
    for i, c in enumerate(cells):
        lines.append(f'  {ids[c.source]} -->|"{mermaid_label(_shown(c))}"| {ids[c.destination]}')
        if c.verdict is not Verdict.ALLOWED:
            red.append(str(i))
    if red:
        lines.append(f"  linkStyle {','.join(red)} stroke:#cf222e,stroke-width:2px")
    return "\n".join(lines)
