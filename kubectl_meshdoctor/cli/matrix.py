from __future__ import annotations

import click

from kubectl_meshdoctor.cli.options import (
    hubble_options,
    kube_options,
    run,
    source_from_flags,
    source_options,
    what_if_options,
)

EXAMPLES = """\b
Examples:
  kubectl meshdoctor matrix -n red,blue,green --demo sidecar-s2-l7-policy --path /ip
  kubectl meshdoctor matrix -A --from ./snapshot -o json
  kubectl meshdoctor matrix -n blue -l app=httpbin --demo ambient-a2-l7-policy --what-if fix.yaml
"""


SCOPE_HELP = (
    "Namespaces, comma-separated (default: the context's namespace; with --from/--demo: every namespace "
    "of the snapshot)."
)


def scope_help(command: click.Command) -> click.Command:
    """-n of matrix/check names the namespaces to cover, not the namespace of a bare NAME."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name == "namespace":
            param.help = SCOPE_HELP
    return command


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
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json", "yaml", "markdown"]),
    default="text",
    show_default=True,
    help="Output format (markdown: a summary table and a Mermaid graph of the calls).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
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
        raw = app.load_raw_scoped(opts, namespaces, flows=not no_flows and namespaces is not None)
        model, applied = app.model_with_changes(raw, what_if_files, what_if_deletes)
        no = no_flows or bool(applied)  # flows predate a what-if change
        clients, servers, cells = run_matrix(model, namespaces, parse_selector(selector), method.upper(), path, no)
        unread = relay_down(model.warnings)  # Relay unreachable: not the same as "no flows seen"
        if output == "text":
            from kubectl_meshdoctor.render.matrix import render_matrix
            from kubectl_meshdoctor.render.text import print_to

            print_to(True, render_matrix(clients, servers, cells))
            undecided = sum(1 for c in cells if c.verdict.value == "unknown")
            for gap in dict.fromkeys([*unread, *(g for c in cells for g in c.gaps)]):
                click.echo(f"gap: {gap}")
            if undecided:
                click.echo(f"{undecided} cell(s) shown as ? could not be decided (see the gaps above)")
        elif output == "markdown":
            from kubectl_meshdoctor.render.markdown import matrix_markdown

            click.echo(matrix_markdown(clients, servers, cells, unread), nl=False)
        else:
            from kubectl_meshdoctor.render.document import dump

            doc = {
                "cells": [
                    {
                        "source": c.source,
                        "destination": c.destination,
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
                "gaps": [*model.gaps, *unread],
            }
            click.echo(dump(doc, output), nl=False)
        return matrix_exit_code(cells)

    run(body, debug)
