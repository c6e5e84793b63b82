"""Option value types shared by the commands: ports, durations, counts, HOST:PORT.

Each is a click ``ParamType`` so a bad value is rejected while the flags are parsed, before
anything runs, with one line naming the option (``error: --port 70000: a port is 1-65535``) and
exit 2 (contract §6), for every command that takes the option.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from kubectl_meshdoctor.errors import UsageError

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
