"""Live explain through the playground (real kubernetes client, real grpcio) equals ``--from``."""

from __future__ import annotations

import json
import re
import shlex
import socket
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.sources.demo import list_demos
from kubectl_meshdoctor.sources.flowfilter import pair_filters

DEMOS = [d.name for d in list_demos()]
# demos whose evidence is the absence of flows: a REGISTRY_ONLY sidecar answers 502 itself, nothing
# leaves the pod (semantics-gateways.md Part H)
NO_PAIR_FLOWS = {"egress-registry-only-missing-se"}


def _try_args(demo: str) -> list[str]:
    """The query the demo's DESCRIPTION suggests ("try: explain SRC DST [flags]")."""
    description = next(d.description for d in list_demos() if d.name == demo)
    match = re.search(r"try: explain (.+)$", description)
    assert match, description
    return shlex.split(match.group(1))


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=env or {})
    return result.exit_code, result.stdout, result.stderr


def explain_json(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    code, out, err = run(["explain", *args, "-o", "json"], env)
    assert out.startswith("{"), (code, out, err)
    return code, json.loads(out)


def comparable(doc: Any) -> Any:
    """Drop what legitimately differs: where the evidence came from, and offline file:line origins."""
    if isinstance(doc, dict):
        return {k: comparable(v) for k, v in doc.items() if k != "origin"}
    if isinstance(doc, list):
        return [comparable(v) for v in doc]
    return doc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("demo", DEMOS)
def test_live_equals_from_for_every_demo(playground, demo: str) -> None:
    pg = playground(demo)
    query = _try_args(demo)
    code_off, offline = explain_json([*query, "--from", str(pg.demo_dir)])
    code_live, live = explain_json([*query, "--hubble-server", pg.relay.address], pg.env())
    assert code_live == code_off
    assert (offline["evidence"]["source"], live["evidence"]["source"]) == ("snapshot", "hubble")
    offline["evidence"].pop("source")
    live["evidence"].pop("source")
    assert comparable(live) == comparable(offline)
    assert (live["evidence"]["flows"] > 0) is (demo not in NO_PAIR_FLOWS)


def test_pair_filters_reach_the_relay(playground) -> None:
    pg = playground("sidecar-s2-l7-policy")
    code, doc = explain_json(["red/netshoot", "blue/httpbin", "--path", "/ip", "--hubble-server", pg.relay.address],
                             pg.env())  # fmt: skip
    assert code == 1
    [request] = pg.relay.requests
    src = [f"red/{p}" for p in doc["source"]["pods"]]
    dst = [f"blue/{p}" for p in doc["destination"]["pods"]]
    assert list(request.whitelist) == pair_filters(src, dst)
    assert request.number > 0 and not request.follow and not request.blacklist


def test_since_and_last_are_sent(playground) -> None:
    pg = playground("sidecar-s1-l4-policy")
    args = ["green/netshoot", "blue/httpbin", "--since", "5m", "--hubble-server", pg.relay.address]
    explain_json(args, pg.env())
    [request] = pg.relay.requests
    assert request.HasField("since") and request.number == 0
    pg.clear()
    explain_json(["green/netshoot", "blue/httpbin", "--last", "7", "--hubble-server", pg.relay.address], pg.env())
    [request] = pg.relay.requests
    assert request.number == 7 and not request.HasField("since")


def test_the_api_server_sees_only_reads_and_no_secrets(playground) -> None:
    pg = playground("sidecar-s2-l7-policy")
    explain_json(["red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address], pg.env())
    explain_json(["red/netshoot", "blue/httpbin"], pg.env())  # default: port-forward attempt
    assert pg.api.requests
    assert {r.method for r in pg.api.requests} == {"GET"}
    assert not [r.path for r in pg.api.requests if "secret" in r.path]
    assert all(r.authorized for r in pg.api.requests)


def test_only_the_questions_namespaces_are_read(playground) -> None:
    pg = playground("sidecar-s2-l7-policy")
    explain_json(["red/netshoot", "blue/httpbin", "--no-flows"], pg.env())
    namespaced = {r.path.split("/namespaces/")[1].split("/")[0] for r in pg.api.requests if "/namespaces/" in r.path}
    assert namespaced == {"red", "blue", "kube-system", "istio-system"}
    lists = [r for r in pg.api.requests if r.path.endswith("/pods")]
    assert lists and all(r.query.get("limit") for r in lists)
    assert not pg.relay.requests  # --no-flows: Relay is not asked


@pytest.mark.parametrize("require", [False, True])
def test_relay_down_gives_the_static_answer_and_a_warning(playground, require: bool) -> None:
    pg = playground("sidecar-s2-l7-policy")
    args = ["explain", "red/netshoot", "blue/httpbin", "--path", "/ip", "--hubble-server", f"127.0.0.1:{free_port()}"]
    code, out, err = run([*args, "-o", "json", *(["--require-flows"] if require else [])], pg.env())
    if require:
        assert code == 3
        assert out == ""
        assert len(err.strip().splitlines()) == 1 and "Hubble Relay" in err and "Traceback" not in err
        return
    assert code == 1  # the verdict's exit code (broken), contract §6
    doc = json.loads(out)
    assert doc["verdict"] == "broken" and doc["evidence"]["source"] == "none"
    assert any(w.startswith("Hubble flows not checked") and "unreachable" in w for w in doc["warnings"])


def test_no_relay_service_means_no_flows_with_a_warning(playground) -> None:
    pg = playground("sidecar-s0-baseline")
    code, doc = explain_json(["red/netshoot", "blue/httpbin"], pg.env())
    assert code == 0 and doc["verdict"] == "allowed"
    assert any("kube-system/hubble-relay not found" in w for w in doc["warnings"])


def test_forbidden_authorization_policies_become_a_gap(playground) -> None:
    pg = playground("sidecar-s3-authn-disable", forbidden=frozenset({"authorizationpolicies.security.istio.io"}))
    code, doc = explain_json(["red/netshoot", "blue/httpbin", "--path", "/deny", "--hubble-server", pg.relay.address],
                             pg.env())  # fmt: skip
    assert code in (1, 3)
    assert any(g.startswith("no read access to authorizationpolicies.security.istio.io") for g in doc["gaps"])


def test_istio_not_installed_is_a_gap_not_a_crash(playground) -> None:
    pg = playground("sidecar-s1-l4-policy", missing_groups=frozenset({"security.istio.io", "networking.istio.io"}))
    code, doc = explain_json(["green/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address], pg.env())
    assert code == 1 and doc["verdict"] == "denied"
    assert any("peerauthentications.security.istio.io not installed" in g for g in doc["gaps"])


def test_endpoints_fallback_on_servers_without_endpointslice_v1(playground) -> None:
    pg = playground("sidecar-s0-baseline", missing_versions=frozenset({"discovery.k8s.io/v1"}))
    code, doc = explain_json(["red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address], pg.env())
    assert code == 0 and doc["verdict"] == "allowed"
    paths = [r.path for r in pg.api.requests]
    assert "/api/v1/namespaces/blue/endpoints" in paths
    assert not [p for p in paths if "endpointslices" in p]


def test_node_and_lost_event_notices_become_warnings(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", unavailable_nodes=("kind-worker2",), lost_events=12)
    _, doc = explain_json(["red/netshoot", "blue/httpbin", "--hubble-server", pg.relay.address], pg.env())
    text = " ".join(doc["warnings"])
    assert "kind-worker2 unavailable" in text and "lost 12 event(s)" in text


def test_kubeconfig_list_and_context(playground, tmp_path) -> None:
    pg = playground("sidecar-s0-baseline")
    other = tmp_path / "other"
    other.write_text("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\nclusters: []\nusers: []\n"
                     "contexts: [{name: nowhere, context: {cluster: x, user: y}}]\n")  # fmt: skip
    env = {"KUBECONFIG": f"{other}:{pg.kubeconfig}"}
    code, doc = explain_json(["red/netshoot", "blue/httpbin", "--context", "playground", "--no-flows"], env)
    assert code == 0 and doc["verdict"] == "allowed"


def test_unreachable_api_is_exit_3_in_one_line(tmp_path) -> None:
    from kubectl_meshdoctor.playground.main import write_kubeconfig

    kubeconfig = write_kubeconfig(tmp_path / "config", f"http://127.0.0.1:{free_port()}")
    code, out, err = run(["explain", "red/netshoot", "blue/httpbin", "--kubeconfig", str(kubeconfig)])
    assert code == 3 and out == ""
    assert err.startswith("error: cannot reach the Kubernetes API at http://127.0.0.1:")
    assert len(err.strip().splitlines()) == 1


def test_relay_select_honours_filter_semantics(playground) -> None:
    """The playground's Relay uses Hubble's AND-within / OR-across semantics and pod prefixes."""
    from kubectl_meshdoctor._proto import observer_pb2
    from kubectl_meshdoctor.playground.relay import select

    pg = playground("sidecar-s2-l7-policy")
    flows = pg.relay.flows
    only_red = select(flows, observer_pb2.GetFlowsRequest(whitelist=[flow_pb2.FlowFilter(source_pod=["red/"])]))
    assert only_red and all(f.source.namespace == "red" for f in only_red)
    both = select(flows, observer_pb2.GetFlowsRequest(whitelist=[
        flow_pb2.FlowFilter(source_pod=["red/net"], destination_pod=["blue/"]),
        flow_pb2.FlowFilter(source_pod=["blue/"], destination_pod=["red/net"]),
    ]))  # fmt: skip
    assert both and all({f.source.namespace, f.destination.namespace} == {"red", "blue"} for f in both)
    last2 = select(flows, observer_pb2.GetFlowsRequest(number=2, whitelist=[flow_pb2.FlowFilter(source_pod=["red/"])]))
    assert last2 == only_red[-2:]


def test_default_port_forward_to_hubble_relay(playground) -> None:
    """No --hubble-server: Service kube-system/hubble-relay -> its pod -> websocket port-forward."""
    pg = playground("sidecar-s2-l7-policy", relay_service=True)
    query = ["red/netshoot", "blue/httpbin", "--path", "/ip"]
    code, live = explain_json(query, pg.env())
    _, offline = explain_json([*query, "--from", str(pg.demo_dir)])
    assert code == 1 and live["evidence"]["source"] == "hubble", live["warnings"]
    assert live["evidence"]["flows"] == offline["evidence"]["flows"] > 0
    forwards = [r for r in pg.api.requests if r.path.endswith("/portforward")]
    assert (
        forwards and forwards[0].path == "/api/v1/namespaces/kube-system/pods/hubble-relay-5f8d9c7b6-pg000/portforward"
    )
    assert forwards[0].query == {"ports": "4245"} and {r.method for r in pg.api.requests} == {"GET"}
    assert len(pg.relay.requests) == 1
