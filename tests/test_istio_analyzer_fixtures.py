"""Istio's own analyzer fixtures (../shared/data/istio-analyzers/, `istioctl analyze` test grid):
every expected message that corresponds to a call that would fail is explained by `explain` with
the corresponding cause; the others are listed with the reason they do not describe a failing call.

The fixtures carry no client, so a test adds one pod to call from (a sidecar client in `default`,
or, for Gateway API, the gateway's pod), and `istioctl analyze --use-kube=false`'s default ingress
gateway Pod + Service (istioctl-file-mode-defaults.yaml) as Istio's own tests do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "istio-analyzers"
if not (DATA / "expected.json").is_file():
    pytest.skip("../shared/data/istio-analyzers not beside the repo", allow_module_level=True)
CASES = {c["name"]: c for c in json.loads((DATA / "expected.json").read_text())["cases"]}
GATEWAY = "istio-system/istio-ingressgateway-dummypod"
CLIENT = """apiVersion: v1
kind: Pod
metadata: {name: meshdoctor-client, namespace: default, labels: {app: meshdoctor-client}}
spec: {containers: [{name: app}, {name: istio-proxy}]}
status: {phase: Running, podIP: 10.99.0.1}
"""
KUBE_GATEWAY_POD = """apiVersion: v1
kind: Pod
metadata: {name: my-gateway-istio-0, namespace: default, labels: {gateway.networking.k8s.io/gateway-name: my-gateway}}
spec: {containers: [{name: istio-proxy}]}
status: {phase: Running, podIP: 10.99.0.2}
"""

# Expected messages that do not describe a failing call, and why (case name -> reason; a case listed
# here is not applicable as a whole).
NOT_A_FAILING_CALL: dict[str, str] = {
    "sidecarDefaultSelector": "Sidecar hygiene (several selector-less Sidecars, Sidecars in ambient namespaces): "
    "which Sidecar wins is undefined or ignored, no call is refused because of it",
    "sidecarSelector": "a Sidecar whose selector matches no pod, or two selecting the same pod: configuration "
    "hygiene; it changes no call's outcome that the analyzer states",
    "virtualServiceDestinationHosts": "every VirtualService named there has no `hosts` (Istio's validation rejects "
    "it, so it never routes a request), routes a mirror only (mirroring never fails the primary request), or is "
    "hidden by exportTo [bogus] while another VirtualService serves the host; the 503s they would cause are "
    "istio-destination-host-unknown / istio-route-port-unknown / istio-host-not-exported, tested on "
    "routed fixtures in test_route_endpoints.py and test_visibility.py",
    "virtualServiceDestinationRules": "both VirtualServices have no `hosts` (rejected by Istio's validation) and "
    "one only mirrors to the bogus subset; a routed bogus subset is istio-subset-not-found (test_routing.py)",
    "virtualServiceInternalGatewayRef": "a VirtualService bound to the internal `istio-system/istio-internal-gateway`"
    " name: a warning about intent, no call through it fails",
    "authorizationpolicies": "policies that select no workload or name namespaces that do not exist: they never "
    "apply to a call, so no call fails because of them (check's policy-selects-nothing covers the first)",
    "Route Rule no effect on Ingress": "the mesh-only VirtualService ratings-01 does not apply to traffic from the "
    "gateway, so its subset is skipped, but the gateway's own VirtualService still routes to ratings: the call "
    "does not fail because of it",
    "DestinationRuleWithFakeHost": "a DestinationRule for a host that does not exist applies to no call",
    "DestinationRuleSubsetsNotSelectPods": "no route sends traffic to the subset; a route that did would get "
    "istio-subset-no-endpoints (test_route_endpoints.py)",
    "DestinationRuleEmptyTopologyLabels": "no route sends traffic to the subsets; topology labels also match node "
    "locality, which a route-level answer would need",
    "mtlsAnalyzerGlobalDestinationRuleNoMeshPolicy": "2020 fixture in the removed authentication.istio.io/v1alpha1 "
    "API (MeshPolicy/Policy) or pre-auto-mTLS defaults; today's PeerAuthentication semantics give no failure",
    "mtlsAnalyzerNoDestinationRule": "removed authentication.istio.io/v1alpha1 Policy API (Istio < 1.6)",
    "mtlsAnalyzerNoPolicy": "assumes pre-auto-mTLS defaults (a DR with ISTIO_MUTUAL against a server without a "
    "policy that requires mTLS is fine today: the server's sidecar accepts mTLS in PERMISSIVE)",
    "mtlsAnalyzerWithExports": "removed authentication.istio.io/v1alpha1 Policy API (Istio < 1.6)",
    "mtlsAnalyzerWithMeshPolicy": "removed authentication.istio.io/v1alpha1 MeshPolicy API (Istio < 1.6)",
    "mtlsAnalyzerWithPort": "removed authentication.istio.io/v1alpha1 Policy API (Istio < 1.6)",
}


def _snapshot(tmp_path: Path, case: dict[str, Any], *extra: str) -> Path:
    root = tmp_path / "snap"
    root.mkdir()
    for i, name in enumerate(case["inputs"]):
        (root / f"{i:02d}-{Path(name).name}").write_text((DATA / name).read_text())
    if case["group"] == "current":
        (root / "zz-defaults.yaml").write_text((DATA / "istioctl-file-mode-defaults.yaml").read_text())
    for i, text in enumerate(extra):
        (root / f"zz-extra-{i}.yaml").write_text(text)
    return root


def _explain(root: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["explain", *args, "--from", str(root), "--no-flows", "-o", "json"])
    assert result.stdout.startswith("{"), (result.exit_code, result.output)
    return json.loads(result.stdout)


def _causes(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {c["code"]: [f"{o['kind']} {o['name']}" for o in c["objects"]] for c in doc["causes"]}


def _docs(case: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    out = []
    for name in case["inputs"]:
        out += [d for d in yaml.safe_load_all((DATA / name).read_text()) if d and d.get("kind") == kind]
    return out


# --- cases whose messages are failing calls -------------------------------------------------------


def test_gateway_selector_matching_no_pod(tmp_path: Path) -> None:
    """gatewayNoWorkload: ReferencedResourceNotFound on a Gateway whose selector matches no pod."""
    root = _snapshot(tmp_path, CASES["gatewayNoWorkload"])
    doc = _explain(root, GATEWAY, "example.com", "--host", "example.com")
    assert doc["verdict"] == "broken"
    assert _causes(doc) == {"istio-gateway-selector-no-match": ["Gateway httpbin-gateway"]}


GATEWAY_PORT_CASES = [
    ("gatewayBadPort", True),
    ("gatewayCustomIngressGatewayBadPort", True),
    ("gatewayCustomIngressGatewayBadPortWithoutTarget", True),
    ("gatewayServiceMatchPod", True),
    ("gatewayCorrectPort", False),  # near misses: no message, the call must not be a port mismatch
    ("gatewayCustomIngressGateway", False),
    ("gatewayCustomIngressGatewayTranslation", False),
]


@pytest.mark.parametrize(("name", "fails"), GATEWAY_PORT_CASES)
def test_gateway_port_not_on_the_gateway_service(tmp_path: Path, name: str, fails: bool) -> None:
    """GatewayPortNotDefinedOnService: a client calling the gateway's Service on a Gateway server port the
    Service does not expose (as port or targetPort) cannot reach that listener: port-mismatch."""
    case = CASES[name]
    root = _snapshot(tmp_path, case, CLIENT)
    expected = {e["object"].split()[-1] for e in case["expected"]}
    services = _docs(case, "Service") + list(
        yaml.safe_load_all((DATA / "istioctl-file-mode-defaults.yaml").read_text())
    )
    pods = [d for d in services if d and d.get("kind") == "Pod"] + _docs(case, "Pod")
    services = [d for d in services if d and d.get("kind") == "Service"]
    for gw in _docs(case, "Gateway"):
        mismatches = []
        sel = gw["spec"]["selector"]
        gw_pods = [p for p in pods if all(p["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]
        for svc in services:
            svc_sel = svc["spec"].get("selector") or {}
            if not any(all(p["metadata"].get("labels", {}).get(k) == v for k, v in svc_sel.items()) for p in gw_pods):
                continue
            ns = svc["metadata"].get("namespace", "default")
            for server in gw["spec"]["servers"]:
                port = str(server["port"]["number"])
                # a client reaches the listener through the Service port that targets it, if any
                port = next(
                    (str(p["port"]) for p in svc["spec"].get("ports") or [] if str(p.get("targetPort")) == port),
                    port,
                )
                doc = _explain(root, "default/meshdoctor-client", f"{ns}/svc/{svc['metadata']['name']}", "--port", port)
                mismatches += ["port-mismatch" in _causes(doc)]
        # the analyzer flags a Gateway when one of its server ports is on no Service of its pods
        assert any(mismatches) is (gw["metadata"]["name"] in expected and fails), (gw["metadata"]["name"], mismatches)


# VirtualServiceHostNotFoundInGateway: (host a request carries through the ingress gateway, fails?).
# A flagged VirtualService whose host another bound Gateway or another VirtualService still serves is
# not a failing call (the analyzer judges each VirtualService/Gateway pair, a request takes any).
NOT_FOUND = [
    ("wrong-01.com", True),  # testing-service-02-test-01
    ("web.wrong.com", True),  # testing-service-02-test-02
    ("user.testing-02-04.com", True),  # testing-service-03-test-04
    ("users.testing-02-04.com", True),  # testing-service-03-test-04
    ("user.api.testing-03.com", False),  # 02-test-03: flagged for gateway-02-test-03, gateway-01-test-03 serves it
    ("testing-01.com", False),  # near misses, not flagged
    ("web.testing-02.com", False),
    ("profile.homepage.testing-03.com", False),
    ("web.testing-02-04.com", False),
    ("profile.user.testing-01-04.com", False),
]
HOST_CASES = {
    "virtualServiceGateways": [("example.com", True)],  # its Gateways have no servers: no host is bound
    "host defined in virtualservice not found in the gateway": NOT_FOUND,
    "host defined in virtualservice not found in the gateway(beta version)": NOT_FOUND,
    # default/testing-service-01-test-01 is flagged (server host ./testing-01.com admits only istio-system),
    # but istio-system's VirtualServices serve testing-01.com through it: the request works
    "host defined in virtualservice not found in the gateway with ns": [("testing-01.com", False)],
    "host defined in virtualservice not found in the gateway with ns(beta version)": [("testing-01.com", False)],
}


@pytest.mark.parametrize("name", sorted(HOST_CASES))
def test_virtual_service_host_not_in_gateway(tmp_path: Path, name: str) -> None:
    """A request for a host no server of the ingress gateway accepts: istio-gateway-host-not-bound (404)."""
    root = _snapshot(tmp_path, CASES[name])
    for host, fails in HOST_CASES[name]:
        causes = _causes(_explain(root, GATEWAY, host, "--host", host))
        assert ("istio-gateway-host-not-bound" in causes) is fails, (host, causes)


def test_namespace_prefixed_server_host_alone_is_not_bound(tmp_path: Path) -> None:
    """The ns-prefix fixture with only Gateway testing-gateway (./testing-01.com) and the default
    VirtualService: the server admits VirtualServices from istio-system only, so the request is 404."""
    root = _snapshot(tmp_path, CASES["host defined in virtualservice not found in the gateway with ns"])
    deletes = [
        f"VirtualService/{ns}/testing-service-01-test-0{i}" for ns in ("istio-system", "default") for i in (2, 3, 4)
    ]
    deletes += ["VirtualService/istio-system/testing-service-01-test-01"]
    deletes += [f"Gateway/istio-system/testing-gateway-{i}" for i in (2, 3, 4)]
    args = [a for d in deletes for a in ("--what-if-delete", d)]
    doc = _explain(root, GATEWAY, "testing-01.com", "--host", "testing-01.com", *args)
    causes = _causes(doc)
    assert causes.get("istio-gateway-host-not-bound") == [
        "VirtualService testing-service-01-test-01",
        "Gateway testing-gateway",
    ], causes
    assert "admit VirtualServices from other namespaces than default" in doc["causes"][0]["summary"]


def test_kubernetes_gateway_listener_hostname(tmp_path: Path) -> None:
    """virtualServiceKubernetesGateways: my-vs-host-mismatch's host has no listener on Gateway my-gateway."""
    root = _snapshot(tmp_path, CASES["virtualServiceKubernetesGateways"], KUBE_GATEWAY_POD)
    src = "default/pod/my-gateway-istio-0"
    doc = _explain(root, src, "wrong.example.com", "--host", "wrong.example.com")
    assert "istio-gateway-host-not-bound" in _causes(doc)
    near = _explain(root, src, "example.com", "--host", "example.com")
    assert "istio-gateway-host-not-bound" not in _causes(near)


