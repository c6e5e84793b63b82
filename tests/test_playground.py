"""The playground as real clients use it (issue 14): `hubble status`'s health check and
ServerStatus, real kubectl over http, flows served as recent, changes while serving."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest

from kubectl_meshdoctor._proto import observer_pb2, observer_pb2_grpc
from kubectl_meshdoctor.playground.main import shift_to_now, start, write_kubeconfig
from kubectl_meshdoctor.sources.demo import read_demo

BIN = Path(sys.executable).parent / "kubectl-meshdoctor"


def _health_request(service: str) -> bytes:
    data = service.encode()
    return bytes([0x0A, len(data)]) + data


def test_health_check_and_server_status_as_hubble_status_asks(playground) -> None:  # type: ignore[no-untyped-def]
    served = playground("sidecar-s2-l7-policy")
    with grpc.insecure_channel(served.relay.address) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        assert check(_health_request("hubble.server.Observer"), timeout=5) == b"\x08\x01"  # SERVING
        assert check(b"", timeout=5) == b"\x08\x01"  # the server as a whole
        with pytest.raises(grpc.RpcError) as err:
            check(_health_request("no.such.Service"), timeout=5)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        status, call = observer_pb2_grpc.ObserverStub(channel).ServerStatus.with_call(
            observer_pb2.ServerStatusRequest(), timeout=5
        )
    assert status.num_flows == len(served.relay.store) > 0 and status.max_flows >= status.num_flows
    assert status.HasField("num_connected_nodes") and status.num_connected_nodes.value >= 1
    assert status.version and dict(call.initial_metadata())["hubble-relay-version"] == status.version


def test_the_official_health_client_sees_serving(playground) -> None:  # type: ignore[no-untyped-def]
    """What `hubble status` sends (grpc.health.v1 Check, service hubble.server.Observer), through the
    generated client of the gRPC project, not our hand encoding."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    served = playground("sidecar-s2-l7-policy")
    with grpc.insecure_channel(served.relay.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service="hubble.server.Observer"), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        watch = stub.Watch(health_pb2.HealthCheckRequest(service="hubble.server.Observer"), timeout=5)
        assert next(iter(watch)).status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()


@pytest.mark.skipif(shutil.which("hubble") is None, reason="the hubble CLI is not installed")
def test_real_hubble_status(playground) -> None:  # type: ignore[no-untyped-def]
    served = playground("sidecar-s2-l7-policy")
    done = subprocess.run(["hubble", "status", "--server", served.relay.address], capture_output=True, text=True)
    assert done.returncode == 0 and "Healthcheck" in done.stdout and "Ok" in done.stdout, done.stderr


