"""`matrix` reproduces every seed-table row of semantics.md C1.2/C1.3 on the bundled demos."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from tests.test_demo_c1 import PAIRS, TABLE

SYMBOL = {"ok": "200", "timeout": "000", "http-503": "503", "http-403": "403"}


@pytest.mark.parametrize("demo", sorted(TABLE))
def test_matrix_reproduces_the_seed_table(demo: str) -> None:
    result = CliRunner().invoke(cli, ["matrix", "-n", "red,blue,green", "--demo", demo, "--path", "/ip", "-o", "json"])
    cells = {(c["source"], c["destination"]): c for c in json.loads(result.stdout)["cells"]}
    for (client, server), expected in zip(PAIRS, TABLE[demo], strict=True):
        cell = cells[(f"{client}/netshoot", f"{server}/httpbin")]
        verdict, symptom, cause, _ = expected
        assert (cell["verdict"], cell["symptom"]) == (verdict, symptom), (client, server, cell)
        if cause:
            assert cause in cell["causes"]
        if cell.get("agrees") is not None:
            assert cell["agrees"] is True, cell
    assert result.exit_code == (0 if all(c["verdict"] == "allowed" for c in cells.values()) else 1)


def test_matrix_text_shows_predicted_and_observed() -> None:
    result = CliRunner().invoke(
        cli, ["matrix", "-n", "red,blue,green", "--demo", "sidecar-s2-l7-policy", "--path", "/ip"]
    )
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["client", "\\", "server", "blue/httpbin"]
    red = next(line for line in lines if line.startswith("red/netshoot"))
    assert red.split()[1] == "503"
    green = next(line for line in lines if line.startswith("green/netshoot"))
    assert green.split()[1:3] == ["000", "(000)"]


def test_matrix_scope_defaults_and_validates_namespaces() -> None:
    """Offline without -n: every namespace of the snapshot (as -A); a typo gets "did you mean"."""
    plain = CliRunner().invoke(cli, ["matrix", "--demo", "sidecar-s2-l7-policy", "-o", "json"])
    every = CliRunner().invoke(cli, ["matrix", "-A", "--demo", "sidecar-s2-l7-policy", "-o", "json"])
    assert plain.exit_code == every.exit_code == 1 and plain.stdout == every.stdout
    result = CliRunner().invoke(cli, ["matrix", "-n", "purple", "--demo", "sidecar-s2-l7-policy"])
    assert result.exit_code == 2 and "purple" in result.stderr
    result = CliRunner().invoke(cli, ["matrix", "-n", "red,blue,gren", "--demo", "sidecar-s2-l7-policy"])
    assert result.exit_code == 2 and "gren (did you mean green" in result.stderr


def test_live_matrix_defaults_to_the_context_namespace(playground, tmp_path) -> None:
    import yaml

    from kubectl_meshdoctor.playground.main import kubeconfig_dict

    served = playground("sidecar-s2-l7-policy")
    config = tmp_path / "config"
    config.write_text(yaml.safe_dump(kubeconfig_dict(served.api.url, namespace="red")))
    args = ["matrix", "--kubeconfig", str(config), "--no-flows", "-o", "json"]
    result = CliRunner().invoke(cli, args)
    cells = json.loads(result.stdout)["cells"]
    assert cells and {c["source"].split("/")[0] for c in cells} == {"red"}, result.stderr
    assert {c["destination"].split("/")[0] for c in cells} == {"red"}


def test_matrix_label_selector_and_what_if(tmp_path) -> None:
    authn = tmp_path / "authn.yaml"
    authn.write_text(
        "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        "metadata: {name: default, namespace: blue}\nspec: {mtls: {mode: DISABLE}}\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "matrix",
            "-A",
            "-l",
            "app=httpbin",
            "--demo",
            "sidecar-s2-l7-policy",
            "--path",
            "/ip",
            "--what-if",
            str(authn),
            "-o",
            "json",
        ],
    )
    cells = json.loads(result.stdout)["cells"]
    assert {c["source"] for c in cells} == {"red/httpbin", "blue/httpbin"}
    assert all(c["verdict"] == "allowed" for c in cells)


def test_matrix_does_not_list_waypoint_proxies_as_workloads() -> None:
    import json as _json

    from click.testing import CliRunner as _Runner

    from kubectl_meshdoctor.cli.main import cli as _cli

    result = _Runner().invoke(_cli, ["matrix", "-n", "red,blue,green", "--demo", "ambient-w1-waypoint", "-o", "json"])
    cells = _json.loads(result.stdout)["cells"]
    names = {c["source"] for c in cells} | {c["destination"] for c in cells}
    assert "blue/httpbin" in names and not any(n.endswith("/waypoint") for n in names)