def test_destination_rule_mtls_to_workload_without_sidecar(tmp_path: Path) -> None:
    """mtlsAnalyzerNoSidecar (2020): DestinationRule istio-system/default sends ISTIO_MUTUAL to a workload
    without a sidecar: the client's sidecar answers 503, istio-mtls-conflict. The two Services with a
    DISABLE DestinationRule of their own are near misses."""
    root = _snapshot(tmp_path, CASES["mtlsAnalyzerNoSidecar"], CLIENT)
    doc = _explain(root, "default/meshdoctor-client", "no-sidecar/svc/no-sidecar-or-dr-service")
    assert _causes(doc).get("istio-mtls-conflict") == ["DestinationRule default"]
    near = _explain(root, "default/meshdoctor-client", "no-sidecar/svc/missing-sidecar-service")
    assert "istio-mtls-conflict" not in _causes(near)


EXPLAINED = {
    "gatewayNoWorkload",
    *(name for name, fails in GATEWAY_PORT_CASES if fails),
    *HOST_CASES,
    "virtualServiceKubernetesGateways",
    "mtlsAnalyzerNoSidecar",
}


def test_every_expected_message_is_explained_or_excused() -> None:
    """The list: each fixture case with expected messages is explained above or excused with a reason;
    cases without messages are near misses (used above where a call can be made)."""
    with_messages = {name for name, case in CASES.items() if case["expected"]}
    assert with_messages == EXPLAINED | set(NOT_A_FAILING_CALL), with_messages ^ (EXPLAINED | set(NOT_A_FAILING_CALL))
    assert not EXPLAINED & set(NOT_A_FAILING_CALL)
    assert all(len(reason) > 40 for reason in NOT_A_FAILING_CALL.values())
