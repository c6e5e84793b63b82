"""Deadlines with real sockets on 127.0.0.1: --request-timeout bounds each API request (connect, answer
and the whole body, as kubectl's does), --timeout bounds the whole command, Relay included; on expiry
the answer uses what was read and names the rest as gaps. Wall times are checked loosely (behaviour,
not benchmarks)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.playground.main import write_kubeconfig
from kubectl_meshdoctor.playground.silent import SilentServer as Silent

# Seconds beyond a timeout a command may take (start-up, thread scheduling). 3 s on a machine with a
# free CPU; more when the run queue is longer than the CPUs (a CI box shared with other jobs), so a
# busy machine does not read as a deadline bug. A hang is still caught: it exceeds any of these.
SLACK = 3.0 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
PAIR = ["red/netshoot", "blue/httpbin", "--path", "/ip"]


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, str]:
    start = time.monotonic()
    result = CliRunner().invoke(cli, args, env={"HUBBLE_SERVER": "", **(env or {})})
    return time.monotonic() - start, result.exit_code, result.stdout, result.stderr


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("meshdoctor: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


COMMANDS = {
    "explain": ["explain", *PAIR],
    "matrix": ["matrix", "-A"],
    "check": ["check", "-A"],
    "flows": ["flows", "red/netshoot", "blue/httpbin"],
    "snapshot": ["snapshot", "-o", "SNAP"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_api_server_that_never_answers_is_bounded_by_request_timeout(
    silent: Silent, tmp_path: Path, command: str
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", f"http://{silent.address}")
    args = [a.replace("SNAP", str(tmp_path / "snap")) for a in COMMANDS[command]]
    took, code, out, err = timed([*args, "--kubeconfig", str(kubeconfig), "--request-timeout", "2s"])
    assert code == 3 and out == ""
    assert "no answer within 2s (--request-timeout)" in one_line(err)
    assert took < 2 + SLACK
    assert len(silent.conns) == 1  # no retry of a request that timed out


def test_the_command_deadline_bounds_a_silent_api_server(silent: Silent, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", f"http://{silent.address}")
    took, code, _, err = timed(["explain", *PAIR, "--kubeconfig", str(kubeconfig), "--timeout", "2s"])
    assert code == 3
    assert "the --timeout deadline (2s) expired" in one_line(err)
    assert took < 2 + SLACK


def test_default_request_timeout_is_bounded(silent: Silent, tmp_path: Path) -> None:
    """No flags: the defaults (15s per request, 60s in all) end the wait, not the OS (minutes)."""
    kubeconfig = write_kubeconfig(tmp_path / "config", f"http://{silent.address}")
    took, code, _, err = timed(["explain", *PAIR, "--kubeconfig", str(kubeconfig)])
    assert code == 3 and "no answer within 15s" in one_line(err)
    assert took < 15 + SLACK


def explain_doc(args: list[str], env: dict[str, str]) -> tuple[float, int, dict[str, Any], str]:
    took, code, out, err = timed(["explain", *args, "-o", "json"], env)
    assert out.startswith("{"), (code, out, err)
    return took, code, json.loads(out), err


def test_a_list_that_trickles_is_cut_at_request_timeout_and_its_hops_are_unknown(playground) -> None:
    """CiliumNetworkPolicies trickle one byte every 0.2s: the list ends at --request-timeout, the
    answer names the gap and is not `allowed` (the policies may deny), exit 3."""
    pg = playground("sidecar-s0-baseline", slow=(("ciliumnetworkpolicies.cilium.io", 0.2),))
    took, code, doc, _ = explain_doc([*PAIR, "--no-flows", "--request-timeout", "2s"], pg.env())
    assert took < 2 + SLACK
    assert code == 3 and doc["verdict"] == "unknown"
    gap = next(g for g in doc["gaps"] if "ciliumnetworkpolicies" in g)
    assert "no answer within 2s (--request-timeout)" in gap
    cilium = {h["name"]: h["decision"] for h in doc["hops"]}
    assert cilium["cilium-ingress"] == "unknown"
    # without the slow server the same question is answered: the gap is what changed it
    _, code_ok, fine, _ = explain_doc([*PAIR, "--no-flows", "--demo", "sidecar-s0-baseline"], {})
    assert code_ok == 0 and fine["verdict"] == "allowed"


def test_the_command_deadline_cuts_reads_and_names_every_kind_not_read(playground) -> None:
    """Several kinds trickle; --timeout 3s ends them all (each request alone would get 15s)."""
    slow = tuple(
        (name, 0.3) for name in ("peerauthentications.security.istio.io", "authorizationpolicies.security.istio.io")
    )
    pg = playground("sidecar-s0-baseline", slow=slow)
    took, code, doc, _ = explain_doc([*PAIR, "--no-flows", "--timeout", "3s"], pg.env())
    assert took < 3 + SLACK
    assert code == 3 and doc["verdict"] == "unknown"
    expired = [g for g in doc["gaps"] if "the --timeout deadline (3s) expired" in g]
    assert any("peerauthentications" in g for g in expired)
    assert any("authorizationpolicies" in g for g in expired)
    assert {h["name"]: h["decision"] for h in doc["hops"]}["server-proxy"] == "unknown"
    assert not [g for g in doc["gaps"] if "configmap" in g]  # slow lists do not starve the config reads


def test_pods_not_read_by_the_deadline_is_exit_3_naming_the_gap(playground) -> None:
    """Without the pods the client cannot be resolved: not enough data (3), not a bad reference (2)."""
    pg = playground("sidecar-s0-baseline", slow=(("pods", 0.2),))
    took, code, out, err = timed(["explain", *PAIR, "--no-flows", "--timeout", "2s"], pg.env())
    assert took < 2 + SLACK
    assert code == 3
    if out == "":  # the client's pods were not read: nobody to call from
        line = one_line(err)
        assert "red/netshoot has no pods" in line and "pods in namespace red not read" in line
        assert "(2s) expired" in line
    else:  # the server's pods were not read: the hops that need them are unknown, named on the hop line
        assert out.startswith("? UNKNOWN") and "pods in namespace blue not read" in out and "(2s) expired" in out


def test_a_trickling_relay_is_cut_at_the_deadline_with_the_flows_read_so_far(playground) -> None:
    """Relay sends one flow a second: --timeout ends the stream; the static answer stands (it does
    not depend on flows, so the exit code is the offline one) and the gap says the flows are partial."""
    pg = playground("sidecar-s2-l7-policy", flow_interval=1.0)
    args = [*PAIR, "--hubble-server", pg.relay.address, "--timeout", "3s"]
    took, code, doc, _ = explain_doc(args, pg.env())
    assert took < 3 + SLACK
    _, code_off, offline, _ = explain_doc([*PAIR, "--demo", "sidecar-s2-l7-policy"], {})
    assert (code, doc["verdict"]) == (code_off, offline["verdict"]) == (1, "broken")
    [record] = pg.relay.received
    assert 0 < doc["evidence"]["flows"] <= record.sent < offline["evidence"]["flows"]
    assert any("Hubble flows cut short" in g and "--timeout deadline (3s)" in g for g in doc["gaps"])


def test_a_trickling_relay_behind_the_port_forward_is_bounded_too(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", flow_interval=1.0, relay_service=True)
    took, code, doc, _ = explain_doc([*PAIR, "--timeout", "3s"], pg.env())
    assert took < 3 + SLACK
    assert code == 1 and doc["verdict"] == "broken"
    # the user is told the evidence is incomplete: cut short mid-stream, or (a loaded machine spends the
    # whole budget on the port-forward) not read at all
    told = [g for g in doc["gaps"] if "Hubble flows cut short" in g]
    told += [w for w in doc["warnings"] if w.startswith("Hubble flows not checked")]
    assert told, (doc["gaps"], doc["warnings"])


def test_a_relay_that_never_answers_leaves_the_static_answer(playground, silent: Silent) -> None:
    pg = playground("sidecar-s2-l7-policy")
    took, code, doc, err = explain_doc([*PAIR, "--hubble-server", silent.address, "--timeout", "3s"], pg.env())
    assert took < 3 + SLACK
    assert code == 1 and doc["verdict"] == "broken"
    assert any(w.startswith("Hubble flows not checked") for w in doc["warnings"]), (doc["warnings"], err)
    took, code, _, err = timed(
        ["explain", *PAIR, "--hubble-server", silent.address, "--timeout", "3s", "--require-flows"], pg.env()
    )
    assert took < 3 + SLACK and code == 3


def test_snapshot_under_a_deadline_writes_what_was_read_and_lists_the_gaps(playground, tmp_path: Path) -> None:
    pg = playground("sidecar-s0-baseline", slow=(("ciliumnetworkpolicies.cilium.io", 0.2),))
    took, code, _, err = timed(["snapshot", "-o", str(tmp_path / "snap"), "--no-flows", "--timeout", "2s"], pg.env())
    assert took < 2 + SLACK and code == 0
    assert "gap: ciliumnetworkpolicies.cilium.io" in err and "deadline (2s) expired" in err
    assert (tmp_path / "snap").is_dir()


def test_flows_from_a_trickling_relay_stop_at_the_deadline_with_a_warning(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", flow_interval=1.0)
    args = ["flows", "red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address, "--timeout", "3s"]
    took, code, out, err = timed(args, pg.env())
    assert took < 3 + SLACK and code == 0
    shown = out.splitlines()
    assert 0 < len(shown) < 7  # the pair has 7 flows; a few came before the deadline
    assert "cut short after" in err and "--timeout deadline (3s)" in err


def test_a_hanging_auth_plugin_is_bounded_by_the_deadline(tmp_path: Path) -> None:
    """kubectl runs exec plugins (aws, gcloud, kubelogin) before the first request; one that hangs
    must not hang the command."""
    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sleep", "args": ["8"]}
                },
            }
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    (tmp_path / "config").write_text(yaml.safe_dump(config))
    took, code, _, err = timed(["explain", *PAIR, "--kubeconfig", str(tmp_path / "config"), "--timeout", "2s"])
    assert took < 2 + SLACK and code == 3
    assert "auth plugin) did not finish: the --timeout deadline (2s) expired" in one_line(err)


def test_ctrl_c_on_a_hung_api_exits_130_without_a_traceback(playground) -> None:
    """README: exit 130 when interrupted (Ctrl-C) — not a traceback, not another command's code."""
    import signal
    import subprocess
    import sys

    pg = playground("sidecar-s0-baseline", slow=(("pods", float("inf")),))
    cmd = [sys.executable, "-m", "kubectl_meshdoctor", "explain", "red/netshoot", "blue/httpbin", "--no-flows"]
    proc = subprocess.Popen(cmd, env={**pg.env(), "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not any("pods" in r.path for r in pg.api.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and out == ""
