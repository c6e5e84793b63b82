"""Issue 11 demos: ambient with a waypoint (red/blue/green, flows on both legs) and a route subset
without endpoints. Users and tests run the same bundled files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMOS = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos"
WP = "waypoint-7c9d5f8b6d-m2x7q"


def _explain(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["explain", "red/netshoot", "blue/httpbin", *args, "-o", "json"])
    assert result.output.startswith("{"), result.output
    return result.exit_code, json.loads(result.output)


def test_waypoint_demo_shows_both_legs() -> None:
    code, doc = _explain("--demo", "ambient-w1-waypoint", "--path", "/ip")
    assert (code, doc["verdict"]) == (0, "allowed")
    legs = [h.get("leg") for h in doc["hops"]]
    assert legs.count("red/netshoot → waypoint blue/waypoint") == 4
    assert legs.count("waypoint blue/waypoint → blue/httpbin") == 5
    ingress = [h for h in doc["hops"] if h["name"] == "cilium-ingress"]
    assert len(ingress) == 2  # the waypoint pod's ingress, then the server's (peer: the waypoint)
    assert doc["evidence"]["flows"] > 0 and doc["evidence"]["agrees"] is True


def test_waypoint_demo_l7_policy_denies_at_the_waypoint() -> None:
    code, doc = _explain("--demo", "ambient-w1-waypoint", "--path", "/deny")
    assert (code, doc["verdict"], doc["symptom"]) == (1, "denied", "http-403")
    hop = next(h for h in doc["hops"] if h["decision"] == "deny")
    assert hop["name"] == "waypoint" and hop["leg"] == "waypoint blue/waypoint"
    assert [c["code"] for c in doc["causes"]] == ["istio-authz-denied"]
    assert "waypoint blue/waypoint rejects red/netshoot with 403" in doc["causes"][0]["summary"]


def test_waypoint_demo_flows_show_the_waypoint_leg() -> None:
    text = (DEMOS / "ambient-w1-waypoint" / "flows.jsonl").read_text()
    flows = [json.loads(line)["flow"] for line in text.splitlines()]
    pairs = {
        (f["source"].get("pod_name"), f["destination"].get("pod_name"), f["l4"]["TCP"]["destination_port"])
        for f in flows
        if "TCP" in f.get("l4", {}) and not f.get("is_reply") and f["l4"]["TCP"]["flags"].get("ACK") is None
    }
    assert ("netshoot-5c7f9d8b6d-k2xqz", WP, 15008) in pairs  # red client -> waypoint
    assert (WP, "httpbin-6f9d8b7c5d-q4t8n", 15008) in pairs  # waypoint -> blue server
    assert ("netshoot-5c7f9d8b6d-k2xqz", "httpbin-6f9d8b7c5d-q4t8n", 15008) not in pairs
    result = CliRunner().invoke(cli, ["flows", "red/netshoot", "blue/waypoint", "--demo", "ambient-w1-waypoint"])
    assert WP in result.output


def test_waypoint_demo_what_if_policy_removed() -> None:
    code, doc = _explain(
        "--demo",
        "ambient-w1-waypoint",
        "--path",
        "/deny",
        "--what-if-delete",
        "AuthorizationPolicy/blue/httpbin-get-ip",
    )
    assert (code, doc["verdict"], doc["whatIf"]["before"]["verdict"]) == (0, "allowed", "denied")


def test_subset_without_endpoints_demo() -> None:
    code, doc = _explain("--demo", "routing-subset-no-endpoints", "--path", "/ip")
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-503")
    assert doc["causes"][0]["code"] == "istio-subset-no-endpoints"
    assert "no healthy upstream" in doc["causes"][0]["summary"]


def test_subset_without_endpoints_what_if_labels_fixed(tmp_path: Path) -> None:
    fix = tmp_path / "dr.yaml"
    fix.write_text(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: httpbin, namespace: blue}\n"
        "spec:\n  host: httpbin\n  subsets:\n  - {name: v1, labels: {app: httpbin}}\n"
        "  - {name: v2, labels: {app: httpbin}}\n"
    )
    code, doc = _explain("--demo", "routing-subset-no-endpoints", "--path", "/ip", "--what-if", str(fix))
    assert (code, doc["verdict"], doc["whatIf"]["before"]["symptom"]) == (0, "allowed", "http-503")


def test_issue11_demos_are_listed() -> None:
    result = CliRunner().invoke(cli, ["demo", "-o", "json"])
    names = {d["name"]: d["description"] for d in json.loads(result.output)}
    assert names["ambient-w1-waypoint"].startswith("Ambient W1:")
    assert names["routing-subset-no-endpoints"].startswith("Routing:")


def test_gaps_follow_each_leg() -> None:
    """A CiliumNetworkPolicy read gap in the waypoint's namespace (blue) makes the waypoint leg's
    Cilium hops unknown even though the client (red) could be read: never a confident allowed."""
    from kubectl_meshdoctor.diagnosis.call import Query
    from kubectl_meshdoctor.diagnosis.explain import explain
    from kubectl_meshdoctor.findings.types import Gap
    from kubectl_meshdoctor.model.build import build_model
    from kubectl_meshdoctor.sources.demo import read_demo

    raw = read_demo("ambient-w1-waypoint")
    raw.gaps.append(
        Gap("no read access to ciliumnetworkpolicies in blue", kinds={"CiliumNetworkPolicy"}, namespace="blue")
    )
    d = explain(build_model(raw), Query("red/netshoot", "blue/httpbin", "default", path="/ip", no_flows=True))
    assert d.verdict.value == "unknown"
    by_leg = {(h.hop.value, h.leg): h.decision.value for h in d.hops}
    assert by_leg[("cilium-ingress", "red/netshoot → waypoint blue/waypoint")] == "unknown"  # waypoint pod, blue
    assert by_leg[("cilium-egress", "waypoint blue/waypoint → blue/httpbin")] == "unknown"  # the waypoint's egress
    assert by_leg[("cilium-egress", "red/netshoot → waypoint blue/waypoint")] == "allow"  # red's own egress


def test_waypoint_fix_yaml_round_trips(tmp_path: Path) -> None:
    args = ["explain", "red/netshoot", "blue/httpbin", "--demo", "ambient-w1-waypoint", "--path", "/deny"]
    fix = CliRunner().invoke(cli, [*args, "--fix-yaml"])
    doc = yaml.safe_load(fix.output)
    assert doc["spec"]["targetRefs"] and doc["spec"]["rules"][0]["to"][0]["operation"]["paths"] == ["/deny"]
    (tmp_path / "fix.yaml").write_text(fix.output)
    after = CliRunner().invoke(cli, [*args, "--what-if", str(tmp_path / "fix.yaml"), "-o", "json"])
    doc = json.loads(after.output)
    assert (after.exit_code, doc["verdict"], doc["whatIf"]["before"]["verdict"]) == (0, "allowed", "denied")
