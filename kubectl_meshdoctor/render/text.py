"""Rich text for humans. Builds Text objects (never markup strings with data in them);
control characters from flows and objects are made visible (habit 11)."""

from __future__ import annotations

import re

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import HOP_TITLES, Decision, Diagnosis, Verdict

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_VERDICT_STYLE = {
    Verdict.ALLOWED: ("✓ ALLOWED", "bold green"),
    Verdict.DENIED: ("✗ DENIED", "bold red"),
    Verdict.BROKEN: ("✗ BROKEN", "bold red"),
    Verdict.UNKNOWN: ("? UNKNOWN", "bold yellow"),
}
_DECISION_STYLE = {
    Decision.ALLOW: "green",
    Decision.DENY: "bold red",
    Decision.BREAK: "bold red",
    Decision.SKIP: "dim",
    Decision.UNKNOWN: "yellow",
}
_SYMPTOM_TEXT = {
    "ok": "success",
    "http-403": "HTTP 403",
    "http-503": "HTTP 503",
    "http-404": "HTTP 404",
    "http-502": "HTTP 502",
    "http-400": "HTTP 400",
    "http-500": "HTTP 500",
    "http-504": "HTTP 504 (upstream request timeout)",
    "timeout": "timeout (curl 000, exit 28)",
    "reset": "connection reset (exit 56)",
    "refused": "connection refused (exit 7)",
    "dns-failure": "could not resolve host (exit 6)",
    "unknown": "unknown",
}


def clean(value: object) -> str:
    return _CTRL.sub(lambda m: f"^{chr(ord(m.group()) ^ 0x40)}", str(value))


def _t(value: object, style: str = "") -> Text:
    return Text(clean(value), style=style)


def render_diagnosis(d: Diagnosis) -> Group:
    parts: list[object] = []
    label, style = _VERDICT_STYLE[d.verdict]
    dst = d.destination
    target = dst.external or f"{dst.namespace}/{dst.workload}"
    head = Text()
    head.append(label, style=style)
    head.append("  ")
    head.append(clean(f"{d.source.namespace}/{d.source.workload}"), style="bold")
    head.append(" → ")
    head.append(clean(f"{target}:{dst.port}"), style="bold")
    head.append(
        clean(
            f"  {d.request.method} {d.request.path}   "
            f"client sees: {_SYMPTOM_TEXT.get(d.symptom.value, d.symptom.value)}"
        )
    )
    parts.append(head)
    meshes = Text(
        clean(f"  mesh: {d.source.namespace}/{d.source.workload} {d.source.mesh.value}, {target} {dst.mesh.value}"),
        style="dim",
    )
    parts.append(meshes)
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column("  hop", no_wrap=True)
    table.add_column("decision", no_wrap=True)
    table.add_column("by", overflow="fold")
    leg: str | None = None
    for hop in d.hops:
        if hop.leg and hop.leg != leg:
            table.add_row(_t(f"  ─ {hop.leg}", "bold"), _t(""), _t(""))
        leg = hop.leg
        by = "; ".join(r.key() for r in hop.by)
        detail = hop.detail if not by or by in hop.detail else f"{by}: {hop.detail}"
        table.add_row(
            _t("  " + HOP_TITLES[hop.hop]),
            _t(
                hop.decision.value.upper() if hop.decision in (Decision.BREAK, Decision.DENY) else hop.decision.value,
                _DECISION_STYLE[hop.decision],
            ),
            _t(detail),
        )
    parts.append(Text(""))
    parts.append(table)
    for cause in d.causes:
        sev = catalog.severity(cause).value
        line = Text("\n  cause  ")
        line.append(clean(cause.code), style="bold")
        line.append(clean(f" ({sev})"), style="red" if sev == "error" else "yellow" if sev == "warning" else "cyan")
        parts.append(line)
        parts.append(_t(_wrap(catalog.summary(cause), 9)))
        for ref in cause.objects:
            origin = f"  ({ref.origin})" if ref.origin else ""
            parts.append(_t(f"         ↳ {ref.key()}{origin}", "dim"))
        parts.append(_t(_fix_block(catalog.fix(cause))))
    ev = d.evidence
    agree = "" if ev.flows == 0 or ev.agrees is None else ("  (agrees)" if ev.agrees else "  (CONTRADICTS the objects)")
    parts.append(Text(""))
    parts.append(_t(f"  hubble {ev.summary or 'no flows'}{agree}", "" if ev.agrees is not False else "bold yellow"))
    for gap in d.gaps:
        parts.append(_t(f"  gap    {gap}", "yellow"))
    for warning in d.warnings:
        parts.append(_t(f"  note   {warning}", "dim"))
    return Group(*parts)  # type: ignore[arg-type]


def render_what_if(before: Diagnosis, after: Diagnosis, applied: list[str]) -> Group:
    """One block saying what changed: applied objects, verdict before -> after, causes gone/new."""
    parts: list[object] = [_t("what-if (in memory, nothing applied to the cluster):", "bold")]
    for item in applied:
        parts.append(_t(f"  {item}"))
    b_label, b_style = _VERDICT_STYLE[before.verdict]
    a_label, a_style = _VERDICT_STYLE[after.verdict]
    line = Text("  before ")
    line.append(b_label, style=b_style)
    line.append(clean(f" ({before.symptom.value})  →  after "))
    line.append(a_label, style=a_style)
    line.append(clean(f" ({after.symptom.value})"))
    parts.append(line)
    old = {c.code for c in before.causes}
    new = {c.code for c in after.causes}
    for code in sorted(old - new):
        parts.append(_t(f"  resolved  {code}", "green"))
    for code in sorted(new - old):
        parts.append(_t(f"  new       {code}", "yellow"))
    if old == new and before.verdict == after.verdict:
        parts.append(_t("  no change in verdict or causes", "dim"))
    parts.append(Text(""))
    return Group(*parts)  # type: ignore[arg-type]


def _fix_block(text: str) -> str:
    """The fix under a 9-column indent; long prose lines wrap, YAML/commands keep their lines."""
    import textwrap

    out: list[str] = []
    for i, line in enumerate(text.splitlines() or [""]):
        lead = "  fix    " if i == 0 else " " * 9
        if len(line) > 110 and not line.startswith(" "):
            out.extend(textwrap.wrap(line, width=110, initial_indent=lead, subsequent_indent=" " * 9))
        else:
            out.append(lead + line)
    return "\n".join(out)


def _wrap(text: str, indent: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width=100, initial_indent=" " * indent, subsequent_indent=" " * indent))


def print_to(stream_is_stdout: bool, renderable: object) -> None:
    """Print; when not a TTY, render plain and strip the padding rich adds to table rows."""
    import io
    import os
    import sys

    stream = sys.stdout if stream_is_stdout else sys.stderr
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        Console(file=stream, highlight=False).print(renderable)
        return
    buffer = io.StringIO()
    width = 160 if not stream.isatty() else None
    Console(file=buffer, no_color=True, color_system=None, highlight=False, width=width).print(renderable)
    stream.write("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")
