"""Option values are checked before anything runs: a bad port, duration or count is a usage error
(exit 2) on one stderr line naming the option, for every command that takes it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.cli.values import duration_seconds

DEMO = ["--demo", "sidecar-s2-l7-policy"]
PAIR = ["red/netshoot", "blue/httpbin"]

# command -> the arguments that make it otherwise valid (offline where it can be)
COMMANDS = {
    "explain": [*PAIR, *DEMO],
    "flows": [*PAIR, *DEMO],
    "matrix": ["-A", *DEMO],
    "check": ["-A", *DEMO],
    "snapshot": ["-o", "/nonexistent/never-written"],
}
TAKES = {
    "--port": ("explain", "flows"),
    "--since": ("explain", "flows", "snapshot"),
    "--last": ("explain", "flows", "snapshot"),
    "--request-timeout": tuple(COMMANDS),
    "--timeout": tuple(COMMANDS),
    "--hubble-server": ("explain", "flows", "matrix", "snapshot"),
    "--watch-interval": ("explain",),
}
BAD = {
    "--port": ["70000", "0", "-1", "65536", "x", "80/tcp", ""],
    "--since": ["5min", "0", "-1s", "5 m", "1y", "99999h"],
    "--last": ["-3", "0", "x", "1.5"],
    "--request-timeout": ["5x", "-1s", "abc", "1d"],
    "--timeout": ["5x", "-5s", "soon"],
    "--hubble-server": ["127.0.0.1", "127.0.0.1:70000", "relay:0", ":4245", "relay:x"],
    "--watch-interval": ["banana", "0", "-1s"],
}
CASES = [(cmd, opt, bad) for opt, bads in BAD.items() for cmd in TAKES[opt] for bad in bads]


def invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env={"HUBBLE_SERVER": "", "KUBECONFIG": "/nonexistent"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("command", "option", "value"), CASES, ids=[f"{c}{o}={v}" for c, o, v in CASES])
def test_bad_value_is_one_usage_line_naming_the_option(command: str, option: str, value: str) -> None:
    code, out, err = invoke([command, *COMMANDS[command], f"{option}={value}"])
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"error: {option} "), lines[0]
    assert out == ""


@pytest.mark.parametrize("value", ["1", "80", "65535"])
def test_ports_in_range_are_accepted(value: str) -> None:
    code, out, err = invoke(["explain", *PAIR, *DEMO, "--port", value, "-o", "json"])
    assert code in (0, 1, 3), err
    assert json.loads(out)["destination"]["port"] == int(value)


@pytest.mark.parametrize("value", ["5m", "1h30m", "90s", "1.5s", "500ms", "2", "1m0.5s"], ids=lambda v: f"since={v}")
def test_go_style_durations_are_accepted(value: str) -> None:
    code, out, err = invoke(["explain", *PAIR, *DEMO, "--since", value, "--request-timeout", value, "-o", "json"])
    assert code in (0, 1, 3), err
    assert json.loads(out)["verdict"]


def test_duration_values() -> None:
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("500ms") == 0.5
    assert duration_seconds("2") == 2
    assert duration_seconds("0") == 0
    assert duration_seconds("1m0.5s") == 60.5
    for bad in ("", "m", "1h 30m", "-5s", "5d", "1e3s", "9000h"):
        with pytest.raises(ValueError):
            duration_seconds(bad)


def test_last_and_since_still_select_flows() -> None:
    code, out, err = invoke(["flows", *PAIR, *DEMO, "--last", "3", "-o", "json"])
    assert code == 0, err
    assert len(out.splitlines()) == 3


def test_help_shows_the_defaults() -> None:
    code, out, _ = invoke(["explain", "--help"])
    assert code == 0
    text = " ".join(out.split())
    assert "--request-timeout DURATION" in text and "[default: 15s]" in text
    assert "--timeout DURATION" in text and "[default: 60s]" in text


@pytest.mark.parametrize("extra", [[], ["--watch"]])
def test_watch_interval_is_checked_with_or_without_watch(extra: list[str]) -> None:
    code, out, err = invoke(["explain", *COMMANDS["explain"], *extra, "--watch-interval", "banana"])
    assert code == 2 and out == "" and err.startswith("error: --watch-interval banana: ")


def test_watch_interval_without_watch_is_a_usage_error() -> None:
    code, out, err = invoke(["explain", *COMMANDS["explain"], "--watch-interval", "2s"])
    assert code == 2 and out == "" and err.strip() == "error: --watch-interval needs --watch (or --until-ok)"
