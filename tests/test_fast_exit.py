"""The process entry point leaves without freeing a loaded model object by object
(kubectl_meshdoctor/fast_exit.py): what it prints and its exit code are those of a normal exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _process(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # block-buffered, as for a user
    return subprocess.run(
        [sys.executable, "-m", "kubectl_meshdoctor", *args], capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )  # fmt: skip


def test_check_output_and_exit_code_match_a_normal_exit() -> None:
    args = ["check", "-A", "--demo", "sidecar-s2-l7-policy", "-o", "json"]
    done = _process(*args)
    inline = CliRunner().invoke(cli, args)
    assert done.returncode == inline.exit_code == 1  # an error-severity finding
    assert json.loads(done.stdout) == json.loads(inline.output)
    assert done.stderr == ""


def test_large_output_reaches_a_pipe_whole(tmp_path: Path) -> None:
    """1.7 MB of flows, far more than a pipe buffer: every byte is flushed before the process ends."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        from bench_cluster import SIZES, write_snapshot
    finally:
        sys.path.remove(str(SCRIPTS))
    root = write_snapshot(SIZES["S"], tmp_path / "snap")
    args = ["flows", "ns-0000/client", "ns-0001/server", "--from", str(root), "--all", "-o", "json"]
    done = _process(*args)
    inline = CliRunner().invoke(cli, args)
    assert done.returncode == inline.exit_code == 0
    assert len(done.stdout) > 1_000_000
    assert done.stdout == inline.output
