"""The matrix as a rich table: rows clients, columns servers."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from kubectl_meshdoctor.diagnosis.matrix import Cell
from kubectl_meshdoctor.findings.types import Verdict
from kubectl_meshdoctor.model.objects import Workload
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


def legend(cells: list[Cell]) -> Text:
    """One line per symbol the table shows: predicted codes first, then what "(x)" means."""
    shown: list[str] = []
    for cell in cells:
        for word in (cell.predicted, cell.observed or ""):
            if word and word not in shown:
                shown.append(word)
        if cell.agrees is False and "!" not in shown:
            shown.append("!")
    lines = ["cells: predicted outcome, then (what Hubble observed) when there are flows"]
    for word in shown:
        if word in _CODES:
            lines.append(f"  {word:<10}{_CODES[word]}")
        elif word.isdigit():
            lines.append(f"  {word:<10}HTTP {word}")
    for word, meaning in LEGEND.items():
        if any(cell.observed == word for cell in cells) or (word == "!" and "!" in shown):
            label = "!" if word == "!" else f"({word})"
            lines.append(f"  {label:<10}{meaning}")
    return Text(clean("\n".join(lines)), style="dim")


def render_matrix(clients: list[Workload], servers: list[Workload], cells: list[Cell]) -> Group:
    return Group(_table(clients, servers, cells), Text(""), legend(cells))


def _table(clients: list[Workload], servers: list[Workload], cells: list[Cell]) -> Table:
    by_pair = {(c.source, c.destination): c for c in cells}
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column("client \\ server", no_wrap=True)
    names = [f"{s.namespace}/{s.name}" for s in servers]
    for name in names:
        table.add_column(clean(name), no_wrap=True)
    for c in clients:
        src = f"{c.namespace}/{c.name}"
        row: list[Text] = [Text(clean(src))]
        for dst in names:
            cell = by_pair.get((src, dst))
            if cell is None:
                row.append(Text("-", style="dim"))
                continue
            text = cell.predicted
            if cell.observed is not None:
                text += f" ({cell.observed})"
            if cell.agrees is False:
                text += " !"
            row.append(Text(clean(text), style=_STYLE[cell.verdict] + (" reverse" if cell.agrees is False else "")))
        table.add_row(*row)
    return table
