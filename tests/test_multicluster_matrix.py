"""`matrix` across clusters (issue 21 item 5): rows and columns carry the cluster, and each cell is the
answer explain gives for that pair on the same input; one cluster's directory still gives the
single-cluster matrix; live (one playground per cluster) equals offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.diagnosis.matrix import OBSERVED
from tests.test_multicluster import DEMOS, _two_cluster_kubeconfig

DEMO_NAMES = sorted(p.name for p in DEMOS.iterdir() if (p / "clusters").is_dir())


def _run(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, [*args, "-o", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    doc = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.exit_code, doc, result.stderr


def _observed(doc: dict[str, Any]) -> str | None:
    """What a matrix cell shows as observed, from an explain answer (diagnosis/matrix.to_cell)."""
    ev = doc["evidence"]
    seen = ev.get("observed")
    if seen is None or not ev.get("verdicts"):
        return None
    return OBSERVED.get(seen, seen.removeprefix("http-"))


@pytest.mark.parametrize("demo", DEMO_NAMES)
def test_cells_are_what_explain_answers(demo: str) -> None:
    code, doc, err = _run("matrix", "-n", "shop", "--demo", demo)
    assert doc, err
    across = [c for c in doc["cells"] if c["cluster"]["source"] != c["cluster"]["destination"]]
    assert across, "the demo has calls across clusters"
    for cell in doc["cells"]:
        src, dst = cell["source"], cell["destination"]
        assert src.endswith("@" + cell["cluster"]["source"]) and dst.endswith("@" + cell["cluster"]["destination"])
        e_code, answer, e_err = _run("explain", src, dst, "--demo", demo)
        if "error" in cell:
            assert e_code == 2 or not answer, (src, dst, e_err)
            continue
        assert answer, (src, dst, e_err)
        got = (cell["verdict"], cell["symptom"], cell["causes"])
        assert got == (answer["verdict"], answer["symptom"], [c["code"] for c in answer["causes"]]), (src, dst)
        assert cell["observed"] == _observed(answer), (src, dst)
    verdicts = {c["verdict"] for c in doc["cells"]}
    assert code == (1 if verdicts & {"denied", "broken"} else 3 if "unknown" in verdicts else 0)
    rows = {f"{r['namespace']}/{r['name']}@{r['cluster']}" for r in doc["rows"]}
    assert {c["source"] for c in doc["cells"]} <= rows


def test_observed_column_per_cluster() -> None:
    """The same selector allows frontend@west (local) and drops frontend@east (remote, local-cluster
    default); each cell shows what that cluster's Hubble saw for that very pair."""
    code, doc, _ = _run("matrix", "-n", "shop", "--demo", "clustermesh-local-cluster-selector")
    cells = {(c["source"], c["destination"]): c for c in doc["cells"]}
    remote = cells[("shop/frontend@east", "shop/cart@west")]
    assert (remote["verdict"], remote["observed"]) == ("denied", "000")
    assert "clustermesh-policy-local-cluster" in remote["causes"]
    local = cells[("shop/frontend@west", "shop/cart@west")]
    assert local["verdict"] == "allowed" and local["observed"] != "000"
    assert code == 1


def test_text_rows_and_columns_name_the_cluster() -> None:
    result = CliRunner().invoke(cli, ["matrix", "-n", "shop", "--demo", "clustermesh-local-cluster-selector"])
    assert result.exit_code == 1, result.output
    header = result.stdout.splitlines()[0]
    assert "shop/cart@west" in header and "shop/checkout@west" in header
    assert any(line.startswith("shop/frontend@east ") for line in result.stdout.splitlines())


def test_one_cluster_directory_is_the_single_cluster_matrix() -> None:
    folder = DEMOS / "clustermesh-local-cluster-selector" / "clusters" / "west"
    code, doc, err = _run("matrix", "-n", "shop", "--from", str(folder))
    assert doc, err
    assert code == 1  # cart and checkout do not call each other
    assert set(doc) == {"cells", "gaps"}
    assert all("@" not in c["source"] + c["destination"] and "cluster" not in c for c in doc["cells"])
    assert ("shop/frontend", "shop/cart") in {(c["source"], c["destination"]) for c in doc["cells"]}


