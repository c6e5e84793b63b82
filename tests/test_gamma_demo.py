"""Issue 20 §3/§7: the bundled demo gamma-ambient-no-waypoint. An HTTPRoute attached to a Service in an
ambient namespace without a waypoint is not applied (the Service's pods answer; Hubble shows only HBONE
on 15008 to the pod), and the same objects with a waypoint bound (near miss, via --what-if) apply it:
the route's 404 for a path no rule matches, its rule and backend for one it does. The route, rule and
backend are in the JSON (`meshRoute`) with the fields north-south names them with (`gateway`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMO = ["--demo", "gamma-ambient-no-waypoint"]
WAYPOINT = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {kubernetes.io/metadata.name: shop, istio.io/dataplane-mode: ambient,
  istio.io/use-waypoint: waypoint}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
---
apiVersion: v1
kind: Pod
metadata: {name: waypoint-7c9d5f8b6d-m2x7q, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: waypoint}}
spec: {serviceAccountName: waypoint, containers: [{name: istio-proxy, ports: [{containerPort: 15008}]}]}
status: {phase: Running, podIP: 10.244.2.95, conditions: [{type: Ready, status: "True"}]}
"""


def explain(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["explain", "web/curl", "shop/reviews", *args, *DEMO, "-o", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_without_a_waypoint_the_route_is_not_applied_and_the_pods_answer() -> None:
    code, doc = explain("--path", "/admin")
    assert (code, doc["verdict"], doc["symptom"]) == (0, "allowed", "ok")
    assert [c["code"] for c in doc["causes"]] == ["gamma-no-waypoint"]
    route = doc["meshRoute"]
    assert (route["parent"], route["applied"], route["appliedBy"]) == ("Service shop/reviews", False, "none")
    assert route["route"] == "HTTPRoute shop/reviews-paths"
    assert "no rule would match GET /admin: 404" in route["reason"]
    assert route["answering"] == []
    assert doc["destination"]["pods"] == ["reviews-v1-6f8d9c7b5-q2w3e"]
    # Hubble sees the ambient client's HBONE to the pod (no HTTP, no route), and it agrees
    assert doc["evidence"]["flows"] == 5 and doc["evidence"]["agrees"] is True


def test_text_says_the_route_is_not_applied() -> None:
    result = CliRunner().invoke(cli, ["explain", "web/curl", "shop/reviews", "--path", "/admin", *DEMO])
    assert result.exit_code == 0
    assert "route:   HTTPRoute shop/reviews-paths on Service shop/reviews [not applied:" in result.stdout
    assert "gamma-no-waypoint (warning)" in result.stdout


def test_near_miss_waypoint_bound_applies_the_route_404(tmp_path: Path) -> None:
    fix = tmp_path / "waypoint.yaml"
    fix.write_text(WAYPOINT)
    code, doc = explain("--path", "/admin", "--what-if", str(fix))
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-404")
    assert "gateway-route-no-match" in [c["code"] for c in doc["causes"]]
    assert "gamma-no-waypoint" not in [c["code"] for c in doc["causes"]]
    route = doc["meshRoute"]
    assert (route["applied"], route["appliedBy"], route["status"]) == (True, "waypoint shop/waypoint", 404)


def test_near_miss_waypoint_bound_names_rule_and_backend(tmp_path: Path) -> None:
    fix = tmp_path / "waypoint.yaml"
    fix.write_text(WAYPOINT)
    code, doc = explain("--path", "/reviews/1", "--what-if", str(fix))
    assert (code, doc["verdict"]) == (0, "allowed")
    route = doc["meshRoute"]
    assert (route["route"], route["rule"], route["match"]) == (
        "HTTPRoute shop/reviews-paths",
        "spec.rules[0]",
        "spec.rules[0].matches[0]",
    )
    assert [(b["namespace"], b["name"], b["port"], b["share"]) for b in route["answering"]] == [
        ("shop", "reviews", 9080, 1.0)
    ]
    assert route["forwardedPath"] == "/reviews/1"
    # the call runs client → waypoint → server: the waypoint routes
    assert any(h["name"] == "client-route" and h.get("leg") == "waypoint shop/waypoint" for h in doc["hops"])


SCENARIO = Path(__file__).parent / "scenarios" / "gamma-ambient-and-vs-precedence"


def _check(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(cli, ["check", "-A", *args, "-o", "json"])
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_check_finds_the_route_no_waypoint_applies() -> None:
    code, findings = _check(*DEMO)
    assert code == 0  # a warning
    assert [(f["code"], f["check"], f["objects"][0]["name"]) for f in findings] == [
        ("gamma-no-waypoint", "gateway.GammaWaypoint", "reviews-paths")
    ]


def test_check_near_miss_waypoint_bound_is_quiet() -> None:
    # amb/echo: no waypoint (found); ambwp/echo: waypoint bound (quiet); shop/web and shop/api: sidecar
    # Services, but the ambient client amb/client gets no routing from them either (as explain says);
    # Service parents are no missing Gateways
    _, findings = _check("--from", str(SCENARIO))
    assert sorted((f["code"], f["objects"][0]["namespace"], f["objects"][0]["name"]) for f in findings) == [
        ("gamma-no-waypoint", "amb", "echo-canary"),
        ("gamma-no-waypoint", "shop", "api-route"),
        ("gamma-no-waypoint", "shop", "web-route"),
    ]
