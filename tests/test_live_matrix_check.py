"""matrix and check work live (playground API + Relay) as they do offline: same cells, same findings,
and the namespace scope reaches the API server and the Relay."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = CliRunner(env=env).invoke(cli, args)
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("demo", ["sidecar-s2-l7-policy", "ambient-a2-l7-policy"])
def test_live_matrix_equals_demo(playground, demo: str) -> None:
    pg = playground(demo)
    args = ["matrix", "-n", "red,blue,green", "--path", "/ip", "-o", "json"]
    code_off, offline = _run([*args, "--demo", demo])
    code_live, live = _run([*args, "--hubble-server", pg.relay.address], pg.env())
    assert code_live == code_off
    assert live["cells"] == offline["cells"]
    assert any(c["observed"] for c in live["cells"])  # flows came from the Relay
    sent = [str(f) for req in pg.relay.requests for f in req.whitelist]
    assert any('"red/"' in s for s in sent) and any('"green/"' in s for s in sent)


def test_live_check_equals_demo(playground) -> None:
    demo = "routing-subset-missing"
    pg = playground(demo)
    code_off, offline = _run(["check", "-A", "--demo", demo, "-o", "json"])
    code_live, live = _run(["check", "-A", "-o", "json"], pg.env())
    assert code_live == code_off == 1
    assert [f["code"] for f in live["findings"]] == [f["code"] for f in offline["findings"]]


@pytest.mark.parametrize("output", ["json", "text", "markdown"])
def test_live_matrix_says_when_relay_is_unreachable(playground, output: str) -> None:
    """Relay down is not "Hubble saw no flows": the matrix says so, as a gap, in every format."""
    pg = playground("sidecar-s2-l7-policy")
    args = ["matrix", "-n", "red,blue", "--path", "/ip", "-o", output]
    down = CliRunner(env=pg.env()).invoke(cli, [*args, "--hubble-server", "127.0.0.1:1"])
    up = CliRunner(env=pg.env()).invoke(cli, [*args, "--hubble-server", pg.relay.address])
    assert down.exit_code == up.exit_code
    if output == "json":
        gaps = json.loads(down.stdout)["gaps"]
        assert [g for g in gaps if "Hubble Relay at 127.0.0.1:1 unreachable" in g], gaps
        assert not [g for g in json.loads(up.stdout)["gaps"] if "Relay" in g]
    else:
        assert "Hubble flows not checked: Hubble Relay at 127.0.0.1:1 unreachable" in down.stdout
        assert "unreachable" not in up.stdout