def test_namespace_in_no_cluster_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["matrix", "-n", "shopp", "--demo", "clustermesh-local-cluster-selector"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not found in any cluster (east, west): shopp" in lines[0], lines


FIX = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: cart-ingress, namespace: shop, annotations: {meshdoctor.io/cluster: west}}
spec:
  endpointSelector: {matchLabels: {app: cart}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend, io.cilium.k8s.policy.cluster: east}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
"""


def _changed(doc: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (c["source"], c["destination"]): (c["before"]["verdict"], c["after"]["verdict"])
        for c in doc["whatIf"]["changed"]
    }


def test_what_if_in_one_cluster_moves_the_cells_it_should(tmp_path: Path) -> None:
    """The selector pinned to cluster east lets frontend@east in and, as its blast radius, shuts out
    west's own frontend: both cells move, nothing else."""
    change = tmp_path / "fix.yaml"
    change.write_text(FIX)
    args = ["matrix", "-n", "shop", "--demo", "clustermesh-local-cluster-selector", "--what-if", str(change)]
    code, doc, err = _run(*args)
    assert doc, err
    assert doc["whatIf"]["applied"] == ["replace CiliumNetworkPolicy shop/cart-ingress in cluster west"]
    assert _changed(doc) == {
        ("shop/frontend@east", "shop/cart@west"): ("denied", "allowed"),
        ("shop/frontend@west", "shop/cart@west"): ("allowed", "denied"),
    }
    assert code == 1


def test_what_if_delete_names_its_cluster() -> None:
    demo = ["matrix", "-n", "shop", "--demo", "clustermesh-local-cluster-selector"]
    _, doc, err = _run(*demo, "--what-if-delete", "cnp/shop/cart-ingress@west")
    assert doc, err
    assert set(_changed(doc)) == {("shop/frontend@east", "shop/cart@west"), ("shop/checkout@west", "shop/cart@west")}
    result = CliRunner().invoke(cli, [*demo, "--what-if-delete", "cnp/shop/cart-ingress"])
    assert result.exit_code == 2 and "names no cluster (clusters: east, west)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_live_matrix_equals_offline(tmp_path: Path) -> None:
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    demo = "clustermesh-local-cluster-selector"
    served = {name: start(raw, with_relay_service=True) for name, raw in read_mc_demo(demo).clusters.items()}
    try:
        urls = {name: pg.api.url for name, pg in served.items() if pg.api is not None}
        kubeconfig = str(_two_cluster_kubeconfig(tmp_path / "config", urls))
        live_code, live, err = _run("matrix", "--kubeconfig", kubeconfig, "--context", "east,west")
        assert live, err
    finally:
        for pg in served.values():
            pg.stop()
    shutil.copytree(DEMOS / demo / "clusters", tmp_path / "snap" / "clusters")
    code, offline, _ = _run("matrix", "-n", "shop", "--from", str(tmp_path / "snap"))
    assert live_code == code == 1
    assert live["rows"] == offline["rows"] and live["columns"] == offline["columns"]
    assert live["cells"] == offline["cells"]


def test_live_cluster_that_does_not_answer_is_named(tmp_path: Path) -> None:
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    pg = start(read_mc_demo("clustermesh-local-cluster-selector").clusters["west"], with_relay_service=True)
    try:
        assert pg.api is not None
        kubeconfig = _two_cluster_kubeconfig(tmp_path / "config", {"east": "https://127.0.0.1:9", "west": pg.api.url})
        args = ["matrix", "--kubeconfig", str(kubeconfig), "--context", "east,west", "--request-timeout", "2s"]
        code, doc, err = _run(*args)
    finally:
        pg.stop()
    assert doc, err
    assert any(g.startswith("cluster east could not be read") for g in doc["gaps"]), doc["gaps"]
    assert {r["cluster"] for r in doc["rows"]} == {"west"}
    assert code in (1, 3)
