"""``kubectl meshdoctor triage``: what is failing now, grouped by root cause, each call explained."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kubectl_meshdoctor.cli.flows import WHEN
from kubectl_meshdoctor.cli.options import (
    debug_option,
    hubble_options,
    kube_options,
    output_choice,
    run,
    scope_help,
    source_from_flags,
    source_options,
)

if TYPE_CHECKING:
    from kubectl_meshdoctor.diagnosis.triage import TriageResult

EXAMPLES = """\b
Examples:
  kubectl meshdoctor triage -A --demo sidecar-s1-l4-policy          # exit 1: green -> blue is denied
  kubectl meshdoctor triage -n payments --since 30m                  # live: Relay sends only the failures
  kubectl meshdoctor triage -A --from ./hubble-export/ -o json       # exports, streamed
  kubectl meshdoctor triage -n red,blue -f                           # follow: re-rank as failures arrive
  kubectl meshdoctor triage -A --from snap.tar.gz -o markdown > incident.md
"""


@scope_help
@click.command("triage", epilog=EXAMPLES)
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace.")
@click.option("--since", type=WHEN,
              help="Failures since: a duration (live default 15m; offline: back from the newest flow) "
                   "or RFC 3339.")  # fmt: skip
@click.option("--until", type=WHEN, help="Failures until a time, as --since.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Findings to show, highest impact first (0: all).")  # fmt: skip
@click.option("-f", "--follow", is_flag=True, help="Live: keep reading failures and re-rank until Ctrl-C.")
@output_choice(
    "text",
    "json",
    "yaml",
    "markdown",
    help="Output format (markdown: the incident summary with a Mermaid graph of the failing calls).",
)
@source_options
@kube_options
@hubble_options
@debug_option
def triage(
    all_namespaces: bool,
    since: tuple[int | None, float | None] | None,
    until: tuple[int | None, float | None] | None,
    top: int,
    follow: bool,
    output: str,
    from_path: str | None,
    demo_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    request_timeout: float,
    debug: bool,
    **hubble: object,
) -> None:
    """What is failing now: the failing flows of the window (verdict DROPPED/ERROR, HTTP 4xx/5xx,
    TCP resets), grouped into failing calls, each explained as `explain` would, collapsed by root
    cause and ranked by impact.

    Exit 1 when failures were found and explained (or fail where the objects allow them), 0 when the
    window has none, 3 when none could be explained (flows only, gaps) or Relay could not be read.
    """

    def body() -> int:
        from kubectl_meshdoctor import app, app_triage
        from kubectl_meshdoctor.errors import UsageError
        from kubectl_meshdoctor.sources.flow_window import Window

        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout, hubble)
        namespaces = app.scope_namespaces(opts, namespace, all_namespaces)
        if namespaces == []:
            raise UsageError(f"-n {namespace!r}: no namespace named; use -n NS[,NS...] or -A")
        since_at, since_back = since or (None, None)
        until_at, until_back = until or (None, None)
        window = Window(since_at, until_at, since_back, until_back)
        meta = _meta(opts, namespaces, window)
        if follow:
            if not app.is_live(opts):
                raise UsageError("--follow needs a live cluster (not --from/--demo)")
            from kubectl_meshdoctor.cli.triage_follow import follow_loop

            code: int = follow_loop(opts, namespaces, window, output, top, meta)
            return code
        session = app_triage.load(opts, namespaces, window)
        result = session.result()
        emit(result, output, top, meta, see_flags=_source_flags(opts))
        return result.exit_code

    run(body, debug)


def _meta(opts: Any, namespaces: list[str] | None, window: Any) -> dict[str, Any]:
    from kubectl_meshdoctor import app

    live = app.is_live(opts)
    if window.since_back is not None:
        text = f"in the last {window.since_back:g}s" + ("" if live else " of the input")
    elif window.since is not None:
        text = "since the given time"
    else:
        text = "in the last 15m" if live else "in the whole input"
    return {
        "namespaces": namespaces,
        "window": {
            "description": text,
            "sinceSeconds": window.since_back if window.since_back is not None else (900.0 if live else None),
        },
        "source": "hubble" if live else ("demo" if opts.demo_name else "files"),
    }


def _source_flags(opts: Any) -> str:
    """The input the user ran triage on, for the explain line of each finding ("see")."""
    import shlex

    if opts.demo_name:
        return f" --demo {shlex.quote(opts.demo_name)}"
    return f" --from {shlex.quote(opts.from_path)}" if opts.from_path else ""


def emit(
    result: TriageResult, output: str, top: int, meta: dict[str, Any], now: float | None = None, see_flags: str = ""
) -> None:
    if output == "text":
        from kubectl_meshdoctor.render.triage import triage_text

        click.echo("\n".join(triage_text(result, top, meta["window"]["description"], now, see_flags)))
    elif output == "markdown":
        from kubectl_meshdoctor.render.triage_markdown import triage_markdown

        click.echo(triage_markdown(result, top, meta["window"]["description"]), nl=False)
    else:
        from kubectl_meshdoctor.render.document import dump
        from kubectl_meshdoctor.render.triage import triage_dict

        click.echo(dump(triage_dict(result, top, meta), output), nl=False)
