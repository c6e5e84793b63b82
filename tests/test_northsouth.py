"""Issue 20: world → gateway as a call. Engine tables (hostnames, path prefixes, precedence ties), the
JSON/text answer naming the answering backend, soundness gaps, and bad input (one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.engines import gateway_api_attach as ga
from kubectl_meshdoctor.engines import gateway_api_match as gm
from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.gateway_api import ApiRoute, ApiRule, RuleMatch, ValueMatch

SCENARIO = Path(__file__).parent / "scenarios" / "gateway-api-northsouth"


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "a.b.example.com", True),
        ("*.example.com", "example.com", False),
        ("foo.com", "FOO.com:8080", True),
        ("foo.com", "foo.com.evil", False),
    ],
)
def test_listener_hostname_matching(pattern: str, host: str, expected: bool) -> None:
    assert ga.host_matches(pattern, host) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("*.wildcard.io", "foo.wildcard.io", True), ("*.io", "*.wildcard.io", True), ("a.com", "*.b.com", False)],
)
def test_hostname_intersection(a: str, b: str, expected: bool) -> None:
    assert ga.intersects(a, b) is expected and ga.intersects(b, a) is expected


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [("/foo", "/foo", True), ("/foo", "/foo/bar", True), ("/foo", "/foobar", False), ("/foo/", "/foo", True)],
)
def test_path_prefix_is_element_wise(prefix: str, path: str, expected: bool) -> None:
    assert gm.path_matches(ValueMatch("PathPrefix", "", prefix), path) is expected


def _route(name: str, path: ValueMatch, created: str = "") -> ga.Attachment:
    rule = ApiRule(0, None, (RuleMatch(path, (), (), None, "spec.rules[0].matches[0]"),), (), (), None, None, "r")
    route = ApiRoute(ObjectRef("HTTPRoute", "ns", name), (), (), (rule,), created)
    return ga.Attachment(route, None, True, "Accepted", ("",))


def test_equal_precedence_goes_to_the_oldest_route() -> None:
    older = _route("zz-older", ValueMatch("PathPrefix", "", "/a"), "2026-01-01T00:00:00Z")
    newer = _route("aa-newer", ValueMatch("PathPrefix", "", "/a"), "2026-02-01T00:00:00Z")
    found = gm.select([newer, older], gm.HttpRequest("GET", "/a/b", None))
    assert found.winner is not None and found.winner.route.ref.name == "zz-older" and not found.gaps


def test_equal_precedence_without_timestamps_is_a_gap() -> None:
    a, b = _route("a", ValueMatch("PathPrefix", "", "/a")), _route("b", ValueMatch("PathPrefix", "", "/a"))
    found = gm.select([b, a], gm.HttpRequest("GET", "/a", None))
    assert found.winner is not None and any("creationTimestamp" in g for g in found.gaps)


def test_regex_tie_is_a_gap_but_exact_beats_it() -> None:
    regex = _route("r", ValueMatch("RegularExpression", "", "/a.*"), "2026-01-01T00:00:00Z")
    exact = _route("e", ValueMatch("Exact", "", "/ab"), "2026-01-02T00:00:00Z")
    found = gm.select([regex, exact], gm.HttpRequest("GET", "/ab", None))
    assert found.winner is not None and found.winner.route.ref.name == "e" and not found.gaps
    other = _route("r2", ValueMatch("RegularExpression", "", "/a."), "2026-01-03T00:00:00Z")
    assert gm.select([regex, other], gm.HttpRequest("GET", "/ab", None)).gaps


def _explain(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["explain", "world", *args, "--from", str(SCENARIO), "-o", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_json_names_route_rule_and_weight_share() -> None:
    code, doc = _explain("edge/gateway/web", "--host", "shop.example.com", "--path", "/split")
    gw = doc["gateway"]
    assert code == 1 and gw["route"] == "HTTPRoute shop/shop" and gw["rule"] == "spec.rules[5]"
    assert [(b["name"], b["share"], b["problem"]) for b in gw["backends"]] == [
        ("cart", 0.75, None),
        ("cart-gone", 0.25, "BackendNotFound"),
    ]
    assert [b["name"] for b in gw["answering"]] == ["cart"]
    assert gw["implementation"] == "istio" and gw["listener"]["hostname"] == "*.example.com"


def test_unknown_hops_name_what_was_not_evaluated() -> None:
    code, doc = _explain("edge/gateway/web", "--host", "shop.example.com", "--path", "/ext")
    gateway = next(h for h in doc["hops"] if h["name"] == "gateway")
    assert code == 3 and gateway["decision"] == "unknown"
    assert doc["hops"][0]["name"] == "cilium-ingress"  # world reaches the gateway's pod first
    assert any("ExtensionRef is not evaluated" in g for g in doc["gaps"])
    code, doc = _explain("edge/gateway/cil", "--path", "/")
    assert code == 0 and doc["gateway"]["implementation"] == "cilium"
    assert doc["gateway"]["answering"][0]["name"] == "cart"


def test_a_policy_selecting_the_ingress_endpoint_decides_world_to_ingress(tmp_path: Path) -> None:
    """GB12: world → ingress is decided by policies selecting reserved:ingress (more in
    tests/test_cilium_gateway_point1.py): the external lockdown admits only the cluster → Envoy's 403."""
    lockdown = (
        "---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: external-lockdown}\n"
        "spec:\n  endpointSelector: {}\n  ingress: [{fromEntities: [cluster]}]\n"
    )
    (tmp_path / "objects.yaml").write_text((SCENARIO / "objects.yaml").read_text() + lockdown)
    args = ["explain", "world", "edge/gateway/cilgw", "--host", "app.cil.example", "--path", "/open"]
    result = CliRunner().invoke(cli, [*args, "--from", str(tmp_path), "-o", "json"])
    doc = json.loads(result.stdout)
    assert (result.exit_code, doc["verdict"], doc["symptom"]) == (1, "denied", "http-403")
    assert [c["code"] for c in doc["causes"]] == ["cilium-ingress-world-denied"]


