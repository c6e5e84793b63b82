"""Issue 11 §4: ingress gateways as SOURCE. A VirtualService without `gateways:` binds to `mesh`
only, so traffic entering through the gateway does not use it (istio-gateway-host-not-bound naming
that VirtualService, fix "add gateways: [ns/gateway]"); a Gateway whose selector matches no pod is
explained with the same cause `check` reports (istio-gateway-selector-no-match)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from tests.test_gateway import GW, ISTIO_GW, _explain, snap  # noqa: F401  (fixture)

HOST = ("--host", "httpbin.example.com")


def _rewrite(root: Path, old: str, new: str) -> None:
    text = GW.read_text()
    assert old in text
    (root / "zz-gateway.yaml").write_text(text.replace(old, new))


def test_mesh_only_virtual_service_is_not_bound(snap: Path) -> None:  # noqa: F811
    _rewrite(snap, "  gateways: [istio-system/httpbin-gw]\n", "")
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin", *HOST)
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-404")
    (cause,) = doc["causes"]
    assert cause["code"] == "istio-gateway-host-not-bound"
    assert [(o["kind"], o["namespace"], o["name"]) for o in cause["objects"]] == [
        ("VirtualService", "blue", "httpbin-ingress")
    ]
    assert "binds to mesh (sidecars) only" in cause["summary"]
    assert "add `gateways: [istio-system/httpbin-gw]`" in cause["fix"]


def test_virtual_service_bound_to_another_gateway(snap: Path) -> None:  # noqa: F811
    _rewrite(snap, "gateways: [istio-system/httpbin-gw]", "gateways: [istio-system/other-gw, mesh]")
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin", *HOST)
    assert (code, doc["verdict"]) == (1, "broken")
    (cause,) = doc["causes"]
    assert "not istio-system/httpbin-gw" in cause["summary"]
    assert "gateways: [istio-system/other-gw, mesh, istio-system/httpbin-gw]" in cause["fix"]


def test_near_miss_bound_virtual_service_is_used(snap: Path) -> None:  # noqa: F811
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin", *HOST)
    assert (code, doc["verdict"], doc["causes"]) == (0, "allowed", [])


def test_gateway_selector_matching_no_pod_same_as_check(snap: Path) -> None:  # noqa: F811
    _rewrite(snap, "selector: {istio: ingressgateway}", "selector: {istio: ingress-custom}")
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin", *HOST)
    assert (code, doc["verdict"]) == (1, "broken")
    (cause,) = doc["causes"]
    assert cause["code"] == "istio-gateway-selector-no-match"
    assert [(o["kind"], o["name"]) for o in cause["objects"]] == [("Gateway", "httpbin-gw")]
    result = CliRunner().invoke(cli, ["check", "--from", str(snap), "-A", "-o", "json"])
    found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == cause["code"]]
    assert [(o["kind"], o["name"]) for f in found for o in f["objects"]] == [("Gateway", "httpbin-gw")]
