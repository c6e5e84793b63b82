"""Issue 20: the gateway catalog entries GB10, GB11, GB14 and GB16 (semantics-gateways.md Part B) as
`check` and `explain` report them; the per-call cases with their near misses are scenarios
(tests/scenarios/gamma-cilium-consumer-and-bypass, cilium-ingress-client-cidr,
cilium-envoyconfig-conflict, cilium-envoyconfig)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SCENARIOS = Path(__file__).parent / "scenarios"


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, [*args, "-o", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def _names(finding: dict[str, Any]) -> set[str]:
    return {o["name"] for o in finding["objects"]}


def test_gb16_check_reports_each_overlapping_pair_and_not_the_near_misses() -> None:
    _, doc = _json("check", "--from", str(SCENARIOS / "cilium-envoyconfig-conflict"))
    found = [f for f in doc["findings"] if f["code"] == "cilium-envoyconfig-conflict"]
    assert sorted(sorted(_names(f)) for f in found) == [["cilium-gateway-web", "named-lb"], ["dup-a", "dup-b"]]
    assert all(f["severity"] == "warning" for f in found)
    dup = next(f for f in found if "dup-a" in _names(f))
    assert "Service app/dup (port 80)" in dup["summary"]
    named = next(f for f in found if "named-lb" in _names(f))
    assert "Listener app/cilium-gateway-web/listener" in named["summary"]


def test_gb16_explain_names_the_conflict_on_the_path_and_stays_unknown() -> None:
    code, doc = _json(
        "explain", "app/client", "app/svc/dup", "--port", "80", "--from", str(SCENARIOS / "cilium-envoyconfig-conflict")
    )
    assert (code, doc["verdict"]) == (3, "unknown")
    (cause,) = [c for c in doc["causes"] if c["code"] == "cilium-envoyconfig-conflict"]
    assert "unpredictable" in cause["summary"] and cause["fix"].startswith("keep one CiliumEnvoyConfig")


def test_gb14_check_names_the_cidr_rule_only_on_the_port_the_ingress_calls() -> None:
    _, doc = _json("check", "--from", str(SCENARIOS / "cilium-ingress-client-cidr"))
    invisible = [f for f in doc["findings"] if f["code"] == "cilium-ingress-client-ip-invisible"]
    assert [_names(f) for f in invisible] == [{"cidr-office-only"}]  # not otherport-office-admin (port 9090)
    assert "reserved:ingress" in invisible[0]["fix"] and "203.0.113.0/24" in invisible[0]["fix"]
    denied = {n for f in doc["findings"] if f["code"] == "cilium-ingress-backend-denied" for n in _names(f)}
    assert denied == {"cidr-office-only", "otherport-office-admin"}


def test_gb10_explain_says_the_consumer_route_is_not_applied() -> None:
    folder = str(SCENARIOS / "gamma-cilium-consumer-and-bypass")
    code, doc = _json("explain", "web/plain", "shop/svc/echo", "--port", "80", "--path", "/other", "--from", folder)
    assert (code, doc["verdict"]) == (0, "allowed")
    (cause,) = doc["causes"]
    assert cause["code"] == "gamma-consumer-route-unsupported" and cause["severity"] == "warning"
    assert "every client of the Service" in cause["fix"]  # the blast radius of moving the route
    route_hop = next(h for h in doc["hops"] if h["name"] == "client-route")
    assert "not applied" in route_hop["detail"] and "unrouted" in route_hop["detail"]


def test_gb11_mesh_client_bypass_is_marked_inferred() -> None:
    folder = str(SCENARIOS / "gamma-cilium-consumer-and-bypass")
    code, doc = _json("explain", "web/meshed", "shop/svc/cart", "--port", "80", "--path", "/other", "--from", folder)
    assert (code, doc["verdict"]) == (3, "unknown")
    (cause,) = doc["causes"]
    assert cause["code"] == "gamma-bypassed-by-mesh-client" and "[inferred]" in cause["summary"]
    assert any("bypasses" in g for g in doc["gaps"])


def _leg_cause(source: str, host: str) -> dict[str, Any]:
    folder = str(SCENARIOS / "egress-gateway-leg-cilium")
    code, doc = _json("explain", source, host, "--method", "GET", "--from", folder)
    assert (code, doc["verdict"]) == (1, "denied")
    (cause,) = doc["causes"]
    assert (cause["code"], cause.get("detail")) == ("cilium-policy-denied", "egress-gateway-leg")
    return cause


def test_gb19_each_leg_of_the_egress_gateway_says_which_leg_and_what_to_allow() -> None:
    first = _leg_cause("red/dnsonly", "api.example.com")  # the client's egress to the gateway pod
    assert "red/dnsonly → egress gateway istio-system/istio-egressgateway" in first["summary"]
    assert "toEndpoints" in first["fix"] and '"8080"' in first["fix"]
    at_gateway = _leg_cause("red/stranger", "api.example.com")  # the gateway pods' ingress
    assert "ingress policy must admit the client" in at_gateway["summary"]
    out = _leg_cause("red/client", "api.example.net")  # the gateway pods' egress to the outside host
    assert "→ api.example.net" in out["summary"]
    assert "matchName: api.example.net" in out["fix"] and "matchPattern" in out["fix"]  # + the DNS rule


def test_gb19_near_miss_causes_carry_no_leg_detail() -> None:
    folder = str(SCENARIOS / "egress-istio-gateway")
    _, doc = _json("explain", "red/direct", "plain.example.com", "--method", "GET", "--from", folder)
    assert doc["verdict"] == "denied"  # the sidecar connects out itself: no egress gateway leg
    assert [c.get("detail") for c in doc["causes"]] == [None]


def test_gb6_gateway_api_durations_and_the_shorter_bound() -> None:
    from kubectl_meshdoctor.diagnosis.gateway_timeout import bound, seconds

    assert [seconds(d) for d in ("500ms", "1h30m", "2s", "0s", "10", "1.5s", "s")] == [
        0.5, 5400.0, 2.0, 0.0, None, None, None,
    ]  # fmt: skip
    assert bound((("request", "1s"), ("backendRequest", "500ms"))) == (0.5, "backendRequest 500ms")
    assert bound((("request", "0s"),)) is None  # "0s" disables the timeout


def test_gb6_504_through_a_gateway_names_the_route_field_and_the_delay() -> None:
    folder = str(SCENARIOS / "gateway-route-timeout")
    code, doc = _json(
        "explain", "world", "edge/gateway/cil", "--path", "/short", "-H", "end-user: jason", "--from", folder
    )
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-504")
    (cause,) = doc["causes"]
    assert cause["code"] == "istio-timeout" and "timeouts.backendRequest 500ms" in cause["summary"]
    assert "(Cilium's Envoy: inferred)" in cause["summary"]
    assert cause["fix"].startswith("raise spec.rules[0].timeouts.backendRequest above 2s")
    assert "kubectl -n shop edit httproute mid-cil" in cause["fix"]


def test_gb15_check_reports_the_strict_backend_behind_ciliums_gateway_not_the_permissive_one() -> None:
    """`check` runs the leg behind Cilium's Gateway for every backend of its accepted routes (as it does
    for Cilium's Ingress): catalog is STRICT (reset), reviews' port is PERMISSIVE (the near miss)."""
    _, doc = _json("check", "--demo", "cilium-gateway-istio-strict")
    found = [f for f in doc["findings"] if f["code"] == "cilium-ingress-vs-istio-mtls"]
    assert len(found) == 1 and "store/catalog-" in found[0]["summary"]
    assert "reviews" not in json.dumps(found)


def test_gb13_gb14_check_behind_ciliums_gateway_reports_the_backend_and_its_cidr_rule() -> None:
    _, doc = _json("check", "--from", str(SCENARIOS / "cilium-gateway-backends"))
    codes = sorted((f["code"], sorted(_names(f))) for f in doc["findings"] if f["code"].startswith("cilium-ingress"))
    assert codes == [
        ("cilium-ingress-backend-denied", ["cidr-office-only"]),
        ("cilium-ingress-client-ip-invisible", ["cidr-office-only"]),
    ]  # not right-from-ingress (admits ingress), not the route the listener refuses (other namespace)


def test_gb10_check_reports_consumer_routes_only_where_a_client_outside_the_mesh_uses_them() -> None:
    _, doc = _json("check", "--from", str(SCENARIOS / "gamma-cilium-consumer-and-bypass"))
    found = sorted(n for f in doc["findings"] if f["code"] == "gamma-consumer-route-unsupported" for n in _names(f))
    assert found == ["echo-consumer", "mixed-consumer"]
    # near miss: web's clients in gamma-mesh-routes are sidecars, which Istio routes by the consumer route
    _, doc = _json("check", "--from", str(SCENARIOS / "gamma-mesh-routes"))
    assert not [f for f in doc["findings"] if f["code"] == "gamma-consumer-route-unsupported"]
