"""``snapshot`` then ``explain --from`` round-trips; ``flows`` live and offline, ``--follow`` and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.test_live_explain import comparable, explain_json, run

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("target", ["snap", "snap.tar.gz"])
def test_snapshot_then_from_gives_the_live_answer(playground, tmp_path, target: str) -> None:
    pg = playground("sidecar-s2-l7-policy")
    out = tmp_path / target
    code, _, err = run(["snapshot", "-o", str(out), "--hubble-server", pg.relay.address], pg.env())
    assert code == 0, err
    assert "wrote" in err  # progress and the summary go to stderr
    if target.endswith(".tar.gz"):
        with tarfile.open(out) as tar:
            names = {Path(n).name for n in tar.getnames()}
    else:
        names = {p.name for p in out.iterdir()}
    assert {"cluster.yaml", "red.yaml", "blue.yaml", "flows.jsonl"} <= names
    query = ["red/netshoot", "blue/httpbin", "--path", "/ip"]
    code_live, live = explain_json([*query, "--hubble-server", pg.relay.address], pg.env())
    code_off, offline = explain_json([*query, "--from", str(out)])
    assert code_live == code_off == 1
    assert (live["evidence"].pop("source"), offline["evidence"].pop("source")) == ("hubble", "snapshot")
    assert comparable(offline) == comparable(live)
    assert {r.method for r in pg.api.requests} == {"GET"}
    assert not [r for r in pg.api.requests if "secret" in r.path]


def test_snapshot_namespaces_and_no_flows(playground, tmp_path) -> None:
    pg = playground("sidecar-s1-l4-policy")
    out = tmp_path / "snap"
    code, _, err = run(["snapshot", "-o", str(out), "-n", "green,blue", "--no-flows"], pg.env())
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {"README", "cluster.yaml", "green.yaml", "blue.yaml",
                                               "kube-system.yaml", "istio-system.yaml"}  # fmt: skip
    assert not pg.relay.requests
    code, doc = explain_json(["green/netshoot", "blue/httpbin", "--from", str(out)])
    assert code == 1 and doc["verdict"] == "denied"


def test_snapshot_refuses_a_non_empty_directory(playground, tmp_path) -> None:
    pg = playground("sidecar-s0-baseline")
    (tmp_path / "keep.txt").write_text("x")
    code, _, err = run(["snapshot", "-o", str(tmp_path), "--no-flows"], pg.env())
    assert code == 2 and "not an empty directory" in err


def test_flows_live_compact_and_json(playground) -> None:
    pg = playground("sidecar-s2-l7-policy")
    code, out, err = run(["flows", "red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address], pg.env())
    assert code == 0, err
    lines = out.splitlines()
    assert lines and all(" red/netshoot-" in ln or " blue/httpbin-" in ln for ln in lines)
    assert any("[cilium-l7: CiliumNetworkPolicy blue/default" in ln for ln in lines)
    [request] = pg.relay.requests
    assert request.number == 20 and len(request.whitelist) == 2
    code, out, _ = run(["flows", "red/netshoot", "blue/httpbin", "-o", "json", "--hubble-server", pg.relay.address],
                       pg.env())  # fmt: skip
    docs = [json.loads(ln) for ln in out.splitlines()]
    assert docs and all(set(d) == {"flow", "hop", "by"} for d in docs)
    assert {d["hop"] for d in docs} <= {"cilium-egress", "cilium-ingress", "cilium-l7"}


def test_flows_offline_equals_live(playground) -> None:
    pg = playground("sidecar-s1-l4-policy")
    args = ["flows", "green/netshoot", "blue/httpbin", "-o", "jsonpb", "--last", "50"]
    _, live, _ = run([*args, "--hubble-server", pg.relay.address], pg.env())
    _, offline, _ = run([*args, "--demo", "sidecar-s1-l4-policy"])
    assert live and live == offline


def test_flows_follow_streams_until_ctrl_c(playground) -> None:
    pg = playground("sidecar-s0-baseline")
    env = {**os.environ, **pg.env(), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "kubectl_meshdoctor", "flows", "red/netshoot", "blue/httpbin", "--follow",
           "--last", "3", "--hubble-server", pg.relay.address]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not pg.relay.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)  # a loaded CI machine may take a while to unwind
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    [request] = pg.relay.requests
    assert request.follow and request.number == 3
    from kubectl_meshdoctor.playground.relay import select

    assert 0 < len(out.splitlines()) == len(select(pg.relay.flows, request)) <= 3
