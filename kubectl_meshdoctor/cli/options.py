"""kubectl and hubble flags shared by the commands, and the one error boundary."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from kubectl_meshdoctor.app import SourceOptions

from kubectl_meshdoctor.cli.values import COUNT as COUNT  # re-exported: commands may take them from here
from kubectl_meshdoctor.cli.values import (
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TIMEOUT,
    DURATION,
    HOST_PORT,
    PORT,
    parse_duration,
)
from kubectl_meshdoctor.cli.values import WINDOW as WINDOW
from kubectl_meshdoctor.errors import MeshdoctorError

F = TypeVar("F", bound=Callable[..., Any])


def port_option(f: F) -> F:
    return click.option("--port", type=PORT, help="Destination port (default: the Service's first port).")(f)


def output_choice(*formats: str, help: str = "Output format.") -> Callable[[F], F]:
    """``-o/--output`` among ``formats`` (the first is the default)."""
    option = click.option(
        "-o", "--output", type=click.Choice(list(formats)), default=formats[0], show_default=True, help=help
    )

    def decorate(f: F) -> F:
        return option(f)

    return decorate


output_option = output_choice("text", "json", "yaml")


def debug_option(f: F) -> F:
    return click.option("--debug", is_flag=True, help="Show tracebacks.")(f)


def kube_options(f: F) -> F:
    opts = [
        click.option(
            "--kubeconfig",
            envvar=None,
            help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).",
        ),
        click.option("--context", "kube_context", help="The kubeconfig context to use."),
        click.option("-n", "--namespace", help="Namespace for references without one (default: the context's)."),
        click.option(
            "--request-timeout",
            type=DURATION,
            default=f"{DEFAULT_REQUEST_TIMEOUT:g}s",
            show_default=True,
            help="Timeout of each API request, connect and read (as kubectl's); 0: none.",
        ),
        click.option(
            "--timeout",
            type=DURATION,
            default=f"{DEFAULT_TIMEOUT:g}s",
            show_default=True,
            expose_value=False,
            callback=_remember_timeout,
            help="Deadline for the whole command (API reads, port-forward, Hubble flows); what was not read "
            "by then is a gap in the answer. 0: none.",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


_TIMEOUT_KEY = "meshdoctor.timeout"


def _remember_timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    """``--timeout`` is read where flags become SourceOptions, not by every command function."""
    ctx.meta[_TIMEOUT_KEY] = value


def command_timeout() -> float:
    """The current command's ``--timeout`` in seconds (0: none)."""
    ctx = click.get_current_context(silent=True)
    value = ctx.meta.get(_TIMEOUT_KEY) if ctx is not None else None
    return DEFAULT_TIMEOUT if value is None else float(value)


def all_namespaces_option(f: F) -> F:
    """kubectl's ``-A``, for the mesh-wide commands (check, matrix); explain names its namespaces."""
    return click.option(
        "-A", "--all-namespaces", is_flag=True, help="All namespaces (instead of -n or the context's)."
    )(f)


def hubble_options(f: F) -> F:
    opts = [
        click.option(
            "--hubble-server",
            envvar="HUBBLE_SERVER",
            type=HOST_PORT,
            help="Hubble Relay HOST:PORT (default: port-forward to kube-system/hubble-relay).",
        ),
        click.option("--hubble-tls", is_flag=True, help="Use TLS to Hubble Relay."),
        click.option("--hubble-tls-ca", help="PEM CA bundle for the Relay certificate."),
        click.option("--hubble-tls-cert", help="Client certificate (PEM) for mTLS to Relay."),
        click.option("--hubble-tls-key", help="Client key (PEM) for mTLS to Relay."),
        click.option("--hubble-tls-server-name", help="Name to verify on the Relay certificate."),
        click.option("--hubble-tls-insecure", is_flag=True, help="Skip Relay certificate verification (unsafe)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _join_paths(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> str | None:
    """Repeated --from as one string, NUL-separated (no path holds NUL); sources.snapshot splits it."""
    return "\0".join(value) if value else None


def source_options(f: F) -> F:
    opts = [
        click.option(
            "--from",
            "from_path",
            metavar="PATH",
            multiple=True,
            callback=_join_paths,
            help="Offline: a snapshot directory or .tar.gz, flows files (.jsonl, .log, .gz) or - for stdin; "
            "repeat for several (contract §3).",
        ),
        click.option(
            "--demo",
            "demo_name",
            metavar="NAME",
            help="A bundled demo scenario (see `kubectl meshdoctor demo`).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def debug_requested(debug: bool = False) -> bool:
    """The command's --debug, the root's (``kubectl meshdoctor --debug explain ...``) or MESHDOCTOR_DEBUG."""
    if debug or os.environ.get("MESHDOCTOR_DEBUG"):
        return True
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def what_if_options(f: F) -> F:
    opts = [
        click.option(
            "--what-if",
            "what_if_files",
            multiple=True,
            metavar="FILE.yaml",
            help="Apply these manifests in memory (create or replace) and compare (explain on several clusters: "
            "each object names its own with the annotation meshdoctor.io/cluster).",
        ),
        click.option(
            "--what-if-delete",
            "what_if_deletes",
            multiple=True,
            metavar="KIND/NS/NAME",
            help="Remove this object in memory and compare (e.g. cnp/blue/default; explain on several clusters: "
            "cnp/blue/default@CLUSTER).",
        ),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def source_from_flags(
    from_path: str | None,
    demo_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    request_timeout: str | float | None = None,
    hubble: Mapping[str, object] | None = None,
    progress: bool | None = None,
) -> SourceOptions:
    """The one place click flags become app.SourceOptions (offline, demo or live)."""
    from kubectl_meshdoctor import app

    opts = app.SourceOptions(
        from_path=from_path,
        demo_name=demo_name,
        kubeconfig=kubeconfig,
        context=kube_context,
        request_timeout=request_seconds(request_timeout),
        timeout=command_timeout(),
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    return app.with_hubble(opts, hubble) if hubble else opts


def request_seconds(value: str | float | None) -> float:
    """``--request-timeout`` in seconds; 0 means none, as in kubectl (--timeout still bounds it)."""
    seconds = parse_duration(value)
    return DEFAULT_REQUEST_TIMEOUT if seconds is None else seconds


SCOPE_HELP = (
    "Namespaces, comma-separated (default: the context's namespace; with --from/--demo: every namespace "
    "of the snapshot)."
)


def scope_help(command: click.Command) -> click.Command:
    """-n of matrix/check/triage names the namespaces to cover, not the namespace of a bare NAME
    (here, not in cli/matrix.py: `check` need not build the matrix command to start)."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name == "namespace":
            param.help = SCOPE_HELP
    return command


def run(body: Callable[[], int], debug: bool) -> None:
    """The error boundary: one clear line on stderr and the exception's exit code."""
    try:
        code = body()
    except MeshdoctorError as err:
        if debug_requested(debug):
            raise
        text = " ".join(str(err).split("\n")[:1]) or type(err).__name__
        click.echo(f"error: {text}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as err:
        if debug_requested(debug):
            raise
        click.echo(
            f"error: internal error: {type(err).__name__}: {err} (re-run with --debug for a traceback)",
            err=True,
        )
        sys.exit(1)
    sys.exit(code)
