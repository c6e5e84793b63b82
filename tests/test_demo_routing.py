"""Issue 7 demos: each bundled routing scenario answers with verdict, symptom, cause and the
Istio object + rule path; what-if removing the fault / adding the subset flips the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

VS = "VirtualService blue/httpbin"
TABLE = [
    ("routing-fault-abort", "/ip", "http-503", "istio-fault-injection", f"{VS} http[0].fault.abort"),
    ("routing-subset-missing", "/ip", "http-503", "istio-subset-not-found", f"{VS} http[0].route[0].destination"),
    ("routing-route-no-match", "/ip", "http-404", "istio-route-no-match", f"{VS} http"),
    ("routing-host-unknown", "/ip", "http-503", "istio-destination-host-unknown", f"{VS} http[0].route[0].destination"),
    ("routing-timeout", "/ip", "http-504", "istio-timeout", f"{VS} http[0].timeout"),
    ("routing-sidecar-scope", "/ip", "http-502", "istio-egress-registry-only", "Sidecar red/default egress[].hosts"),
]


def _explain(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["explain", "red/netshoot", "blue/httpbin", *args, "-o", "json"])
    assert result.output.strip().startswith("{"), result.output
    return result.exit_code, json.loads(result.output)


def _key(ref: dict) -> str:
    return f"{ref['kind']} {ref['namespace']}/{ref['name']} {ref['rule']}"


@pytest.mark.parametrize(("demo", "path", "symptom", "code", "by"), TABLE)
def test_routing_demo(demo: str, path: str, symptom: str, code: str, by: str) -> None:
    exit_code, doc = _explain("--demo", demo, "--path", path)
    assert exit_code == 1
    assert (doc["verdict"], doc["symptom"]) == ("broken", symptom)
    assert doc["causes"][0]["code"] == code
    assert all(c["severity"] == "info" for c in doc["causes"][1:]), doc["causes"]
    hop = next(h for h in doc["hops"] if h["name"] == "client-route")
    assert hop["decision"] == "break"
    assert by in [_key(r) for r in hop["by"]]
    # the prediction is an HTTP status: flows earn "agrees" only with HTTP records of this request
    # (issue 10 §4); plain TCP forwards of the pair leave it inconclusive, never "agrees"
    if doc["evidence"]["httpStatus"]:
        assert doc["evidence"]["agrees"] is True
    else:
        assert doc["evidence"]["agrees"] is None
        assert "inconclusive: no HTTP records of GET /ip" in doc["evidence"]["summary"]
    assert not any("not evaluated" in g for g in doc["gaps"])


def test_route_no_match_near_miss_path_is_routed() -> None:
    exit_code, doc = _explain("--demo", "routing-route-no-match", "--path", "/headers")
    assert (exit_code, doc["verdict"], doc["causes"]) == (0, "allowed", [])


def test_routing_demos_are_listed() -> None:
    result = CliRunner().invoke(cli, ["demo", "-o", "json"])
    names = {d["name"]: d["description"] for d in json.loads(result.output)}
    for demo, *_ in TABLE:
        assert names[demo].startswith("Routing:")


def test_what_if_delete_fault_flips(tmp_path: Path) -> None:
    exit_code, doc = _explain(
        "--demo", "routing-fault-abort", "--path", "/ip", "--what-if-delete", "VirtualService/blue/httpbin"
    )
    assert (exit_code, doc["verdict"], doc["whatIf"]["before"]["verdict"]) == (0, "allowed", "broken")
    assert doc["whatIf"]["before"]["causes"] == ["istio-fault-injection"]


def test_what_if_adding_the_subset_flips(tmp_path: Path) -> None:
    fix = tmp_path / "dr.yaml"
    fix.write_text(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: httpbin, namespace: blue}\n"
        "spec:\n  host: httpbin\n  subsets:\n  - {name: v1, labels: {app: httpbin}}\n"
        "  - {name: v2, labels: {app: httpbin}}\n"
    )
    exit_code, doc = _explain("--demo", "routing-subset-missing", "--path", "/ip", "--what-if", str(fix))
    assert (exit_code, doc["verdict"], doc["symptom"]) == (0, "allowed", "ok")
    assert doc["whatIf"]["before"]["symptom"] == "http-503"


def test_text_output_names_the_rule() -> None:
    result = CliRunner().invoke(
        cli, ["explain", "red/netshoot", "blue/httpbin", "--demo", "routing-fault-abort", "--path", "/ip"]
    )
    assert "client sidecar routing" in result.output
    assert "http[0].fault.abort" in result.output
    assert "HTTP 503" in result.output


def test_gateway_demo_host_not_bound_and_bound() -> None:
    args = [
        "explain",
        "istio-system/istio-ingressgateway",
        "blue/httpbin",
        "--demo",
        "gateway-host-not-bound",
        "-o",
        "json",
    ]
    bad = CliRunner().invoke(cli, [*args, "--host", "www.example.com"])
    doc = json.loads(bad.stdout)
    assert (bad.exit_code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-404")
    cause = next(c for c in doc["causes"] if c["code"] == "istio-gateway-host-not-bound")
    assert cause["objects"][0]["name"] == "httpbin-gw" and cause["objects"][0]["rule"] == "spec.servers"
    good = CliRunner().invoke(cli, [*args, "--host", "httpbin.example.com"])
    assert good.exit_code == 0 and json.loads(good.stdout)["verdict"] == "allowed"


def test_circuit_breaker_demo_is_info_without_503_evidence() -> None:
    exit_code, doc = _explain("--demo", "routing-circuit-breaker")
    assert (exit_code, doc["verdict"], doc["symptom"]) == (0, "allowed", "ok")
    cause = next(c for c in doc["causes"] if c["code"] == "istio-circuit-breaker")
    assert cause["severity"] == "info"
    assert _key(cause["objects"][0]) == "DestinationRule blue/httpbin trafficPolicy"


def test_routing_demo_without_an_http_question_is_plain_tcp() -> None:
    """Issue 22: httpbin's port declares no protocol; without --method/--path/-H the payload is raw TCP,
    which the VirtualService's HTTP fault does not touch, and the answer says what it assumed. Istio
    sniffs that port, so an HTTP request would get the abort: the default question cannot earn a
    green (contract §7); the answer is unknown and names what HTTP would get."""
    exit_code, doc = _explain("--demo", "routing-fault-abort")
    assert (exit_code, doc["verdict"], doc["request"]["appProtocol"]) == (3, "unknown", "tcp")
    assert "--app-protocol http" in doc["request"]["appProtocolSource"]
    [gap] = [g for g in doc["gaps"] if g.startswith("the payload decides")]
    assert "plain TCP passes" in gap and "broken (http-503" in gap and "istio-fault-injection" in gap
    exit_code, doc = _explain("--demo", "routing-fault-abort", "--app-protocol", "tcp")
    assert (exit_code, doc["verdict"], doc["request"]["appProtocol"]) == (0, "allowed", "tcp")
    assert not [g for g in doc["gaps"] if g.startswith("the payload decides")]
    exit_code, doc = _explain("--demo", "routing-fault-abort", "--app-protocol", "http")
    assert (exit_code, doc["verdict"], doc["symptom"], doc["request"]["appProtocol"]) == (
        1,
        "broken",
        "http-503",
        "http",
    )


def test_check_and_explain_share_the_abort_severity() -> None:
    """Issue 17: a 100% abort is an error in explain (broken, exit 1), so it is an error in check too."""
    result = CliRunner().invoke(cli, ["check", "-A", "--demo", "routing-fault-abort", "-o", "json"])
    found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "istio-fault-injection"]
    assert result.exit_code == 1 and [f["severity"] for f in found] == ["error"]
    exit_code, doc = _explain("--demo", "routing-fault-abort", "--path", "/ip")
    assert exit_code == 1 and doc["causes"][0]["severity"] == "error"
