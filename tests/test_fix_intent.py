"""Intent-preserving fixes (issue 17): in ambient, opening 15008 to the client would let through
what the user's Cilium HTTP rule refuses (HBONE hides the HTTP from Cilium's proxy). The proposal
is a waypoint holding the same methods/paths for the same sources; where a rule has no exact Istio
form it is named as lost and leaving ambient is proposed instead. Blast radius "none" is said."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

import kubectl_meshdoctor
from kubectl_meshdoctor.cli.main import cli

DEMOS = Path(kubectl_meshdoctor.__file__).parent / "demos"
A2 = ["explain", "red/netshoot", "blue/httpbin", "--no-flows"]


def _run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, [*args, "-o", "json"])
    return result.exit_code, json.loads(result.stdout)


def _verdict(source: list[str], fix: Path, method: str, path: str, src: str = "red/netshoot") -> str:
    args = ["explain", src, "blue/httpbin", *source, "--what-if", str(fix), "--method", method, "--path", path]
    return _run(*args)[1]["verdict"]


def test_ambient_l7_rule_moves_to_a_waypoint(tmp_path: Path) -> None:
    _, doc = _run(*A2, "--path", "/ip", "--demo", "ambient-a2-l7-policy")
    naive, waypoint, leave = doc["fixes"]
    assert not naive["proposed"] and naive["intent"]["widened"]  # opening 15008 bypasses GET /ip only
    assert any(w["method"] == "POST" and "rules.http" in w["refusedBy"] for w in naive["intent"]["widened"])
    assert waypoint["proposed"] and not leave["proposed"] and waypoint["intent"]["widened"] == []
    kinds = [yaml.safe_load(m)["kind"] for m in waypoint["manifests"]]
    assert kinds == ["Gateway", "Service", "AuthorizationPolicy", "CiliumNetworkPolicy"]
    policy = yaml.safe_load(waypoint["manifests"][2])["spec"]
    assert policy["targetRefs"] == [{"kind": "Service", "group": "", "name": "httpbin"}]
    (rule,) = policy["rules"]
    assert rule["from"] == [{"source": {"namespaces": ["blue", "red"]}}]
    assert rule["to"][0]["operation"] == {"ports": ["80"], "methods": ["GET"], "paths": ["/ip"]}
    hbone = yaml.safe_load(waypoint["manifests"][3])["spec"]["ingress"][0]
    assert hbone["fromEndpoints"][0]["matchLabels"]["k8s:io.cilium.k8s.policy.serviceaccount"] == "waypoint"
    fix = tmp_path / "fix.yaml"
    fix.write_text(
        CliRunner().invoke(cli, [*A2, "--path", "/ip", "--demo", "ambient-a2-l7-policy", "--fix-yaml"]).stdout
    )
    demo = ["--demo", "ambient-a2-l7-policy", "--no-flows"]
    assert _verdict(demo, fix, "GET", "/ip") == "allowed"
    assert _verdict(demo, fix, "GET", "/deny") == "denied"  # what the L7 rule exists to refuse
    assert _verdict(demo, fix, "POST", "/ip") == "denied"
    assert _verdict(demo, fix, "GET", "/ip", src="green/netshoot") == "denied"  # green was never admitted


def test_rule_with_no_istio_form_is_named_lost_and_leaving_ambient_is_proposed(tmp_path: Path) -> None:
    """Near miss: the same demo with a header match in the HTTP rule: no faithful AuthorizationPolicy."""
    shutil.copytree(DEMOS / "ambient-a2-l7-policy", tmp_path / "demo")
    policies = tmp_path / "demo" / "policies.yaml"
    policies.write_text(policies.read_text().replace("path: /ip", "path: /ip\n          headers: ['X-Team: blue']"))
    _, doc = _run(*A2, "--path", "/ip", "-H", "X-Team: blue", "--from", str(tmp_path / "demo"))
    titles = [f["title"] for f in doc["fixes"]]
    assert not any(t.startswith("waypoint") for t in titles), titles
    naive = doc["fixes"][0]
    assert naive["intent"]["widened"] and not naive["proposed"]
    assert any("rules.http[0]" in lost and "headers" in lost for lost in naive["intent"]["lost"]), naive["intent"]
    (proposed,) = [f for f in doc["fixes"] if f["proposed"]]
    assert proposed["title"].startswith("take blue, red out of ambient")
    text = CliRunner().invoke(cli, [*A2, "--path", "/ip", "-H", "X-Team: blue", "--from", str(tmp_path / "demo")])
    assert "loses:" in text.stdout and "WIDENS" in text.stdout


def test_blast_radius_none_is_stated() -> None:
    """S1: the fix admits exactly green/netshoot on TCP/80; the other calls it could reach keep their verdict."""
    code, doc = _run("explain", "green/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy", "--no-flows")
    (fix,) = doc["fixes"]
    assert (
        code == 1
        and fix["proposed"]
        and fix["resolves"]
        == {
            "before": "denied",
            "after": "allowed",
            "afterSymptom": "ok",
        }
    )
    peer = yaml.safe_load(fix["manifests"][0])["spec"]["ingress"][0]["fromEndpoints"][0]["matchLabels"]
    assert peer == {"k8s:app": "netshoot", "k8s:io.kubernetes.pod.namespace": "green"}
    assert fix["blastRadius"]["changes"] == [] and fix["blastRadius"]["compared"] > 10
    shown = CliRunner().invoke(cli, ["explain", "green/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy"])
    assert "blast radius: none" in " ".join(shown.stdout.split())
    text = CliRunner().invoke(cli, ["explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy"])
    assert "proof" not in text.stdout  # a working call proposes nothing


def test_a_request_the_users_rule_refuses_gets_no_fix_around_it(tmp_path: Path) -> None:
    """GET /index.html is refused by the user's own HTTP rule (only GET /ip): opening 15008 would make
    it pass by going around that rule, so no proposal is made, and the naive fix names the rule."""
    code, doc = _run(*A2, "--path", "/index.html", "--demo", "ambient-a2-l7-policy")
    assert code == 1 and not any(f["proposed"] for f in doc["fixes"])
    naive = doc["fixes"][0]
    asked = [w for w in naive["intent"]["widened"] if (w["method"], w["path"]) == ("GET", "/index.html")]
    assert asked and "rules.http" in asked[0]["refusedBy"]
    fix = tmp_path / "naive.yaml"
    fix.write_text("---\n".join(m + "\n" for m in naive["manifests"]))
    assert _verdict(["--demo", "ambient-a2-l7-policy"], fix, "GET", "/deny") == "allowed"  # why it is refused
