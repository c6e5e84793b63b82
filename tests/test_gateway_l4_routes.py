"""Issue 20 §1 (semantics-gateways.md G2-G4): TLSRoute by SNI, TCPRoute by listener port. The JSON
`gateway` object names the listener (TLS Passthrough / TCP), the route and rule that serve the
connection and the backends; verdicts per case are in tests/scenarios/gateway-api-tls-tcp-routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SCENARIO = Path(__file__).parent / "scenarios" / "gateway-api-tls-tcp-routes"


def _explain(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["explain", "world", "edge/gateway/l4", *args, "--from", str(SCENARIO), "-o", "json"]
    )
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("sni", "route", "backend"),
    [
        ("secure.example.com", "TLSRoute apps/secure", "vault"),
        ("a.secure.example.com", "TLSRoute apps/secure", "vault"),
        ("pay.shop.example.com", "TLSRoute apps/pay", "vault"),  # exact before the older wildcard
        ("www.shop.example.com", "TLSRoute apps/shop-wild", "web"),
    ],
)
def test_tlsroute_by_sni(sni: str, route: str, backend: str) -> None:
    code, doc = _explain("--port", "443", "--host", sni)
    gw = doc["gateway"]
    assert code == 0, doc["hops"]
    assert (gw["listener"]["protocol"], gw["listener"]["tls"]) == ("TLS", "Passthrough")
    assert (gw["route"], gw["rule"]) == (route, "spec.rules[0]")
    assert [b["name"] for b in gw["answering"]] == [backend]


def test_tcproute_by_port_and_its_backend_leg() -> None:
    code, doc = _explain("--port", "5432")
    gw = doc["gateway"]
    assert code == 0 and (gw["listener"]["protocol"], gw["route"]) == ("TCP", "TCPRoute db/pg")
    legs = {h.get("leg") for h in doc["hops"]}
    assert "gateway edge/l4 → db/svc/postgres" in legs  # the gateway pod → backend walked as a call


def test_no_route_says_the_connection_is_closed() -> None:
    code, doc = _explain("--port", "7000")
    assert (code, doc["symptom"]) == (1, "reset")
    assert "closes the connection" in doc["causes"][0]["summary"]
