"""Rich text for humans. Builds Text objects (never markup strings with data in them);
control characters from flows and objects are made visible (habit 11)."""

from __future__ import annotations

import re

from rich.console import Console, Group
from rich.text import Text

from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import HOP_TITLES, Decision, Diagnosis, Hop, Verdict
from kubectl_meshdoctor.render.gateway_text import gateway_lines, mesh_route_lines
from kubectl_meshdoctor.render.layout import Lines, Rows
from kubectl_meshdoctor.render.proof import proof_lines

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
SYMPTOM_TEXT = {
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


def _request_line(d: Diagnosis) -> str:
    """The request asked about; "*" (flows only, no --method/--path): every request the flows show."""
    if d.request.method == "*" and d.request.path == "*":
        return "every request seen"
    if d.request.app_protocol == "tcp":  # the raw connection: the payload is plain TCP (issue 22)
        return f"{d.request.protocol} connection"
    return f"{d.request.method} {d.request.path}"


def is_gateway_source(d: Diagnosis) -> bool:
    """The call starts at an ingress gateway (an Envoy of its own, not a sidecar): the routing hop
    was decided by a Gateway/HTTPRoute binding (diagnosis/gateway_hop.py)."""
    src = f"gateway {d.source.namespace}/{d.source.workload}"
    if d.mesh_route is not None:
        return False  # a GAMMA route (HTTPRoute attached to a Service) applied by a sidecar or waypoint
    for hop in d.hops:
        if hop.hop is Hop.CLIENT_ROUTE and (
            hop.detail.startswith(src) or any(r.kind in ("Gateway", "HTTPRoute") for r in hop.by)
        ):
            return True
    return False


_GATEWAY_TITLES = {Hop.CLIENT_PROXY: "gateway Envoy (TLS)", Hop.CLIENT_ROUTE: "gateway routing"}


def render_diagnosis(d: Diagnosis, what_if: bool = False) -> Lines:
    """``what_if``: the answer after an in-memory change, whose flows were not compared (they predate it)."""
    out = Lines()
    label, style = _VERDICT_STYLE[d.verdict]
    dst = d.destination
    src = f"{d.source.namespace}/{d.source.workload}" if d.source.namespace else d.source.workload
    target = dst.external or f"{dst.namespace}/{dst.workload}"
    src += f"@{d.source.cluster}" if d.source.cluster else ""  # multi-cluster input (issue 21)
    target += f"@{dst.cluster}" if dst.cluster and not dst.external else ""
    symptom = SYMPTOM_TEXT.get(d.symptom.value, d.symptom.value)
    if d.share is not None:
        symptom = f"{symptom} for {d.share:.3g}% of requests"
    out.prose(
        4,
        (label, style),
        ("  ", ""),
        (clean(src), "bold"),
        (" → ", ""),
        (clean(f"{target}:{dst.port}"), "bold"),
        (clean(f"  {_request_line(d)}   client sees: {symptom}"), ""),
    )
    gateway = is_gateway_source(d)
    src_mesh = "ingress gateway (Envoy)" if gateway and d.source.kind != "World" else d.source.mesh.value
    out.prose(8, (clean(f"  mesh: {src} {src_mesh}, {target} {dst.mesh.value}"), "dim"))
    if d.request.app_protocol_why:
        payload = {"tcp": "plain TCP", "http": "HTTP", "grpc": "gRPC"}.get(d.request.app_protocol, "")
        out.prose(8, (clean(f"  payload: {payload} ({d.request.app_protocol_why})"), "dim"))
    for line in gateway_lines(d.gateway) if d.gateway is not None else ():  # issue 20: who answers
        out.prose(11, (clean(line), ""))
    for line in mesh_route_lines(d.mesh_route) if d.mesh_route is not None else ():  # issue 20 §3: GAMMA
        out.prose(11, (clean(line), ""))
    rows = []
    leg: str | None = None
    for hop in d.hops:
        if hop.leg and hop.leg != leg:
            rows.append((clean(f"─ {hop.leg}"), "", "bold", ""))  # a section: the leg's hops follow
        leg = hop.leg
        by = "; ".join(r.key() for r in hop.by)
        detail = hop.detail if not by or by in hop.detail else f"{by}: {hop.detail}"
        title = HOP_TITLES[hop.hop]
        if gateway and hop.hop in _GATEWAY_TITLES:
            title = _GATEWAY_TITLES[hop.hop]
            detail = re.sub(r"^sidecar: ", "gateway Envoy: ", detail)
        loud = hop.decision in (Decision.BREAK, Decision.DENY)
        decision = hop.decision.value.upper() if loud else hop.decision.value
        rows.append((clean(title), decision, _DECISION_STYLE[hop.decision], clean(detail)))
    out.blank()
    out.items.append(Rows(("hop", "decision", "by"), rows))
    for cause in d.causes:
        sev = catalog.severity(cause).value
        out.blank()
        sev_style = "red" if sev == "error" else "yellow" if sev == "warning" else "cyan"
        out.prose(9, ("  cause  ", ""), (clean(cause.code), "bold"), (clean(f" ({sev})"), sev_style))
        out.prose(9, (" " * 9, ""), (clean(catalog.summary(cause)), ""))
        for ref in cause.objects:
            origin = f"  ({ref.origin})" if ref.origin else ""
            out.prose(11, (clean(f"         ↳ {ref.key()}{origin}"), "dim"))
        fix_lines(out, catalog.fix(cause))
    for proof in d.fixes:
        out.blank()
        for i, line in enumerate(proof_lines(proof)):
            lead = "  proof  " if i == 0 else " " * 9
            style = "bold yellow" if line.startswith(("WIDENS", "loses")) else ""
            out.prose(11 if line.startswith("  ") else 9, (lead, ""), (clean(line), style))
        causes = tuple(dict.fromkeys(c.params["fix_yaml"].strip() for c in d.causes if c.params.get("fix_yaml")))
        if proof.chosen and proof.manifests != causes:
            out.prose(9, ("  apply  ", ""), ("this proposal instead of the causes' YAML (or run --fix-yaml):", "bold"))
            for line in "---\n".join(m + "\n" for m in proof.manifests).splitlines():
                out.verbatim(" " * 9 + clean(line))
    ev = d.evidence
    out.blank()
    if what_if:
        out.prose(9, ("  hubble not compared: the flows predate the what-if change", "dim"))
    else:
        agree = (
            "" if ev.flows == 0 or ev.agrees is None else ("  (agrees)" if ev.agrees else "  (CONTRADICTS the objects)")
        )
        text = clean(f"  hubble {ev.summary or 'no flows'}{agree}")
        out.prose(9, (text, "" if ev.agrees is not False else "bold yellow"))
    for gap in d.gaps:
        out.prose(9, (clean(f"  gap    {gap}"), "yellow"))
    for warning in d.warnings:
        out.prose(9, (clean(f"  note   {warning}"), "dim"))
    return out


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


_YAML_OR_COMMAND = re.compile(r"^(\s|-\s|[\w./-]+:(\s|$)|kubectl\s|istioctl\s|cilium\s|hubble\s|\$\s|EOF$|---$)")


def fix_lines(out: Lines, text: str) -> None:
    """The fix under a 9-column indent: prose wraps with a hanging indent; YAML, heredocs and
    commands are verbatim (they overflow rather than break, so they can be pasted)."""
    heredoc = False
    for i, line in enumerate(clean(text).splitlines() or [""]):
        lead = "  fix    " if i == 0 else " " * 9
        verbatim = heredoc or bool(_YAML_OR_COMMAND.match(line))
        if re.search(r"<<-?\s*'?EOF'?\s*$", line):
            heredoc = True
        elif line.strip() == "EOF":
            heredoc = False
        if verbatim:
            out.verbatim(lead + line)
        else:
            out.prose(9, (lead, ""), (line, ""))


def print_to(stream_is_stdout: bool, renderable: object) -> None:
    """Print; when not a TTY, render plain and strip the padding rich adds to table rows.

    Width: the terminal's (rich reads ``COLUMNS`` too); not a terminal, ``COLUMNS`` else 160.
    Lines are never cropped: verbatim YAML and commands overflow rather than break."""
    import io
    import os
    import sys

    stream = sys.stdout if stream_is_stdout else sys.stderr
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        Console(file=stream, highlight=False).print(renderable, crop=False)
        return
    buffer = io.StringIO()
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else (None if stream.isatty() else 160)
    console = Console(file=buffer, no_color=True, color_system=None, highlight=False, width=width)
    console.print(renderable, crop=False)
    stream.write("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")
