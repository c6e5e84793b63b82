"""`matrix` on N-cluster input (issue 21): the same outputs as one cluster's matrix, each workload
written ``NS/NAME@CLUSTER``; JSON cells carry ``cluster: {source, destination}`` and the document
lists ``rows`` and ``columns`` with their cluster."""

from __future__ import annotations

import click

from kubectl_meshdoctor import app
from kubectl_meshdoctor.app_multicluster_matrix import Member, matrix
from kubectl_meshdoctor.errors import UsageError


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
) -> int:
    result = matrix(opts, namespaces, selector, method, path, no_flows)
    clients = [m.shown() for m in result.clients]
    servers = [m.shown() for m in result.servers]
    cells = result.cells
    if output == "text":
        from kubectl_meshdoctor.render.matrix import render_matrix
        from kubectl_meshdoctor.render.text import print_to

        print_to(True, render_matrix(clients, servers, cells))
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
        from kubectl_meshdoctor.render.markdown import matrix_markdown

        click.echo(matrix_markdown(clients, servers, cells, result.gaps), nl=False)
    else:
        from kubectl_meshdoctor.render.document import dump

        doc = {
            "rows": [_member(m) for m in result.clients],
            "columns": [_member(m) for m in result.servers],
            "cells": [
                {
                    "source": c.source,
                    "destination": c.destination,
                    **({"cluster": {"source": c.clusters[0], "destination": c.clusters[1]}} if c.clusters else {}),
                    "verdict": c.verdict.value,
                    "symptom": c.symptom.value,
                    "causes": list(c.causes),
                    "observed": c.observed,
                    **({"agrees": c.agrees} if c.agrees is not None else {}),
                    **({"error": c.error} if c.error else {}),
                    **({"gaps": list(c.gaps)} if c.gaps else {}),
                }
                for c in cells
            ],
            "gaps": result.gaps,
            **({"warnings": result.warnings} if result.warnings else {}),
        }
        click.echo(dump(doc, output), nl=False)
    return result.exit_code


def refuse_what_if(files: tuple[str, ...], deletes: tuple[str, ...]) -> None:
    if files or deletes:
        raise UsageError("matrix --what-if does not take multi-cluster input yet")
