"""explain --watch, live against the playground while its objects and flows change (issue 14)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.playground.main import Playground, shift_to_now, start, write_kubeconfig
from kubectl_meshdoctor.sources.demo import read_demo

BIN = Path(sys.executable).parent / "kubectl-meshdoctor"
DISABLE_MTLS = yaml.safe_load(
    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
    "metadata: {name: default, namespace: blue}\nspec:\n  mtls: {mode: DISABLE}\n"
)


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Playground, Path]]:
    """A playground of its own (the test changes it), flows moved to now."""
    pg = start(read_demo(request.param), shift_flows=True, with_relay_service=True)
    assert pg.api is not None
    yield pg, write_kubeconfig(tmp_path / "config", pg.api.url)
    pg.stop()


class Lines:
    """Read a child's stdout line by line with a deadline.

    Reads the pipe's bytes itself (os.read) and splits lines here: a buffered readline() would pull
    several lines into Python's buffer, and select() would then wait on an empty pipe for them.
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.proc, self.fd, self.buf = proc, proc.stdout.fileno(), b""

    def next(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:  # the child closed its stdout
                line, self.buf = self.buf, b""
                return line.decode() or None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode() + "\n"

    def next_json(self, timeout: float = 30) -> dict:
        line = self.next(timeout)
        assert line, self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else "no answer"
        return json.loads(line)


def watch(config: Path, *args: str) -> subprocess.Popen[str]:
    cmd = [str(BIN), "explain", *args, "--kubeconfig", str(config)]
    env = {**os.environ, "HUBBLE_SERVER": ""}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


@pytest.mark.parametrize("served", ["sidecar-s2-l7-policy"], indirect=True)
def test_until_ok_exits_0_when_the_fix_lands(served: tuple[Playground, Path]) -> None:
    pg, config = served
    proc = watch(config, "red/netshoot", "blue/httpbin", "--path", "/ip", "--until-ok", "--watch-interval", "0.5")
    try:
        lines = Lines(proc)
        first = lines.next(30)
        assert first and first.startswith("── ") and first.rstrip().endswith(" ──")  # a timestamp
        assert "✗ BROKEN" in (lines.next(5) or "")
        time.sleep(1.5)  # a few re-evaluations with nothing changed
        assert proc.poll() is None
        assert pg.api is not None
        pg.api.apply(DISABLE_MTLS)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 10
    stamps = [line for line in (first + out).splitlines() if line.startswith("── ")]
    assert len(stamps) == 2  # broken, then allowed: nothing repeated while nothing changed
    assert "✓ ALLOWED  red/netshoot → blue/httpbin:80  GET /ip" in out and "cilium-l7-vs-istio-mtls" not in out


@pytest.mark.parametrize("served", ["sidecar-s0-baseline"], indirect=True)
def test_new_flows_wake_the_watch_and_only_changes_are_printed(served: tuple[Playground, Path]) -> None:
    pg, config = served
    proc = watch(config, "green/netshoot", "blue/httpbin", "--watch", "-o", "json", "--watch-interval", "60")
    try:
        lines = Lines(proc)
        first = lines.next_json()
        assert first["verdict"] == "allowed" and first["causes"] == []
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"]), first["time"]  # RFC 3339, UTC
        assert first["evidence"]["flows"] > 0 and first["evidence"]["verdicts"].get("DROPPED", 0) == 0
        assert lines.next(2) is None  # nothing changed, nothing printed
        drops = [f for f in read_demo("sidecar-s1-l4-policy").flows if (f.source.namespace, f.destination.namespace)
                 == ("green", "blue")]  # fmt: skip
        assert drops and all(f.verdict == 2 for f in drops)  # DROPPED
        pg.relay.add_flows(shift_to_now(drops))
        second = lines.next_json(timeout=15)  # long before the 60 s re-list: the follow stream woke it
        assert "flows-contradict-policy" in [c["code"] for c in second["causes"]]
        assert second["evidence"]["verdicts"]["DROPPED"] == len(drops) and second["verdict"] != "allowed"
    finally:
        code, err = stop(proc)
    assert code in (1, 3) and "Traceback" not in err  # Ctrl-C: the code of the last answer


@pytest.mark.parametrize("served", ["sidecar-s0-baseline"], indirect=True)
def test_object_changes_are_seen_and_ctrl_c_exits_with_the_last_answer(served: tuple[Playground, Path]) -> None:
    pg, config = served
    args = ["green/netshoot", "blue/httpbin", "--watch", "-o", "json", "--watch-interval", "0.5", "--no-flows"]
    proc = watch(config, *args)
    try:
        lines = Lines(proc)
        assert lines.next_json()["verdict"] == "allowed"
        assert lines.next(2) is None  # re-listed ~4 times: no repeat
        assert pg.api is not None
        for obj in read_demo("sidecar-s1-l4-policy").objects:
            if obj.doc.get("kind") == "CiliumNetworkPolicy":
                pg.api.apply(obj.doc)
        denied = lines.next_json(timeout=15)
        assert denied["verdict"] == "denied" and [c["code"] for c in denied["causes"]] == ["cilium-policy-denied"]
        assert pg.api.delete("cilium.io/v2", "CiliumNetworkPolicy", "blue", "default")
        assert lines.next_json(timeout=15)["verdict"] == "allowed"
        assert pg.api.requests and all(r.method == "GET" for r in pg.api.requests)  # read-only while watching
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err


def test_watch_needs_a_live_cluster() -> None:
    result = CliRunner().invoke(cli, ["explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s0-baseline",
                                      "--watch"])  # fmt: skip
    assert result.exit_code == 2 and "--watch follows a live cluster" in result.stderr