def test_kubectl_reads_without_a_token_over_http_but_a_wrong_token_is_refused(playground) -> None:  # type: ignore[no-untyped-def]
    served = playground("sidecar-s2-l7-policy")
    with urllib.request.urlopen(f"{served.api.url}/api/v1/namespaces/red/pods", timeout=5) as resp:
        assert {p["metadata"]["name"].split("-")[0] for p in json.load(resp)["items"]} == {"httpbin", "netshoot"}
    bad = urllib.request.Request(f"{served.api.url}/api/v1/pods", headers={"Authorization": "Bearer wrong"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(bad, timeout=5)
    assert err.value.code == 401
    err.value.close()
    with urllib.request.urlopen(f"{served.api.url}/apis/cilium.io/v2", timeout=5) as resp:
        names = {r["name"]: r.get("shortNames", []) for r in json.load(resp)["resources"]}
    assert names["ciliumnetworkpolicies"] == ["cnp", "ciliumnp"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_real_kubectl_gets_objects(playground) -> None:  # type: ignore[no-untyped-def]
    served = playground("sidecar-s2-l7-policy")
    base = ["kubectl", "--kubeconfig", str(served.kubeconfig)]
    done = subprocess.run([*base, "get", "pods", "-n", "red", "-o", "name"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(line.split("-")[0] for line in done.stdout.split()) == ["pod/httpbin", "pod/netshoot"]
    done = subprocess.run([*base, "get", "cnp", "-A"], capture_output=True, text=True)
    assert done.returncode == 0 and re.search(r"^blue +default ", done.stdout, re.M), done.stderr


def test_shift_to_now_keeps_spacing() -> None:
    flows = read_demo("sidecar-s2-l7-policy").flows
    moved = shift_to_now(flows, now_ns=2_000_000_000_000_000_000)
    stamp = [f.time.seconds * 10**9 + f.time.nanos for f in flows]
    new = [f.time.seconds * 10**9 + f.time.nanos for f in moved]
    assert max(new) == 2_000_000_000_000_000_000
    assert [b - a for a, b in zip(stamp, new, strict=True)] == [new[0] - stamp[0]] * len(flows)


@pytest.mark.parametrize("shifted", [True, False])
def test_snapshot_since_10m_captures_the_demo_flows_when_served_as_recent(tmp_path: Path, shifted: bool) -> None:
    raw = read_demo("sidecar-s2-l7-policy")
    pg = start(raw, shift_flows=shifted, with_relay_service=True)
    try:
        assert pg.api is not None
        config = write_kubeconfig(tmp_path / "config", pg.api.url)
        out = tmp_path / "snap"
        cmd = [str(BIN), "snapshot", "-o", str(out), "--kubeconfig", str(config), "--since", "10m"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        pg.stop()
    assert done.returncode == 0, done.stderr
    flows = int(re.search(r"and (\d+) flows", done.stderr).group(1))  # type: ignore[union-attr]
    assert flows == (len(raw.flows) if shifted else 0)


def test_changes_while_serving() -> None:
    raw = read_demo("sidecar-s0-baseline")
    pg = start(raw)
    try:
        assert pg.api is not None
        url = f"{pg.api.url}/apis/security.istio.io/v1/namespaces/blue/peerauthentications"
        pa = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
              "metadata": {"name": "x", "namespace": "blue"}, "spec": {"mtls": {"mode": "STRICT"}}}  # fmt: skip
        pg.api.apply(pa)
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert [i["metadata"]["name"] for i in json.load(resp)["items"]] == ["x"]
        assert pg.api.delete("security.istio.io/v1", "PeerAuthentication", "blue", "x")
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert json.load(resp)["items"] == []
        before = len(pg.relay.store)
        pg.relay.add_flows(shift_to_now(raw.flows[:2]))
        assert len(pg.relay.store) == before + 2
    finally:
        pg.stop()


def test_matrix_and_check_without_n_work_against_the_playground_script(tmp_path: Path) -> None:
    """The playground's kubeconfig names a namespace the demo has, so `matrix` and `check` without -n
    answer (not "namespace(s) not found: default")."""
    import signal

    import yaml
    from click.testing import CliRunner

    from kubectl_meshdoctor.cli.main import cli

    root = Path(__file__).resolve().parents[1]
    config = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [str(root / "scripts" / "playground"), "sidecar-s2-l7-policy", "--kubeconfig-out", str(config)],
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed = [proc.stdout.readline() for _ in range(3)]
        hubble = next(line.split("=", 1)[1].strip() for line in printed if line.startswith("HUBBLE_SERVER="))
        context = yaml.safe_load(config.read_text())["contexts"][0]["context"]
        assert context["namespace"] == "blue"
        env = {"KUBECONFIG": str(config), "HUBBLE_SERVER": hubble}
        for args in (["matrix", "-o", "json"], ["check", "-o", "json"]):
            result = CliRunner().invoke(cli, args, env=env)
            assert result.exit_code in (0, 1), (args, result.stderr)
            assert "not found" not in result.stderr
        cells = json.loads(CliRunner().invoke(cli, ["matrix", "-o", "json"], env=env).stdout)["cells"]
        assert cells and {c["source"].split("/")[0] for c in cells} == {"blue"}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
