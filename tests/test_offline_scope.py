"""Offline explain builds only the question's namespaces (issue 13, objects at scale): that must
never change an answer. Every demo, written out as a snapshot directory with extra objects in
unrelated namespaces, is explained through the CLI (scoped read) and through an unscoped model."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_meshdoctor import app
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.render.document import diagnosis_dict
from kubectl_meshdoctor.sources.snapshot import read_snapshot
from tests.test_live_explain import DEMOS, _try_args, run

NOISE = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "far-away", "labels": {"team": "x"}}},
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "web-1", "namespace": "far-away", "labels": {"app": "web"}},
     "spec": {"containers": [{"name": "app", "image": "web"}]}, "status": {"podIP": "10.99.0.1", "phase": "Running"}},
    {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "deny", "namespace": "far-away"},
     "spec": {"endpointSelector": {}, "ingress": [{}]}},
]  # fmt: skip


def _demo_dir(demo: str, root: Path) -> Path:
    source = resources.files("kubectl_meshdoctor").joinpath("demos", demo)
    target = root / demo
    with resources.as_file(source) as path:
        shutil.copytree(path, target)
    (target / "zz-noise.yaml").write_text(yaml.safe_dump_all(NOISE), encoding="utf-8")
    return target


def _query(args: list[str]) -> Query:
    src, dst, *flags = args
    path = flags[flags.index("--path") + 1] if "--path" in flags else "/"
    port = int(flags[flags.index("--port") + 1]) if "--port" in flags else None
    host = flags[flags.index("--host") + 1] if "--host" in flags else None
    http_asked = any(f in flags for f in ("--path", "--method", "-H", "--header", "--host"))  # as the CLI (issue 22)
    return Query(src, dst, "default", port, path=path, host=host, http_asked=http_asked)


def _whole(root: Path, args: list[str]) -> dict[str, Any]:
    """The answer on every namespace and every flow, with its fix proposals (their proof reads every
    namespace of the input whatever the question's scope)."""
    raw = read_snapshot(str(root))
    model = app.build_model(raw)
    query = _query(args)
    d = app.explain(model, query)
    d.fixes = app.propose_fixes(raw, model, query, d)
    return diagnosis_dict(d)


@pytest.mark.parametrize("demo", DEMOS)
def test_scoped_offline_explain_equals_the_whole_model(tmp_path: Path, demo: str) -> None:
    args = _try_args(demo)
    root = _demo_dir(demo, tmp_path)
    code, out, err = run(["explain", *args, "--from", str(root), "-o", "json"])
    assert code in (0, 1, 3), err
    scoped = json.loads(out)
    assert json.loads(json.dumps(_whole(root, args))) == scoped


def test_a_virtual_service_in_a_third_namespace_is_still_read(tmp_path: Path) -> None:
    """A VirtualService exported to every namespace applies to calls between two others."""
    root = _demo_dir("routing-fault-abort", tmp_path)
    text = (root / "routing.yaml").read_text()
    text = text.replace("namespace: blue", "namespace: far-away").replace(
        "[httpbin]", "[httpbin.blue.svc.cluster.local]"
    )
    text = text.replace("{host: httpbin}", "{host: httpbin.blue.svc.cluster.local}")
    (root / "routing.yaml").write_text(text)
    args = _try_args("routing-fault-abort")
    model = app.build_model(read_snapshot(str(root)))
    whole = json.loads(json.dumps(diagnosis_dict(app.explain(model, _query(args)))))
    assert whole["verdict"] == "broken" and "istio-fault-injection" in {c["code"] for c in whole["causes"]}
    code, out, err = run(["explain", *args, "--from", str(root), "-o", "json"])
    assert code == 1, err
    assert json.loads(out) == whole


def test_a_waypoint_in_a_third_namespace_is_still_read(tmp_path: Path) -> None:
    """istio.io/use-waypoint-namespace: the waypoint serving blue runs in another namespace."""
    root = _demo_dir("ambient-w1-waypoint", tmp_path)
    text = (root / "waypoint.yaml").read_text()
    moved = [d for d in yaml.safe_load_all(text) if d]
    for doc in moved:
        if doc["kind"] != "AuthorizationPolicy":  # the policy stays with the Service it targets
            doc["metadata"]["namespace"] = "mesh-waypoints"
    (root / "waypoint.yaml").write_text(yaml.safe_dump_all(moved))
    cluster = (root / "cluster.yaml").read_text()
    cluster = cluster.replace("istio.io/use-waypoint: waypoint\n", "istio.io/use-waypoint: waypoint\n"
                              "      istio.io/use-waypoint-namespace: mesh-waypoints\n", 1)  # fmt: skip
    (root / "cluster.yaml").write_text(cluster)
    (root / "zz-ns.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": "mesh-waypoints"}}))  # fmt: skip
    args = _try_args("ambient-w1-waypoint")
    whole = json.loads(json.dumps(_whole(root, args)))
    assert any(h["name"] == "waypoint" and h["decision"] != "skip" for h in whole["hops"]), whole["hops"]
    _, out, err = run(["explain", *args, "--from", str(root), "-o", "json"])
    assert json.loads(out) == whole, err
