"""The matrix as a rich table: rows clients, columns servers."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from kubectl_meshdoctor.diagnosis.matrix import Cell
from kubectl_meshdoctor.findings.types import Verdict
from kubectl_meshdoctor.model.objects import Workload
from kubectl_meshdoctor.render.text import clean

_STYLE = {Verdict.ALLOWED: "green", Verdict.DENIED: "red", Verdict.BROKEN: "bold red", Verdict.UNKNOWN: "yellow"}


def render_matrix(clients: list[Workload], servers: list[Workload], cells: list[Cell]) -> Table:
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
