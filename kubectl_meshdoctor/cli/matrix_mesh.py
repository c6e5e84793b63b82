"""`matrix` on N-cluster input (issue 21): the same outputs as one cluster's matrix, each workload
written ``NS/NAME@CLUSTER``; JSON cells carry ``cluster: {source, destination}`` and the document
lists ``rows`` and ``columns`` with their cluster."""

from __future__ import annotations

import click

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster_matrix import Member, matrix, matrix_what_if
from kubectl_meshdoctor.diagnosis.matrix import Cell


def _member(m: Member) -> dict[str, str]:
    w = m.workload
    return {"namespace": w.namespace, "name": w.name, "kind": w.kind, "cluster": m.cluster}


def run_mesh(
    opts: app.SourceOptions,
    namespaces: list[str] | None,
    selector: dict[str, str],
    method: str,
    path: str,
    no_flows: bool,
    output: str,
    what_if: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> int:
    before: dict[tuple[str, str], Cell] | None = None
    applied: list[str] = []
    if any(what_if):  # each change names its cluster (app_multicluster_whatif.py)
        result, before, applied = matrix_what_if(opts, namespaces, selector, method, path, what_if)
    else:
        result = matrix(opts, namespaces, selector, method, path, no_flows)
    clients = [m.shown() for m in result.clients]
    servers = [m.shown() for m in result.servers]
    cells = result.cells
    if output == "text":
        from kubectl_meshdoctor.render.layout import Lines
        from kubectl_meshdoctor.render.matrix import changed_cells, render_matrix, what_if_banner
        from kubectl_meshdoctor.render.text import print_to

        if before is not None:
            banner = Lines()
            what_if_banner(applied, changed_cells(before, cells), banner)
            print_to(True, banner)
        print_to(True, render_matrix(clients, servers, cells, before))
        if not cells:
            click.echo("no client → server pair in scope (a workload is not paired with itself; widen -n or -l)")
        for gap in dict.fromkeys([*result.gaps, *(g for c in cells for g in c.gaps)]):
            click.echo(f"gap: {gap}")
        undecided = sum(1 for c in cells if c.verdict.value == "unknown")
        if undecided:
            click.echo(f"{undecided} cell(s) shown as ? could not be decided (see the gaps above)")
        for note in result.warnings:
            click.echo(f"note: {note}")
    elif output == "markdown":
        from kubectl_meshdoctor.cli.matrix import _what_if_markdown
        from kubectl_meshdoctor.render.markdown import matrix_markdown

        if before is not None:
            click.echo(_what_if_markdown(applied, before, cells))
        click.echo(matrix_markdown(clients, servers, cells, result.gaps), nl=False)
    else:
        from kubectl_meshdoctor.cli.matrix import cell_doc
        from kubectl_meshdoctor.render.document import dump

        doc = {
            "rows": [_member(m) for m in result.clients],
            "columns": [_member(m) for m in result.servers],
            "cells": [cell_doc(c) for c in cells],
            "gaps": result.gaps,
            **({"warnings": result.warnings} if result.warnings else {}),
        }
        if before is not None:
            from kubectl_meshdoctor.cli.matrix import _what_if_doc

            doc["whatIf"] = _what_if_doc(applied, before, cells)
        click.echo(dump(doc, output), nl=False)
    return result.exit_code
