"""triage live against the playground (real API server and Relay on 127.0.0.1, issue 19).

What Relay received is read from the playground's own record of each GetFlows request.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.playground.main import Playground, shift_to_now, start, write_kubeconfig
from kubectl_meshdoctor.sources.demo import read_demo

BIN = Path(sys.executable).parent / "kubectl-meshdoctor"


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Playground, Path]]:
    """A playground of its own, its flows moved to now (the default window is the last 15m)."""
    pg = start(read_demo(request.param), shift_flows=True, with_relay_service=True)
    assert pg.api is not None
    yield pg, write_kubeconfig(tmp_path / "config", pg.api.url)
    pg.stop()


def _failing(flow: Any) -> bool:
    http = flow.l7.http.code if flow.l7.WhichOneof("record") == "http" else 0
    return flow.verdict in (flow_pb2.DROPPED, flow_pb2.ERROR) or http >= 400 or flow.l4.TCP.flags.RST


def _expected_whitelist(namespaces: list[str] | None) -> list[flow_pb2.FlowFilter]:
    criteria = [
        {"verdict": [flow_pb2.DROPPED, flow_pb2.ERROR]},
        {"http_status_code": ["4+", "5+"]},
        {"tcp_flags": [flow_pb2.TCPFlags(RST=True)]},
        {"verdict": [flow_pb2.REDIRECTED], "event_type": [flow_pb2.EventTypeFilter(type=5)]},  # proxy candidates
    ]
    if namespaces is None:
        return [flow_pb2.FlowFilter(**c) for c in criteria]  # type: ignore[arg-type]
    prefixes = [f"{ns}/" for ns in namespaces]
    return [flow_pb2.FlowFilter(**c, **{side: prefixes}) for c in criteria  # type: ignore[arg-type]
            for side in ("source_pod", "destination_pod")]  # fmt: skip


def _triage(config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner(env={"HUBBLE_SERVER": ""}).invoke(
        cli, ["triage", *args, "--kubeconfig", str(config), "-o", "json", "--top", "0"]
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.exit_code, json.loads(result.stdout)


def _pairs(doc: dict[str, Any]) -> list[tuple[str | None, str, str, int, str, str]]:
    return sorted(
        (f["code"], c["source"], c["destination"], c["port"], c["signature"], c["explain"]["verdict"])
        for f in doc["findings"]
        for c in f["calls"]
    )


@pytest.mark.parametrize("served", ["sidecar-s3-authn-disable"], indirect=True)
def test_live_triage_asks_relay_once_for_failures_only(served: tuple[Playground, Path]) -> None:
    pg, config = served
    code, live = _triage(config, "-A")  # the default connection: port-forward to kube-system/hubble-relay
    result = CliRunner().invoke(cli, ["triage", "-A", "--demo", "sidecar-s3-authn-disable", "-o", "json", "--top", "0"])
    offline_code, offline = result.exit_code, json.loads(result.stdout)
    assert code == offline_code == 1
    assert _pairs(live) == _pairs(offline)
    assert len(pg.relay.received) == 1  # one request
    request = pg.relay.received[0].request
    assert list(request.whitelist) == _expected_whitelist(None)
    assert request.HasField("since") and time.time() - request.since.seconds == pytest.approx(900, abs=60)
    failures = sum(_failing(f) for f in pg.relay.flows)
    redirects = sum(f.verdict == flow_pb2.REDIRECTED and f.event_type.type == 5 for f in pg.relay.flows)
    assert pg.relay.received[0].sent == failures + redirects < len(pg.relay.flows)  # what Relay sent
    assert live["summary"]["failingFlows"] == failures  # S3's redirects are L7 policing that works


@pytest.mark.parametrize("served", ["cilium-gateway-istio-strict"], indirect=True)
def test_live_triage_behind_cilium_envoy_equals_offline(served: tuple[Playground, Path]) -> None:
    """The failures name only the backend (store) and Cilium's Envoy: the Gateway in front of it (edge)
    is read too, so live asks the same north-south calls as offline."""
    pg, config = served
    code, live = _triage(config, "-A", "--hubble-server", pg.relay.address)
    result = CliRunner().invoke(
        cli, ["triage", "-A", "--demo", "cilium-gateway-istio-strict", "-o", "json", "--top", "0"]
    )
    assert code == result.exit_code == 1
    assert _pairs(live) == _pairs(json.loads(result.stdout))
    assert ("cilium-ingress-vs-istio-mtls", "world", "edge/gateway/public", 80, "reset", "broken") in _pairs(live)


@pytest.mark.parametrize("served", ["sidecar-s3-authn-disable"], indirect=True)
def test_live_triage_scopes_every_filter_to_the_namespaces(served: tuple[Playground, Path]) -> None:
    pg, config = served
    code, doc = _triage(config, "-n", "green", "--hubble-server", pg.relay.address)
    assert code == 1
    assert [c["source"] for f in doc["findings"] for c in f["calls"]] == ["green/netshoot"]
    assert list(pg.relay.received[-1].request.whitelist) == _expected_whitelist(["green"])
    # objects were listed only in the namespaces the failures touch (plus the system ones)
    listed = {r.path.split("/namespaces/")[1].split("/")[0] for r in pg.api.requests if "/namespaces/" in r.path}
    assert listed <= {"green", "blue", "kube-system", "istio-system"} and "red" not in listed


@pytest.mark.parametrize("served", ["routing-fault-abort"], indirect=True)
def test_live_without_failures_still_says_what_hubble_cannot_show(served: tuple[Playground, Path]) -> None:
    """Red's sidecar answers every GET /ip with 503 (a VirtualService fault): Relay holds no failing
    flow; triage reads only the Istio kinds that can answer calls themselves (no Pod list) and names
    the VirtualService, as offline."""
    pg, config = served
    code, doc = _triage(config, "-A", "--hubble-server", pg.relay.address)
    offline = CliRunner().invoke(cli, ["triage", "-A", "--demo", "routing-fault-abort", "-o", "json"])
    assert (code, doc["findings"]) == (0, [])
    offline_unseen = [{k: v for k, v in u.items() if k != "origin"} for u in json.loads(offline.stdout)["unseen"]]
    assert doc["unseen"] == offline_unseen != []  # the same objects (offline adds the file they came from)
    assert [(u["kind"], u["namespace"], u["name"]) for u in doc["unseen"]] == [("VirtualService", "blue", "httpbin")]
    assert pg.api is not None
    listed = [r.path for r in pg.api.requests if r.path.startswith(("/api/", "/apis/")) and r.path.count("/") > 2]
    assert listed and not any(p.endswith(("/pods", "/services")) for p in listed)
    assert len(pg.relay.received) == 1


@pytest.mark.parametrize("served", ["sidecar-s1-l4-policy"], indirect=True)
def test_relay_unreachable_is_a_gap_and_exit_3(served: tuple[Playground, Path]) -> None:
    _, config = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    code, doc = _triage(config, "-A", "--hubble-server", f"127.0.0.1:{port}")
    assert code == 3 and doc["findings"] == []
    assert any("Hubble flows not checked" in g and f"127.0.0.1:{port}" in g for g in doc["gaps"])


def _next_json(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    import select

    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no document in time"
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    return json.loads(line)


@pytest.mark.parametrize("served", ["sidecar-s0-baseline"], indirect=True)
def test_follow_reranks_as_failures_arrive(served: tuple[Playground, Path]) -> None:
    pg, config = served
    cmd = [str(BIN), "triage", "-A", "-f", "-o", "json", "--kubeconfig", str(config), "--hubble-server",
           pg.relay.address, "--timeout", "4s"]  # fmt: skip
    env = {**os.environ, "HUBBLE_SERVER": ""}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, bufsize=1)
    try:
        first = _next_json(proc, 30)
        assert first["findings"] == [] and first["exitCode"] == 0 and first["time"]  # s0: nothing fails
        drops = [f for f in read_demo("sidecar-s1-l4-policy").flows if (f.source.namespace, f.destination.namespace)
                 == ("green", "blue")]  # fmt: skip
        assert drops and all(_failing(f) for f in drops)
        time.sleep(4.5)  # past --timeout: each later read gets the whole --timeout again
        # newer than every flow served so far (the playground's follow stream sends what sorts after them)
        pg.relay.add_flows(shift_to_now(drops, time.time_ns() + 5_000_000_000))
        second = _next_json(proc, 30)
        while sum(f["flows"] for f in second["findings"]) < len(drops):  # flows may arrive in several batches
            second = _next_json(proc, 30)
        (finding,) = second["findings"]
        (call,) = finding["calls"]
        # the objects of s0 allow green -> blue: Hubble's drops are their own finding
        assert (finding["kind"], finding["code"]) == ("objects-allow", "failing-call-objects-allow")
        assert (call["source"], call["destination"], call["flows"]) == ("green/netshoot", "blue/httpbin", len(drops))
        assert second["exitCode"] == 1
        assert len(pg.relay.received) == 1 and pg.relay.received[0].request.follow
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1 and "Traceback" not in err  # Ctrl-C: the code of the last ranking


@pytest.mark.parametrize("served", ["routing-fault-abort"], indirect=True)
def test_follow_says_what_hubble_cannot_show_before_any_failure(served: tuple[Playground, Path]) -> None:
    pg, config = served
    cmd = [str(BIN), "triage", "-A", "-f", "-o", "json", "--kubeconfig", str(config), "--hubble-server",
           pg.relay.address]  # fmt: skip
    env = {**os.environ, "HUBBLE_SERVER": ""}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, bufsize=1)
    try:
        first = _next_json(proc, 30)
        assert (first["findings"], first["exitCode"]) == ([], 0)
        named = [(u["kind"], u["namespace"], u["name"]) for u in first["unseen"]]
        assert named == [("VirtualService", "blue", "httpbin")]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err


def test_playground_relay_index_picks_every_flow_the_filters_match() -> None:
    """The playground's verdict/status/RST indexes only choose candidates: the answer equals a full scan."""
    from kubectl_meshdoctor._proto import observer_pb2
    from kubectl_meshdoctor.playground.flowstore import FlowStore, select_positions
    from kubectl_meshdoctor.sources.flowfilter import FlowMatcher

    flows = [f for demo in ("sidecar-s3-authn-disable", "ambient-a2-l7-port15008") for f in read_demo(demo).flows]
    reset = flow_pb2.Flow()
    reset.CopyFrom(flows[0])
    reset.l4.TCP.flags.RST = True
    store = FlowStore([*flows, reset])
    for namespaces in (None, ["green"], ["blue"]):
        whitelist = _expected_whitelist(namespaces)
        request = observer_pb2.GetFlowsRequest(whitelist=whitelist)
        match = FlowMatcher(whitelist)
        expected = [i for i in range(len(store)) if match(store.flow(i))]
        assert list(select_positions(store, request)) == expected and expected
