"""Issue 20 item 4: a CiliumEnvoyConfig / CiliumClusterwideEnvoyConfig that redirects a Service puts an
Envoy listener on the path of calls to it, as a named gap (hop unknown), never a silent pass; configs
for another Service or port leave the call as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

OBJECTS = Path(__file__).parent / "scenarios" / "cilium-envoyconfig" / "objects.yaml"


def explain(src: str, dst: str, port: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["explain", src, dst, "--port", port, "--from", str(OBJECTS), "-o", "json"])
    return dict(json.loads(result.stdout))


def _route(doc: dict[str, Any]) -> dict[str, Any]:
    return next(h for h in doc["hops"] if h["name"] == "client-route")


def test_the_listener_is_named_on_the_hop_and_in_the_gaps() -> None:
    doc = explain("app/client", "app/svc/echo", "80")
    hop = _route(doc)
    assert hop["decision"] == "unknown"
    assert "Envoy listener (CiliumEnvoyConfig app/echo-lb)" in hop["detail"]
    assert {"kind": "CiliumEnvoyConfig", "namespace": "app", "name": "echo-lb"}.items() <= hop["by"][-1].items()
    assert any("CiliumEnvoyConfig app/echo-lb" in g and "Listener, RouteConfiguration" in g for g in doc["gaps"])
    assert doc["verdict"] == "unknown"


def test_a_config_for_another_service_or_port_changes_nothing() -> None:
    for dst, port in (("app/svc/plain", "80"), ("app/svc/multi", "80")):
        doc = explain("app/client", dst, port)
        assert doc["verdict"] == "allowed"
        assert not any("Envoy listener" in g for g in doc["gaps"])
    doc = explain("app/client", "app/svc/multi", "9090")
    assert "Envoy listener (CiliumClusterwideEnvoyConfig multi-admin)" in _route(doc)["detail"]


def test_a_mesh_client_is_said_to_likely_bypass_it_but_not_assumed_to() -> None:
    doc = explain("app/meshclient", "app/svc/echo", "80")
    hop = _route(doc)
    assert hop["decision"] == "unknown" and "likely bypasses the redirect" in hop["detail"]


def test_a_policy_port_rule_redirecting_to_a_listener_is_named() -> None:
    hop = _route(explain("app/client", "app/svc/guarded", "80"))
    assert hop["decision"] == "unknown"
    assert "Envoy listener (CiliumEnvoyConfig app/echo-lb, listener guard)" in hop["detail"]
    assert "CiliumNetworkPolicy app/guarded-listener spec.ingress[0].toPorts[0].listener" in hop["detail"]
    near = explain("app/client", "app/svc/multi", "80")  # its listener is on 9090 only
    assert near["verdict"] == "allowed"