def test_text_names_the_answering_backend() -> None:
    args = ["explain", "world", "edge/gateway/web", "--host", "shop.example.com", "--path", "/cart"]
    result = CliRunner().invoke(cli, [*args, "--from", str(SCENARIO)])
    assert result.exit_code == 0
    assert "route:   HTTPRoute shop/shop spec.rules[0].matches[0]" in result.output
    assert "answer:  Service shop/cart:80" in result.output


def test_gateway_by_its_service(tmp_path: Path) -> None:
    objects = SCENARIO / "objects.yaml"
    text = objects.read_text() + (
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: web-istio, namespace: edge, labels: "
        "{gateway.networking.k8s.io/gateway-name: web}}\nspec: {ports: [{port: 80}]}\n"
    )
    (tmp_path / "objects.yaml").write_text(text)
    args = ["explain", "world", "edge/svc/web-istio", "--host", "shop.example.com", "--path", "/cart"]
    result = CliRunner().invoke(cli, [*args, "--from", str(tmp_path), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gateway"]["name"] == "web"


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        (
            "edge/gateway/wbe",
            "unknown gateway 'edge/gateway/wbe': no Gateway 'wbe' in edge; did you mean edge/gateway/web",
        ),
        ("shop/svc/cart", "which belongs to no Gateway in this view"),
    ],
)
def test_bad_destination_is_one_line_exit_2(destination: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["explain", "world", destination, "--from", str(SCENARIO)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_reports_route_status_and_where_the_status_disagrees() -> None:
    result = CliRunner().invoke(cli, ["check", "--from", str(SCENARIO), "-o", "json"])
    found = {(f["code"], f["objects"][0]["name"]) for f in json.loads(result.stdout)["findings"]}
    assert ("gateway-route-not-accepted", "intruder") in found
    assert ("gateway-status-disagrees", "intruder") in found
    assert ("gateway-refgrant-missing", "shop") in found  # rules[3] → pay/billing, no grant
    assert ("gateway-backend-unresolved", "shop") in found  # cart-gone
    assert ("gateway-route-not-accepted", "shop") not in found  # near miss: namespace shop is admitted


@pytest.mark.parametrize(
    ("match", "path", "expected"),
    [
        (("Exact", "pkg.Svc", "Get"), "/pkg.Svc/Get", True),
        (("Exact", "pkg.Svc", ""), "/pkg.Svc/Put", True),
        (("Exact", "", "Get"), "/other.Svc/Get", True),
        (("Exact", "pkg.Svc", "Get"), "/pkg.Svc/GetAll", False),
        (("RegularExpression", "pkg\\..*", "G.t"), "/pkg.Svc/Got", True),
        (("Exact", "pkg.Svc", "Get"), "/pkg.Svc/Get/extra", False),
    ],
)
def test_grpc_method_matches_the_path(match: tuple[str, str, str], path: str, expected: bool) -> None:
    assert gm.grpc_matches(match, path) is expected


def test_via_needs_an_outside_source() -> None:
    args = ["explain", "shop/cart", "shop/svc/cart", "--via", "edge/gateway/web", "--from", str(SCENARIO)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "--via asks from outside the cluster" in result.output
    assert "Traceback" not in result.output


def test_via_names_where_the_rule_sends_instead() -> None:
    args = ["shop/cart-v2", "--via", "edge/gateway/web", "--host", "shop.example.com", "--path", "/cart"]
    code, doc = _explain(*args)
    [cause] = [c for c in doc["causes"] if c["code"] == "gateway-routes-elsewhere"]
    assert code == 1 and "sends it to shop/cart, not to shop/cart-v2" in cause["summary"]


def _istio(*args: str) -> tuple[int, dict[str, Any]]:
    base = ["explain", "world", "istio-system/gateway/httpbin-gw", "--demo", "gateway-host-not-bound", "-o", "json"]
    result = CliRunner().invoke(cli, [*base, *args])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {"out": result.output}


def test_istio_gateway_from_outside_walks_its_virtualservice_then_the_backend() -> None:
    code, doc = _istio("--host", "httpbin.example.com")
    assert code == 0 and doc["gateway"]["route"] == "VirtualService blue/httpbin-ingress"
    assert [(b["namespace"], b["name"]) for b in doc["gateway"]["answering"]] == [("blue", "httpbin")]
    assert [h["name"] for h in doc["hops"]][:2] == ["gateway", "resolve"]


def test_istio_gateway_host_not_bound_is_404_and_host_is_required() -> None:
    code, doc = _istio("--host", "www.example.com")
    assert code == 1 and doc["symptom"] == "http-404"
    assert [c["code"] for c in doc["causes"]] == ["istio-gateway-host-not-bound"]
    code, doc = _istio()
    assert code == 2 and "give --host" in doc["out"]
    code, doc = _istio("--host", "httpbin.example.com", "--port", "8443")
    assert code == 1 and doc["symptom"] == "refused" and doc["causes"][0]["code"] == "gateway-listener-no-match"


def test_a_backend_tls_policy_beside_the_backend_is_a_gap(tmp_path: Path) -> None:
    policy = (
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\n"
        "metadata: {name: cart-tls, namespace: shop}\n"
        "spec:\n  targetRefs: [{group: '', kind: Service, name: cart}]\n"
        "  validation: {hostname: cart.shop, wellKnownCACertificates: System}\n"
    )
    (tmp_path / "objects.yaml").write_text((SCENARIO / "objects.yaml").read_text() + policy)
    args = ["explain", "world", "edge/gateway/web", "--host", "shop.example.com", "--path", "/cart"]
    result = CliRunner().invoke(cli, [*args, "--from", str(tmp_path), "-o", "json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 3 and any("BackendTLSPolicy objects in shop" in g for g in doc["gaps"])
