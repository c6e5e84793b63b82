"""The default live path port-forwards to Hubble Relay through the API server. When that connection
is reset mid-stream, the kubernetes client's forwarding thread dies with ConnectionResetError: the
user must see the answer (with Relay reported unreachable where flows were lost), never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# bytes the n-th forward carries before the API server resets it: in the HTTP/2 handshake, in the
# middle of the flow stream, after it, and a forward that is never reset
RESETS = (60, 400, 1500, 4000, 0)
RUNS = 50

LOOP = textwrap.dedent(
    """
    import json, sys, tempfile
    from click.testing import CliRunner
    from kubectl_meshdoctor.cli.main import cli

    for i in range(int(sys.argv[1])):
        if i % 2:
            args = ["snapshot", "-o", tempfile.mkdtemp() + "/snap", "-n", "red,blue"]
        else:
            args = ["explain", "red/netshoot", "blue/httpbin", "--path", "/ip", "-o", "json"]
        try:
            cli.main(args, prog_name="kubectl-meshdoctor")
        except SystemExit as end:
            print(json.dumps({"run": i, "exit": end.code}), file=sys.stdout, flush=True)
    """
)


def test_a_reset_port_forward_never_prints_a_library_traceback(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", relay_service=True, forward_resets=RESETS)
    result = subprocess.run(
        [sys.executable, "-c", LOOP, str(RUNS)],
        env={**pg.env(), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr, result.stderr[-3000:]
    ends = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"run"')]
    assert len(ends) == RUNS, result.stdout[-2000:]
    # explain: the call is broken whether or not the flows arrived; snapshot: written
    assert {e["exit"] for e in ends if e["run"] % 2 == 0} == {1}
    assert {e["exit"] for e in ends if e["run"] % 2} <= {0, None}
    forwards = [r for r in pg.api.requests if r.path.endswith("/portforward")]
    assert len(forwards) >= RUNS  # every run went through the (resetting) port-forward
