"""Plugin discovery through a real kubectl: `kubectl plugin list`, `kubectl meshdoctor ...`
and kubectl's completion of plugin arguments (kubectl 1.26+, kubectl_complete-meshdoctor)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_meshdoctor import __version__

BIN = Path(sys.executable).parent  # where pip put kubectl-meshdoctor and kubectl_complete-meshdoctor


@pytest.fixture(scope="module")
def kubectl() -> str:
    exe = shutil.which("kubectl")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing: .ci/run installs Debian's kubernetes-client")
        pytest.skip("kubectl is not installed")
    return exe


def run(kubectl: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    # PATH: our console scripts, then the system (kubectl itself); an empty HOME keeps the
    # user's kubeconfig and kubectl cache out of it
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([kubectl, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_plugin_list_finds_meshdoctor(kubectl: str, tmp_path: Path) -> None:
    done = run(kubectl, "plugin", "list", home=tmp_path)
    assert str(BIN / "kubectl-meshdoctor") in done.stdout.splitlines(), done.stdout + done.stderr


def test_version_through_kubectl(kubectl: str, tmp_path: Path) -> None:
    done = run(kubectl, "meshdoctor", "version", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kubectl-meshdoctor {__version__}"


def test_explain_demo_through_kubectl(kubectl: str, tmp_path: Path) -> None:
    done = run(
        kubectl,
        "meshdoctor",
        "explain",
        "red/netshoot",
        "blue/httpbin",
        "--demo",
        "sidecar-s2-l7-policy",
        home=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # contract §6: the call fails
    assert done.stdout.startswith("✗ BROKEN")
    usage = run(kubectl, "meshdoctor", "explain", "red/netshoot", home=tmp_path)
    assert usage.returncode == 2


def test_kubectl_completes_plugin_arguments(kubectl: str, tmp_path: Path) -> None:
    client = json.loads(run(kubectl, "version", "--client", "-o", "json", home=tmp_path).stdout)["clientVersion"]
    if (int(client["major"]), int(client["minor"].rstrip("+"))) < (1, 26):
        pytest.skip(f"kubectl {client['gitVersion']} is older than 1.26: no plugin completion")
    done = run(kubectl, "__complete", "meshdoctor", "explain", "--demo", "sidecar-s2-l7-policy", "red/", home=tmp_path)
    lines = done.stdout.splitlines()
    if lines == [":0"] or not lines:
        pytest.skip("this kubectl does not complete plugin arguments")
    assert lines == ["red/httpbin", "red/netshoot", ":4"], done.stdout + done.stderr
    done = run(kubectl, "__complete", "meshdoctor", "", home=tmp_path)
    assert any(line.startswith("explain\t") for line in done.stdout.splitlines())
