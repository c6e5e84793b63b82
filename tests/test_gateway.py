"""Ingress gateways as SOURCE with --host: Gateway -> VirtualService / HTTPRoute -> destination."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMO = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos" / "sidecar-s0-baseline"
GW = Path(__file__).parent / "fixtures" / "gateway" / "ingress.yaml"
ISTIO_GW = "istio-system/istio-ingressgateway"
KUBE_GW = "gw/web-istio-6d5b8-abcde"


@pytest.fixture()
def snap(tmp_path: Path) -> Path:
    root = tmp_path / "snap"
    shutil.copytree(DEMO, root)
    shutil.copy(GW, root / "zz-gateway.yaml")
    return root


def _explain(snap: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["explain", *args, "--from", str(snap), "-o", "json"])
    return result.exit_code, json.loads(result.stdout)


def _hop(doc: dict) -> dict:
    return next(h for h in doc["hops"] if h["name"] == "client-route")


def test_istio_gateway_routes_the_host_to_the_service(snap: Path) -> None:
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin", "--host", "httpbin.example.com")
    assert (code, doc["verdict"], doc["symptom"]) == (0, "allowed", "ok")
    refs = {f"{r['kind']} {r['namespace']}/{r['name']} {r.get('rule', '')}" for r in _hop(doc)["by"]}
    assert "Gateway istio-system/httpbin-gw servers[0]" in refs
    assert any(r.startswith("VirtualService blue/httpbin-ingress http[0]") for r in refs)


def test_host_not_bound_on_the_gateway_is_404(snap: Path) -> None:
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin", "--host", "other.example.com")
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-404")
    assert [c["code"] for c in doc["causes"]] == ["istio-gateway-host-not-bound"]


def test_gateway_without_a_bound_virtual_service_is_404(snap: Path, tmp_path: Path) -> None:
    code, doc = _explain(
        snap, ISTIO_GW, "blue/httpbin", "--host", "httpbin.example.com", "--what-if-delete", "vs/blue/httpbin-ingress"
    )
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-404")
    assert "istio-route-no-match" in [c["code"] for c in doc["causes"]]
    assert doc["whatIf"]["before"]["verdict"] == "allowed"


def test_gateway_api_route_in_another_namespace_not_allowed(snap: Path) -> None:
    code, doc = _explain(snap, KUBE_GW, "blue/httpbin", "--host", "httpbin.example.com")
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-404")
    cause = next(c for c in doc["causes"] if c["code"] == "istio-gateway-route-not-allowed")
    assert {o["kind"] for o in cause["objects"]} == {"HTTPRoute", "Gateway"}


def test_gateway_api_near_miss_allowed_from_all(snap: Path, tmp_path: Path) -> None:
    text = GW.read_text().replace(
        "allowedRoutes: {namespaces: {from: Same}}", "allowedRoutes: {namespaces: {from: All}}"
    )
    (snap / "zz-gateway.yaml").write_text(text)
    code, doc = _explain(snap, KUBE_GW, "blue/httpbin", "--host", "httpbin.example.com")
    assert (code, doc["verdict"]) == (0, "allowed")
    assert any(r["kind"] == "HTTPRoute" for r in _hop(doc)["by"])


def test_without_host_a_gateway_is_an_ordinary_sidecar_client(snap: Path) -> None:
    code, doc = _explain(snap, ISTIO_GW, "blue/httpbin")
    assert (code, doc["verdict"]) == (0, "allowed")
    assert "Gateway" not in {r["kind"] for r in _hop(doc)["by"]}


def test_bad_header_flag_is_a_usage_error(snap: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", ISTIO_GW, "blue/httpbin", "-H", "nocolon", "--from", str(snap)])
    assert result.exit_code == 2 and "NAME:VALUE" in result.stderr
