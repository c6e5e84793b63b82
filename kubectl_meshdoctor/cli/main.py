"""Entry point. Subcommands are imported lazily so `--help`, `version` and offline
`explain` never import the kubernetes client or grpc (fast start)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from kubectl_meshdoctor import __version__, fast_exit

_COMMANDS = {
    "explain": (
        "kubectl_meshdoctor.cli.explain",
        "explain",
        "Explain why a call from SOURCE to DESTINATION fails (or works).",
    ),
    "completion": (
        "kubectl_meshdoctor.cli.completion",
        "completion",
        "Print the shell completion script (bash, zsh or fish).",
    ),
    "matrix": (
        "kubectl_meshdoctor.cli.matrix",
        "matrix",
        "Expected and observed outcome of every client -> server pair.",
    ),
    "check": ("kubectl_meshdoctor.cli.check", "check", "Mesh-wide Cilium+Istio interop problems (no pair needed)."),
    "snapshot": ("kubectl_meshdoctor.cli.snapshot", "snapshot", "Capture cluster objects and Hubble flows for --from."),
    "flows": ("kubectl_meshdoctor.cli.flows", "flows", "The Hubble flows of a pair, annotated with hop and policy."),
    "triage": (
        "kubectl_meshdoctor.cli.triage",
        "triage",
        "What is failing now: failing flows grouped into calls, each explained, ranked by root cause.",
    ),
    "demo": ("kubectl_meshdoctor.cli.demo", "demo", "List the bundled demo scenarios (no cluster needed)."),
    "version": ("kubectl_meshdoctor.cli.version", "version", "Print the version."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = _COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, spec[2]) for name, spec in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


EPILOG = """\b
Examples:
  # why does red/netshoot -> blue/httpbin fail? (bundled demo, no cluster)
  kubectl meshdoctor explain red/netshoot blue/httpbin --path /ip --demo sidecar-s2-l7-policy
  # the same from a snapshot directory, as JSON
  kubectl meshdoctor explain red/netshoot httpbin.blue --path /ip --from ./snap -o json
  # list the demo scenarios
  kubectl meshdoctor demo
"""


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kubectl-meshdoctor")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors (also MESHDOCTOR_DEBUG=1).")
def cli(debug: bool) -> None:
    """Explain failing calls across Cilium and Istio, with the Hubble flows that prove it."""


def main(argv: list[str] | None = None) -> Any:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(os.environ.get("MESHDOCTOR_DEBUG"))
    if os.environ.get("_KUBECTL_MESHDOCTOR_COMPLETE"):  # a `completion bash|zsh|fish` script calling back
        from kubectl_meshdoctor.cli.completion import handle_env

        return 0 if handle_env() else 1
    if argv is None:  # the program itself (console script, python -m), not a caller passing arguments
        fast_exit.enable()
    try:
        return cli.main(args=argv, prog_name="kubectl meshdoctor", standalone_mode=True)
    except SystemExit as done:
        if isinstance(done.code, int) or done.code is None:
            fast_exit.leave(done.code or 0)  # a large model loaded: skip freeing it (fast_exit.py)
        raise
    except Exception as err:  # pragma: no cover - last resort; commands handle their own errors
        if debug:
            raise
        click.echo(f"error: {err} (run with --debug for details)", err=True)
        sys.exit(1)
