"""Progress on stderr (issue 14): a status line with phase and elapsed time on a terminal when a
live read takes more than ~1 s; nothing when stderr is not a terminal. Real pty, real servers."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_meshdoctor.playground.kubeapi import ApiConfig
from kubectl_meshdoctor.playground.main import Playground, start, write_kubeconfig
from kubectl_meshdoctor.sources.demo import read_demo

BIN = Path(sys.executable).parent / "kubectl-meshdoctor"
ARGS = ["explain", "red/netshoot", "blue/httpbin", "--path", "/ip"]


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Playground, Path]]:
    """The S2 demo behind an API server that takes 0.25 s per answer (with the Relay port-forward)."""
    pg = start(read_demo("sidecar-s2-l7-policy"), api_config=ApiConfig(latency=0.25), with_relay_service=True)
    assert pg.api is not None
    config = write_kubeconfig(tmp_path_factory.mktemp("slow") / "config", pg.api.url)
    yield pg, config
    pg.stop()


def run_with_stderr_on_pty(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    main, child = pty.openpty()
    proc = subprocess.Popen([str(BIN), *args], stdout=subprocess.PIPE, stderr=child, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=120)
    if proc.stdout:
        proc.stdout.close()
    os.close(main)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_names_phase_and_elapsed(slow: tuple[Playground, Path]) -> None:
    _, config = slow
    env = {**os.environ, "KUBECONFIG": str(config), "HUBBLE_SERVER": "", "NO_COLOR": "1"}
    code, out, err = run_with_stderr_on_pty(ARGS, env)
    assert code == 1 and "✗ BROKEN" in out
    frames = [f for f in err.replace("\r\n", "\n").split("\r") if f.strip()]
    shown = [f.replace("\x1b[K", "") for f in frames]
    assert any(f.startswith("meshdoctor: listing kinds: ") and f.rstrip().endswith("s)") for f in shown), shown
    # later phases (port-forward, Relay) are short here and may finish between two redraws on a busy
    # machine: the listing phase above is the one asserted to be drawn
    elapsed = [float(f.rsplit("(", 1)[1].rstrip("s) \n")) for f in shown if f.startswith("meshdoctor: ")]
    assert elapsed and min(elapsed) >= 1.0 and elapsed == sorted(elapsed)  # only after ~1 s, counting up
    assert err.rstrip("\n").endswith("\x1b[K")  # the status line is erased before the answer


def test_no_progress_when_stderr_is_not_a_terminal(slow: tuple[Playground, Path]) -> None:
    _, config = slow
    env = {**os.environ, "KUBECONFIG": str(config), "HUBBLE_SERVER": ""}
    done = subprocess.run([str(BIN), *ARGS], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "✗ BROKEN" in done.stdout
    assert "meshdoctor:" not in done.stderr and "\x1b" not in done.stderr and "\r" not in done.stderr


def test_offline_answers_show_no_progress() -> None:
    code, out, err = run_with_stderr_on_pty([*ARGS, "--demo", "sidecar-s2-l7-policy"], dict(os.environ))
    assert code == 1 and "✗ BROKEN" in out and err == ""
