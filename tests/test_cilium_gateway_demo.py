"""Issue 20 §4/§7: the bundled demo cilium-gateway-istio-strict. Cilium's Gateway (GatewayClass
io.cilium/gateway-controller) in front of an Istio STRICT backend: the outside client passes the first
policy point (a policy on reserved:ingress admits world), the backend's policy admits identity ingress,
and the sidecar resets Envoy's plaintext → 503 (GB15). Near miss: the backend whose port is PERMISSIVE.
The flows are those Hubble shows for the leg from identity ingress (8) to the backend's pod."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

ARGS = [
    "explain",
    "world",
    "edge/gateway/public",
    "--host",
    "shop.example.com",
    "--demo",
    "cilium-gateway-istio-strict",
]


def explain(path: str, *more: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, [*ARGS, "--path", path, *more, "-o", "json"])
    return result.exit_code, json.loads(result.stdout)


def _legs(doc: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    return [(h.get("leg"), h["name"], h["decision"]) for h in doc["hops"]]


def test_strict_backend_behind_ciliums_envoy_is_503() -> None:
    code, doc = explain("/catalog")
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-503")
    assert [c["code"] for c in doc["causes"]] == ["cilium-ingress-vs-istio-mtls"]
    assert doc["causes"][0]["objects"][0]["name"] == "default"  # PeerAuthentication store/default
    gw = doc["gateway"]
    assert (gw["implementation"], gw["controller"]) == ("cilium", "io.cilium/gateway-controller")
    assert [(b["namespace"], b["name"]) for b in gw["answering"]] == [("store", "catalog")]
    assert _legs(doc)[1:] == [
        ("world → Cilium's Envoy (gateway edge/public), for store/catalog:80", "cilium-ingress", "allow"),
        ("Cilium's Envoy (gateway edge/public) → store/svc/catalog", "cilium-ingress", "allow"),
        ("Cilium's Envoy (gateway edge/public) → store/svc/catalog", "server-proxy", "break"),
    ]


def test_the_flows_are_envoys_listener_and_its_leg_from_identity_ingress() -> None:
    _, doc = explain("/catalog")
    ev = doc["evidence"]
    # 5 of the leg (identity ingress → the catalog pod, its RST), 4 L7 records at the Gateway's address
    assert ev["flows"] == 9 and ev["verdicts"] == {"FORWARDED": 9}
    assert ev["httpStatus"] == {"503": 1} and ev["agrees"] is True
    assert "policy store/from-gateway" in ev["summary"]


def test_near_miss_permissive_port_is_answered() -> None:
    code, doc = explain("/reviews")
    assert (code, doc["verdict"], doc["symptom"]) == (0, "allowed", "ok")
    assert doc["causes"] == []
    assert [(b["namespace"], b["name"]) for b in doc["gateway"]["answering"]] == [("store", "reviews")]
    assert doc["evidence"]["agrees"] is True and doc["evidence"]["httpStatus"] == {"200": 1}


def test_text_walks_both_policy_points() -> None:
    result = CliRunner().invoke(cli, [*ARGS, "--path", "/catalog"])
    assert result.exit_code == 1
    assert "─ world → Cilium's Envoy (gateway edge/public), for store/catalog:80" in result.stdout
    assert "CiliumClusterwideNetworkPolicy ingress-from-world" in result.stdout
    assert "cilium-ingress-vs-istio-mtls (error)" in result.stdout


def test_check_does_not_call_the_ingress_endpoint_policy_empty() -> None:
    """A policy selecting reserved:ingress selects Cilium's ingress endpoint, which is no pod."""
    result = CliRunner().invoke(cli, ["check", "-A", "--demo", "cilium-gateway-istio-strict", "-o", "json"])
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert "policy-selects-nothing" not in codes
