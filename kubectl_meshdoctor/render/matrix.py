"""The matrix as text: rows clients, columns servers, then a legend of what the cells show."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.matrix import Cell
from kubectl_meshdoctor.findings.types import Verdict
from kubectl_meshdoctor.model.objects import Workload
from kubectl_meshdoctor.render.layout import Lines
from kubectl_meshdoctor.render.text import clean

_STYLE = {Verdict.ALLOWED: "green", Verdict.DENIED: "red", Verdict.BROKEN: "bold red", Verdict.UNKNOWN: "yellow"}


# what the observed "(x)" of a cell means (diagnosis.matrix.OBSERVED); the legend lists the ones shown
LEGEND = {
    "fwd": "Hubble saw the packets FORWARDED (L3/L4 only, no HTTP status)",
    "proxied": "Hubble saw them redirected to Cilium's L7 proxy but no HTTP record",
    "000": "Hubble saw them DROPPED (the client times out)",
    "audit": "a policy in audit mode would drop them",
    "!": "the flows contradict the prediction",
}
_CODES = {
    "200": "success",
    "000": "timeout (dropped)",
    "reset": "connection reset",
    "refused": "connection refused",
    "dns": "name does not resolve",
    "?": "could not be decided (a gap: see below)",
}


def legend(cells: list[Cell], out: Lines) -> None:
    """One line per symbol the table shows: predicted codes first, then what "(x)" means."""
    shown: list[str] = []
    for cell in cells:
        for word in (cell.predicted, cell.observed or ""):
            if word and word not in shown:
                shown.append(word)
        if cell.agrees is False and "!" not in shown:
            shown.append("!")
    out.prose(0, ("cells: predicted outcome, then (what Hubble observed) when there are flows", "dim"))
    for word in shown:
        if word in _CODES:
            out.prose(12, (clean(f"  {word:<10}{_CODES[word]}"), "dim"))
        elif word.isdigit():
            out.prose(12, (clean(f"  {word:<10}HTTP {word}"), "dim"))
    for word, meaning in LEGEND.items():
        if any(cell.observed == word for cell in cells) or (word == "!" and "!" in shown):
            label = "!" if word == "!" else f"({word})"
            out.prose(12, (f"  {label:<10}{meaning}", "dim"))


Pair = tuple[str, str]


def changed_cells(before: dict[Pair, Cell], cells: list[Cell]) -> list[tuple[Cell, Cell]]:
    """(before, after) of every cell whose predicted outcome a --what-if change moves."""
    out = []
    for c in cells:
        b = before.get((c.source, c.destination))
        if b is not None and (b.verdict, b.symptom, b.causes) != (c.verdict, c.symptom, c.causes):
            out.append((b, c))
    return out


def what_if_banner(applied: list[str], changes: list[tuple[Cell, Cell]], out: Lines) -> None:
    """What was changed (in memory), then each cell's before -> after; the table shows the after-state."""
    out.prose(2, ("what-if (in memory, nothing applied to the cluster):", "bold"))
    for item in applied:
        out.prose(4, (clean(f"  applied: {item}"), ""))
    if not changes:
        out.prose(4, ("  no cell changes: every call has the outcome it had before", "dim"))
    for b, c in changes:
        line = f"  {c.source} → {c.destination}: {b.predicted} ({b.verdict.value}) → {c.predicted} ({c.verdict.value})"
        out.prose(4, (clean(line), _STYLE[c.verdict]))
    out.blank()


def render_matrix(
    clients: list[Workload], servers: list[Workload], cells: list[Cell], before: dict[Pair, Cell] | None = None
) -> Lines:
    """The table never wraps or truncates a cell (wide matrices overflow); the legend wraps. With
    ``before`` (a what-if), a changed cell shows "before→after"."""
    by_pair = {(c.source, c.destination): c for c in cells}
    names = [clean(f"{s.namespace}/{s.name}") for s in servers]
    header = "client \\ server"
    rows: list[list[tuple[str, str]]] = []
    for c in clients:
        src = f"{c.namespace}/{c.name}"
        row = [(clean(src), "")]
        for dst in [f"{s.namespace}/{s.name}" for s in servers]:
            cell = by_pair.get((src, dst))
            if cell is None:
                row.append(("-", "dim"))
                continue
            text = cell.predicted + (f" ({cell.observed})" if cell.observed is not None else "")
            was = (before or {}).get((src, dst))
            if was is not None and was.predicted != cell.predicted:
                text = f"{was.predicted}→{text}"
            text += " !" if cell.agrees is False else ""
            row.append((clean(text), _STYLE[cell.verdict] + (" reverse" if cell.agrees is False else "")))
        rows.append(row)
    header_row = [header, *names]
    columns = zip(header_row, *[[t for t, _ in r] for r in rows], strict=True)
    widths = [max(len(x) for x in col) for col in columns]
    out = Lines()
    out.row(*[(f"{text:<{w}}  ", "bold") for text, w in zip(header_row, widths, strict=True)])
    for row in rows:
        runs: list[tuple[str, str]] = []
        for i, ((text, style), w) in enumerate(zip(row, widths, strict=True)):
            runs.append((text, style))
            if i < len(widths) - 1:
                runs.append((" " * (w - len(text) + 2), ""))
        out.row(*runs)
    out.blank()
    legend(cells, out)
    if any("→" in text for row in rows for text, _ in row[1:]):
        out.prose(12, (f"  {'a→b':<10}a before the what-if change, b after it", "dim"))
    return out
