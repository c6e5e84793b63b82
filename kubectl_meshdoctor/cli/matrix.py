from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from kubectl_meshdoctor.cli.options import (
    debug_option,
    hubble_options,
    kube_options,
    output_choice,
    run,
    scope_help,
    source_from_flags,
    source_options,
    what_if_options,
)

if TYPE_CHECKING:
    from kubectl_meshdoctor.diagnosis.matrix import Cell
    from kubectl_meshdoctor.model.objects import Workload

EXAMPLES = """\b
Examples:
  kubectl meshdoctor matrix -n red,blue,green --demo sidecar-s2-l7-policy --path /ip
  kubectl meshdoctor matrix -A --from ./snapshot -o json
  kubectl meshdoctor matrix -n red,blue,green --demo ambient-a2-l7-policy --what-if-delete cnp/blue/default
  kubectl meshdoctor matrix -n shop --demo clustermesh-local-cluster-selector   # rows/columns NS/NAME@CLUSTER
"""


@scope_help
@click.command("matrix", epilog=EXAMPLES)
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace.")
@click.option("-l", "--selector", help="Only workloads whose pods carry these labels (key=value,...).")
@click.option("--method", default="GET", show_default=True)
@click.option("--path", default="/", show_default=True)
@click.option("--no-flows", is_flag=True, help="Predictions only.")
@what_if_options
@source_options
@kube_options
@hubble_options
@output_choice(
    "text",
    "json",
    "yaml",
    "markdown",
    help="Output format (markdown: a summary table and a Mermaid graph of the calls).",
)
@debug_option
def matrix(
    all_namespaces: bool,
    selector: str | None,
    method: str,
    path: str,
    no_flows: bool,
    what_if_files: tuple[str, ...],
    what_if_deletes: tuple[str, ...],
    from_path: str | None,
    demo_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    request_timeout: str,
    output: str,
    debug: bool,
    **hubble: object,
) -> None:
    """Expected (and observed) outcome of every client -> server pair.

    Rows are client workloads, columns server workloads (with a Service or a declared port).
    Cells: 200, 403, 503, 000 (timeout), reset, refused, dns; `(x)` is what Hubble observed,
    `!` marks a cell where the flows contradict the prediction.
    With several clusters (--from DIR holding clusters/<name>/, or --context a,b) rows and
    columns are NS/NAME@CLUSTER and each cell is what explain answers for that pair.
    """

    def body() -> int:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.diagnosis.matrix import matrix as run_matrix
        from kubectl_meshdoctor.diagnosis.matrix import matrix_exit_code, parse_selector
        from kubectl_meshdoctor.errors import UsageError
        from kubectl_meshdoctor.sources.base import relay_down

        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout, hubble)
        namespaces = app.scope_namespaces(opts, namespace, all_namespaces)
        if namespaces == []:
            raise UsageError(f"-n {namespace!r}: no namespace named; use -n NS[,NS...] or -A")
        from kubectl_meshdoctor.app_multicluster_load import is_mesh_input

        if is_mesh_input(opts):  # clusters/<name>/, a multi-cluster demo or --context a,b (issue 21)
            from kubectl_meshdoctor.cli.matrix_mesh import run_mesh

            changes = (what_if_files, what_if_deletes)
            return run_mesh(opts, namespaces, parse_selector(selector), method.upper(), path, no_flows, output, changes)
        raw = app.load_raw_scoped(opts, namespaces, flows=not no_flows and namespaces is not None)
        model, applied = app.model_with_changes(raw, what_if_files, what_if_deletes)
        no = no_flows or bool(applied)  # flows predate a what-if change
        wanted = parse_selector(selector)
        clients, servers, cells = run_matrix(model, namespaces, wanted, method.upper(), path, no)
        before: dict[tuple[str, str], Cell] | None = None
        if applied:  # the same matrix before the change, to show what moved
            earlier = run_matrix(app.build_model(raw), namespaces, wanted, method.upper(), path, True)[2]
            before = {(c.source, c.destination): c for c in earlier}
        unread = relay_down(model.warnings)  # Relay unreachable: not the same as "no flows seen"
        document = lambda: {"cells": [cell_doc(c) for c in cells], "gaps": [*model.gaps, *unread]}  # noqa: E731
        show_matrix(output, clients, servers, cells, unread, document, before, applied)
        return matrix_exit_code(cells)

    run(body, debug)


def show_matrix(
    output: str,
    clients: list[Workload],
    servers: list[Workload],
    cells: list[Cell],
    gaps: list[str],
    document: Callable[[], dict[str, Any]],
    before: dict[tuple[str, str], Cell] | None,
    applied: list[str],
    notes: list[str] | None = None,
) -> None:
    """Print a matrix of one cluster or of several (cli/matrix_mesh.py) in ``output``: ``gaps`` are the
    input's own (shown before the cells' gaps), ``document`` the JSON/YAML document without ``whatIf``,
    ``before`` the cells before a what-if change (None: no change)."""
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
        for gap in dict.fromkeys([*gaps, *(g for c in cells for g in c.gaps)]):
            click.echo(f"gap: {gap}")
        undecided = sum(1 for c in cells if c.verdict.value == "unknown")
        if undecided:
            click.echo(f"{undecided} cell(s) shown as ? could not be decided (see the gaps above)")
        for note in notes or []:
            click.echo(f"note: {note}")
    elif output == "markdown":
        from kubectl_meshdoctor.render.markdown import matrix_markdown

        if before is not None:
            click.echo(_what_if_markdown(applied, before, cells))
        click.echo(matrix_markdown(clients, servers, cells, gaps), nl=False)
    else:
        from kubectl_meshdoctor.render.document import dump

        doc = document()
        if before is not None:
            doc["whatIf"] = _what_if_doc(applied, before, cells)
        click.echo(dump(doc, output), nl=False)


def _what_if_doc(applied: list[str], before: dict[tuple[str, str], Cell], cells: list[Cell]) -> dict[str, object]:
    from kubectl_meshdoctor.render.matrix import changed_cells

    def state(c: Cell) -> dict[str, object]:
        return {"verdict": c.verdict.value, "symptom": c.symptom.value, "causes": list(c.causes)}

    changed = [
        {"source": c.source, "destination": c.destination, "before": state(b), "after": state(c)}
        for b, c in changed_cells(before, cells)
    ]
    return {"applied": applied, "changed": changed}


def _what_if_markdown(applied: list[str], before: dict[tuple[str, str], Cell], cells: list[Cell]) -> str:
    from kubectl_meshdoctor.render.markdown import cell
    from kubectl_meshdoctor.render.matrix import changed_cells

    out = ["### What-if (in memory, nothing applied to the cluster)", ""]
    out += [f"- applied: {cell(a)}" for a in applied]
    changes = changed_cells(before, cells)
    if not changes:
        out.append("- no cell changes")
    for b, c in changes:
        out.append(f"- {cell(c.source)} → {cell(c.destination)}: {b.predicted} ({b.verdict.value}) → "
                   f"{c.predicted} ({c.verdict.value})")  # fmt: skip
    return "\n".join(out) + "\n"


def cell_doc(c: Cell) -> dict[str, Any]:
    """One cell of ``matrix -o json``; ``cluster`` only for a cell across clusters (N-cluster input)."""
    return {
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
