"""explain across clusters reads only the question's namespaces in each cluster (issue 21, Performance):
live, namespaced list calls in every API server; offline, other namespaces' objects are skipped. What
a left-out namespace could refute (an east-west gateway outside istio-system) is read again in full.
A context that never answers costs its --request-timeout and is named in the answer."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.playground.silent import SilentServer
from tests.test_multicluster import DEMOS, _two_cluster_kubeconfig, explain

EASTWEST = "clustermesh-istio-eastwest-port-dropped"


def test_live_reads_only_the_questions_namespaces_in_each_cluster(tmp_path: Path) -> None:
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    served = {n: start(raw, with_relay_service=True) for n, raw in read_mc_demo(EASTWEST).clusters.items()}
    try:
        urls = {n: pg.api.url for n, pg in served.items() if pg.api is not None}
        config = str(_two_cluster_kubeconfig(tmp_path / "config", urls))
        code, doc, err = explain(
            "shop/frontend@east", "shop/svc/cart@west", "--kubeconfig", config, "--context", "east,west"
        )
        assert doc and code == 3, err  # live has no mesh.yaml: the roots of trust are unknown
        for name, pg in served.items():
            assert pg.api is not None
            paths = [r.path for r in pg.api.requests]
            namespaced = {p.split("/namespaces/")[1].split("/")[0] for p in paths if "/namespaces/" in p}
            assert namespaced == {"shop", "kube-system", "istio-system"}, name
            assert not [p for p in paths if p.endswith(("/pods", "/services")) and "/namespaces/" not in p], name
    finally:
        for pg in served.values():
            pg.stop()


def _with_namespace(root: Path, extra: str) -> Path:
    """The east-west demo, plus a namespace of pods the question never touches in each cluster."""
    shutil.copytree(DEMOS / EASTWEST, root)
    for folder in (root / "clusters").iterdir():
        (folder / "other.yaml").write_text(extra)
    return root


def test_offline_skips_other_namespaces() -> None:
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.app_multicluster_load import load, question_scope
    from kubectl_meshdoctor.diagnosis.call import Query

    query = Query("shop/frontend@east", "shop/svc/cart@west", "default")
    scope = question_scope(query)
    assert scope == ["shop", "kube-system", "istio-system"]
    mesh = load(app.SourceOptions(demo_name=None, from_path=str(DEMOS / EASTWEST)), query, scope)
    assert all(set(c.model.pods_by_ns) <= set(scope) for c in mesh.clusters)
    assert question_scope(Query("world", "shop/svc/cart@west", "default")) is None  # gateways: every namespace


def test_offline_answer_equals_the_full_read(tmp_path: Path) -> None:
    extra = (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: batch}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: job-1, namespace: batch, labels: {app: job}}\n"
        "spec: {containers: [{name: c, image: busybox}]}\nstatus: {podIP: 10.9.9.9, phase: Running}\n"
    )
    root = _with_namespace(tmp_path / "snap", extra)
    code, doc, _ = explain("shop/frontend@east", "shop/svc/cart@west", "--from", str(root))
    _, demo, _ = explain("shop/frontend@east", "shop/svc/cart@west", "--demo", EASTWEST)
    assert code == 1
    assert [c["code"] for c in doc["causes"]] == [c["code"] for c in demo["causes"]] == ["cilium-policy-denied"]


def test_eastwest_gateway_outside_the_scope_is_still_found(tmp_path: Path) -> None:
    """The gateway, its Gateway and its policy moved to namespace `eastwest`: the scoped read does not
    see them, so the answer is checked again on every namespace (the same drop on 15443), never
    `istio-mc-eastwest-missing`."""
    root = tmp_path / "snap"
    shutil.copytree(DEMOS / EASTWEST, root)
    west = root / "clusters" / "west" / "objects.yaml"
    text = west.read_text().replace("namespace: istio-system", "namespace: eastwest")
    west.write_text(text + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: eastwest}\n")
    code, doc, err = explain("shop/frontend@east", "shop/svc/cart@west", "--from", str(root))
    assert doc, err
    assert (code, doc["verdict"], [c["code"] for c in doc["causes"]]) == (1, "denied", ["cilium-policy-denied"])
    broken = next(h for h in doc["hops"] if h["decision"] == "deny")
    assert broken["leg"] == "world → eastwest/istio-eastwestgateway@west"


def test_context_that_never_answers_costs_its_request_timeout_and_is_named(tmp_path: Path) -> None:
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    served = {n: start(raw, with_relay_service=True) for n, raw in read_mc_demo(EASTWEST).clusters.items()}
    silent = SilentServer()
    url = f"https://{silent.address}"
    try:
        urls: dict[str, Any] = {n: pg.api.url for n, pg in served.items() if pg.api is not None}
        config = str(_two_cluster_kubeconfig(tmp_path / "config", {**urls, "gone": url}))
        args = ["shop/frontend@east", "shop/svc/cart@west", "--kubeconfig", config, "--request-timeout", "1s"]
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["explain", *args, "--context", "east,west,gone", "-o", "json"])
        took = time.monotonic() - started
        both = CliRunner().invoke(cli, ["explain", *args, "--context", "east,west", "-o", "json"])
        about_gone = CliRunner().invoke(
            cli, ["explain", "shop/frontend@east", "shop/cart@gone", *args[2:], "--context", "east,gone"]
        )
    finally:
        silent.close()
        for pg in served.values():
            pg.stop()
    doc, alone = json.loads(result.stdout), json.loads(both.stdout)
    # east and west answered as without gone
    assert (result.exit_code, doc["verdict"], doc["causes"]) == (both.exit_code, alone["verdict"], alone["causes"])
    assert any(w.startswith("cluster gone could not be read") for w in doc["warnings"]), doc["warnings"]
    assert took < 20  # bounded by the 1 s request timeout, not by the 60 s command timeout
    assert about_gone.exit_code == 3
    assert "cluster gone could not be read" in about_gone.stderr.strip().splitlines()[0]


def test_live_matrix_finds_an_eastwest_gateway_outside_its_namespaces(tmp_path: Path) -> None:
    """`matrix -n shop` reads shop and the system namespaces; a cell reporting the east-west gateway
    missing makes it read every namespace and answer again."""
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mesh

    root = tmp_path / "snap"
    shutil.copytree(DEMOS / EASTWEST, root)
    west = root / "clusters" / "west" / "objects.yaml"
    text = west.read_text().replace("namespace: istio-system", "namespace: eastwest")
    west.write_text(text + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: eastwest}\n")
    served = {n: start(raw, with_relay_service=True) for n, raw in read_mesh(str(root)).clusters.items()}
    try:
        urls = {n: pg.api.url for n, pg in served.items() if pg.api is not None}
        config = str(_two_cluster_kubeconfig(tmp_path / "config", urls))
        args = ["matrix", "-n", "shop", "--kubeconfig", config, "--context", "east,west", "-o", "json"]
        result = CliRunner().invoke(cli, args)
        west_api = served["west"].api
        assert west_api is not None
        paths = [r.path for r in west_api.requests]
    finally:
        for pg in served.values():
            pg.stop()
    doc = json.loads(result.stdout)
    cell = next(c for c in doc["cells"] if (c["source"], c["destination"]) == ("shop/frontend@east", "shop/cart@west"))
    assert "istio-mc-eastwest-missing" not in cell["causes"], cell
    assert any(p.endswith("/services") and "/namespaces/" not in p for p in paths)  # read again, every namespace
