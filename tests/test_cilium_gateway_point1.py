"""Issue 20 §4 (semantics-gateways.md C2, C3, GB12): the first policy point of Cilium's Gateway, the
outside client → Cilium's Envoy, decided by the clusterwide policies that select the ingress endpoint
(reserved:ingress, or every endpoint), on the backend's port. A refusal is Envoy's 403 `Access denied`;
a rule that admits or refuses by address makes `world` without an IP unknown (it depends on the IP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SCENARIO = Path(__file__).parent / "scenarios" / "gateway-api-northsouth"
AT_INGRESS = "endpointSelector: {matchExpressions: [{key: reserved:ingress, operator: Exists}]}"


def _ccnp(name: str, spec: str) -> str:
    head = f"---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {{name: {name}}}\n"
    return head + "spec:\n" + "".join(f"  {line}\n" for line in spec.strip().splitlines())


LOCKDOWN = _ccnp("external-lockdown", "endpointSelector: {}\ningress: [{fromEntities: [cluster]}]")
WORLD = _ccnp("ingress-from-world", f"{AT_INGRESS}\ningress: [{{fromEntities: [world]}}]")
OFFICE = _ccnp("ingress-from-office", f"{AT_INGRESS}\ningress: [{{fromCIDRSet: [{{cidr: 203.0.113.0/24}}]}}]")
BLOCKED = _ccnp(
    "ingress-block-range",
    f"{AT_INGRESS}\ningress: [{{fromEntities: [world]}}]\ningressDeny: [{{fromCIDR: [198.51.100.0/24]}}]",
)
L7 = _ccnp(
    "ingress-get-open",
    f"{AT_INGRESS}\ningress:\n- fromEntities: [world]\n  toPorts: [{{ports: [{{port: '8080', protocol: TCP}}], "
    "rules: {http: [{method: GET, path: /open.*}]}}]",
)


def _explain(tmp_path: Path, policies: str, source: str = "world", path: str = "/open") -> tuple[int, dict[str, Any]]:
    (tmp_path / "objects.yaml").write_text((SCENARIO / "objects.yaml").read_text() + policies)
    args = ["explain", source, "edge/gateway/cilgw", "--host", "app.cil.example", "--path", path]
    result = CliRunner().invoke(cli, [*args, "--from", str(tmp_path), "-o", "json"])
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def _point1(doc: dict[str, Any]) -> dict[str, Any] | None:
    return next((h for h in doc["hops"] if (h.get("leg") or "").startswith("world → Cilium's Envoy")), None)


def test_no_policy_selects_the_ingress_endpoint_no_point1_hop(tmp_path: Path) -> None:
    code, doc = _explain(tmp_path, "")
    assert (code, doc["verdict"]) == (0, "allowed") and _point1(doc) is None


def test_external_lockdown_refuses_world_with_envoys_403(tmp_path: Path) -> None:
    code, doc = _explain(tmp_path, LOCKDOWN)
    assert (code, doc["verdict"], doc["symptom"]) == (1, "denied", "http-403")
    hop = _point1(doc)
    assert hop is not None and hop["decision"] == "deny" and "Access denied" in hop["detail"]
    assert [c["code"] for c in doc["causes"]] == ["cilium-ingress-world-denied"]
    assert doc["causes"][0]["objects"][0]["name"] == "external-lockdown"
    # Envoy answered itself: the backend leg is not walked
    assert not any((h.get("leg") or "").startswith("Cilium's Envoy (gateway") for h in doc["hops"])


def test_near_miss_world_admitted_at_the_ingress_endpoint(tmp_path: Path) -> None:
    code, doc = _explain(tmp_path, WORLD)
    assert (code, doc["verdict"]) == (0, "allowed")
    hop = _point1(doc)
    assert hop is not None and hop["decision"] == "allow" and "TCP/8080" in hop["detail"]


@pytest.mark.parametrize(
    ("policies", "source", "verdict", "code"),
    [
        (OFFICE, "world", "unknown", 3),  # the rule depends on the client's IP, which the question lacks
        (OFFICE, "203.0.113.5", "allowed", 0),
        (OFFICE, "198.51.100.7", "denied", 1),
        (BLOCKED, "world", "unknown", 3),  # a deny by address: world without an IP may be in it
        (BLOCKED, "198.51.100.7", "denied", 1),
        (BLOCKED, "203.0.113.5", "allowed", 0),
    ],
)
def test_rules_by_address_need_the_client_ip(
    tmp_path: Path, policies: str, source: str, verdict: str, code: int
) -> None:
    got, doc = _explain(tmp_path, policies, source)
    assert (got, doc["verdict"]) == (code, verdict), [(h["name"], h["decision"], h["detail"]) for h in doc["hops"]]
    if verdict == "unknown":
        assert any("depends on the client's IP" in g for g in doc["gaps"])


def test_http_rules_at_the_ingress_endpoint(tmp_path: Path) -> None:
    code, doc = _explain(tmp_path, L7, path="/open")
    assert (code, doc["verdict"]) == (0, "allowed")
    code, doc = _explain(tmp_path, L7, path="/closed")  # routed to locked/closed:8080, refused at point 1
    hop = _point1(doc)
    assert (code, doc["verdict"], doc["symptom"]) == (1, "denied", "http-403")
    assert hop is not None and "HTTP rules do not admit GET /closed" in hop["detail"]
    assert doc["causes"][0]["code"] == "cilium-ingress-world-denied"
