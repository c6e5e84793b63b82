"""Fast start (a behaviour test, not a timing test): `--help`, `version`, `demo`,
`explain --demo/--from` and shell completion must not import the kubernetes client or grpc,
which alone cost ~0.5 s. Each command runs in a fresh interpreter that reports sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = "sidecar-s2-l7-policy"
DEMO_DIR = Path(__file__).resolve().parent.parent / "kubectl_meshdoctor" / "demos" / DEMO
HEAVY = ("kubernetes", "grpc")

PROBE = f"""
import json, sys
entry, out, args = sys.argv[1], sys.argv[2], sys.argv[3:]
module, _, attr = entry.partition(":")
sys.argv = ["kubectl-meshdoctor", *args]
code = 0
try:
    code = getattr(__import__(module, fromlist=[attr]), attr)(args) or 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
with open(out, "w") as fh:
    json.dump({{"code": code, "heavy": heavy}}, fh)
"""


def imported(
    tmp_path: Path, args: list[str], entry: str = "kubectl_meshdoctor.cli.main:main", env: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    out = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, entry, str(out), *args], capture_output=True, timeout=120, check=False, env=env
    )
    report = json.loads(out.read_text())
    return report["code"], report["heavy"]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        [],
        ["--version"],
        ["version"],
        ["version", "-o", "json"],
        ["demo"],
        ["demo", "-o", "json"],
        ["explain", "--help"],
        ["explain", "red/netshoot", "blue/httpbin", "--demo", DEMO],
        ["explain", "red/netshoot", "blue/httpbin", "--demo", DEMO, "-o", "json"],
        ["explain", "red/netshoot", "blue/httpbin", "--from", str(DEMO_DIR), "-o", "yaml"],
        ["explain", "red/nope", "blue/httpbin", "--demo", DEMO],
        ["completion", "bash"],
    ],
    ids=lambda a: " ".join(a)[:50] or "no-args",
)
def test_no_heavy_imports(tmp_path: Path, args: list[str]) -> None:
    code, heavy = imported(tmp_path, args)
    assert code in (0, 1, 2)
    assert heavy == [], f"`kubectl-meshdoctor {' '.join(args)}` imported {heavy[:5]}"


def test_kubectl_plugin_completion_is_light(tmp_path: Path) -> None:
    code, heavy = imported(
        tmp_path, ["explain", "--demo", DEMO, "red/"], entry="kubectl_meshdoctor.cli.complete_plugin:main"
    )
    assert (code, heavy) == (0, [])


def test_the_probe_sees_heavy_imports(tmp_path: Path) -> None:
    """The probe itself works: a command that does import grpc is reported."""
    out = tmp_path / "report.json"
    probe = PROBE.replace("code = 0\n", "code = 0\nimport grpc\n", 1)
    subprocess.run(
        [sys.executable, "-c", probe, "kubectl_meshdoctor.cli.main:main", str(out), "version"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert "grpc" in json.loads(out.read_text())["heavy"]
