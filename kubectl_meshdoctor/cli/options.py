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

# Go's time.ParseDuration units (kubectl --request-timeout, hubble --since): 1h30m, 2.5s, 500ms
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_DURATION = 366 * 24 * 3600.0  # a year: longer is a typo (and overflows socket timeouts)
DEFAULT_REQUEST_TIMEOUT = 15.0  # seconds, per API request (connect + read)
DEFAULT_TIMEOUT = 60.0  # seconds, the whole command


def duration_seconds(text: str) -> float:
    """``30s``, ``5m``, ``1h30m``, ``1.5s``, ``500ms`` or a bare number of seconds, as kubectl reads
    ``--request-timeout``; ValueError with the reason otherwise."""
    value = text.strip()
    if value.startswith("-"):
        raise ValueError("must not be negative")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    else:
        parts = list(_DURATION_PART.finditer(value))
        if not value or "".join(m.group(0) for m in parts) != value:
            raise ValueError("bad duration: use e.g. 30s, 5m, 1h30m")
        seconds = sum(float(m.group(1)) * _UNIT_SECONDS[m.group(2)] for m in parts)
    if seconds > MAX_DURATION:
        raise ValueError("longer than a year")
    return seconds


def parse_duration(text: str | float | None) -> float | None:
    """A duration flag's value in seconds (None stays None); values already converted pass through."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return duration_seconds(text)
    except ValueError as err:
        raise UsageError(f"{text!r}: {err}") from None


if TYPE_CHECKING:  # click >= 8.2 types ParamType by its value; older releases do not subscript it
    _IntParam = click.ParamType[int]
    _FloatParam = click.ParamType[float]
    _StrParam = click.ParamType[str]
else:
    _IntParam = _FloatParam = _StrParam = click.ParamType


class OptionError(click.BadParameter):
    """A bad option value: one line on stderr naming the option (contract §6: exit 2), instead of
    click's three-line usage banner."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)

    def format_message(self) -> str:
        name = _option_name(self.param)
        return f"{name} {self.message}" if name else self.message


def _shown(value: Any) -> str:
    """The value as typed, quoted only when it would not read as one word."""
    text = str(value)
    return text if text and not any(c.isspace() or c in "'\"" for c in text) else repr(text)


def _option_name(param: click.Parameter | None) -> str:
    if param is None:
        return ""
    if isinstance(param, click.Option):
        longs = [o for o in param.opts if o.startswith("--")]
        return (longs or param.opts)[0]
    return (param.name or "").upper()


class Port(_IntParam):
    """A TCP/UDP port, 1-65535."""

    name = "port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not re.fullmatch(r"[+-]?\d+", text):
                raise OptionError(f"{_shown(value)}: not a port number (1-65535)", ctx, param)
            number = int(text)
        if not 1 <= number <= 65535:
            raise OptionError(f"{number}: a port is 1-65535", ctx, param)
        return number


class Duration(_FloatParam):
    """A duration in seconds (float); ``positive``: 0 is refused too (a window of nothing)."""

    name = "duration"

    def __init__(self, positive: bool = False) -> None:
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
            if seconds < 0:
                raise OptionError(f"{_shown(value)}: must not be negative", ctx, param)
        else:
            try:
                seconds = duration_seconds(str(value))
            except ValueError as err:
                raise OptionError(f"{_shown(value)}: {err}", ctx, param) from None
        if self.positive and seconds <= 0:
            raise OptionError(f"{_shown(value)}: must be longer than 0", ctx, param)
        return seconds


class Count(_IntParam):
    """A positive whole number (``--last N``)."""

    name = "count"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise OptionError(f"{_shown(value)}: not a whole number", ctx, param)
        number = int(text)
        if number <= 0:
            raise OptionError(f"{number}: must be 1 or more", ctx, param)
        return number


class HostPort(_StrParam):
    """``HOST:PORT`` (``[v6]:PORT``), optionally ``tls://``-prefixed, with a port of 1-65535."""

    name = "host:port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not text:
            return text  # empty: the default (port-forward), as with HUBBLE_SERVER=""
        host, sep, port = text.removeprefix("tls://").rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise OptionError(f"{_shown(value)}: use HOST:PORT with a port of 1-65535", ctx, param)
        return text


PORT = Port()
COUNT = Count()
DURATION = Duration()
WINDOW = Duration(positive=True)  # --since
HOST_PORT = HostPort()


def port_option(f: F) -> F:
    return click.option("--port", type=PORT, help="Destination port (default: the Service's first port).")(f)


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
