"""kubectl and hubble flags shared by the commands, and the one error boundary."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from kubectl_meshdoctor.app import SourceOptions

from kubectl_meshdoctor.errors import MeshdoctorError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    if text.isdigit():
        return float(text)
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        raise UsageError(f"bad duration {text!r}: use e.g. 30s, 5m, 1h30m")
    h, m, s = (int(g) if g else 0 for g in match.groups())
    return float(h * 3600 + m * 60 + s)


def output_option(f: F) -> F:
    return click.option(
        "-o",
        "--output",
        type=click.Choice(["text", "json", "yaml"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(f)


def kube_options(f: F) -> F:
    opts = [
        click.option(
            "--kubeconfig",
            envvar=None,
            help="Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).",
        ),
        click.option("--context", "kube_context", help="The kubeconfig context to use."),
        click.option("-n", "--namespace", help="Namespace for references without one (default: the context's)."),
        click.option("--request-timeout", default="30s", show_default=True, help="Timeout of each API request."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


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
            help="Apply these manifests in memory (create or replace) and compare.",
        ),
        click.option(
            "--what-if-delete",
            "what_if_deletes",
            multiple=True,
            metavar="KIND/NS/NAME",
            help="Remove this object in memory and compare (e.g. cnp/blue/default).",
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
    request_timeout: str | None = None,
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
        request_timeout=parse_duration(request_timeout) or 30.0,
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    return app.with_hubble(opts, hubble) if hubble else opts


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
