"""Fast start: --help, --demo and --from never import the kubernetes client or grpc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import sys
from kubectl_meshdoctor.cli.main import main
try:
    main({args!r})
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("kubernetes", "grpc"))
print("HEAVY:", heavy, file=sys.stderr)
"""


@pytest.mark.parametrize("args", [
    ["--help"],
    ["explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s2-l7-policy"],
    ["explain", "red/netshoot", "blue/httpbin", "--from", str(ROOT / "kubectl_meshdoctor/demos/sidecar-s0-baseline")],
    ["flows", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s2-l7-policy"],
])  # fmt: skip
def test_offline_paths_do_not_import_kubernetes_or_grpc(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert "HEAVY: []" in result.stderr, result.stderr[-2000:]
