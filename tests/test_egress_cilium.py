"""Issue 20 §5, Cilium side of egress to outside hosts: toFQDNs needs the DNS proxy to see the
lookups, and a CiliumEgressGatewayPolicy decides where (and as which source IP) a pod leaves the
cluster. The verdict tables are tests/scenarios/egress-cilium-*; these tests check what the answer
says beyond the verdict: the source IP, the rule that makes lookups visible, and that the fixes work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SCENARIOS = Path(__file__).parent / "scenarios"
FQDN = SCENARIOS / "egress-cilium-fqdn"
EGW = SCENARIOS / "egress-cilium-egress-gateway"


def _explain(folder: Path, src: str, dst: str, *extra: str) -> tuple[int, dict[str, Any]]:
    args = ["explain", src, dst, "--port", "443", "--from", str(folder), "-o", "json", *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def _hop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in doc["hops"] if h["name"] == name)


def test_selected_pod_is_told_the_egress_ip_the_server_sees() -> None:
    code, doc = _explain(EGW, "blue/app", "203.0.113.5")
    assert code == 0
    hop = _hop(doc, "cilium-egress")
    assert "source IP 192.0.2.10" in hop["detail"] and "node-gw" in hop["detail"]
    assert "CiliumEgressGatewayPolicy via-gw spec.egressGateway" in [
        f"{r['kind']} {r['name']} {r.get('rule') or ''}".strip() for r in hop["by"]
    ]


def test_excluded_destination_leaves_from_the_pods_node() -> None:
    code, doc = _explain(EGW, "blue/app", "203.0.113.200")
    assert code == 0
    detail = _hop(doc, "cilium-egress")["detail"]
    assert "192.0.2.10" not in detail and "node node-a" in detail


def test_name_partly_covered_says_both_source_ips() -> None:
    _, doc = _explain(EGW, "blue/app", "api.example.com")
    detail = _hop(doc, "cilium-egress")["detail"]
    assert "if api.example.com resolves inside 203.0.113.0/24" in detail
    assert "192.0.2.10" in detail and "otherwise the IP of its node node-a" in detail


def test_unusable_gateway_fix_labels_a_node_and_the_labelled_node_resolves_it(tmp_path: Path) -> None:
    code, doc = _explain(EGW, "blue/batch", "198.51.100.7")
    assert code == 1
    (cause,) = [c for c in doc["causes"] if c["code"] == "cilium-egress-gateway-unusable"]
    assert "kubectl label node NODE egress-gateway=batch" in cause["fix"]
    node = tmp_path / "node.yaml"
    node.write_text(
        "apiVersion: v1\nkind: Node\nmetadata: {name: node-b, labels: {egress-gateway: batch}}\n"
        "status: {addresses: [{type: InternalIP, address: 10.0.0.7}]}\n"
    )
    code, doc = _explain(EGW, "blue/batch", "198.51.100.7", "--what-if", str(node))
    assert code == 0, doc["hops"]
    assert "gateway node node-b" in _hop(doc, "cilium-egress")["detail"]


def test_fqdn_allow_names_the_dns_rule_that_makes_lookups_visible() -> None:
    code, doc = _explain(FQDN, "blue/visible", "api.example.com")
    assert code == 0
    hop = _hop(doc, "cilium-egress")
    assert "Cilium's DNS proxy" in hop["detail"]
    rules = [r.get("rule") for r in hop["by"] if r["name"] == "visible"]
    assert "spec.egress[0].toPorts[0].rules.dns" in rules


def test_fqdn_without_dns_visibility_fix_adds_a_dns_rule_and_resolves_it(tmp_path: Path) -> None:
    code, doc = _explain(FQDN, "blue/blind", "api.example.com")
    assert code == 1
    (cause,) = doc["causes"]
    assert cause["code"] == "cilium-fqdn-no-dns-visibility"
    assert "kubectl -n blue edit cnp blind" in cause["fix"] and "matchPattern" in cause["fix"]
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: blind, namespace: blue}\n"
        "spec:\n  endpointSelector: {matchLabels: {app: blind}}\n  egress:\n"
        "  - toEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]\n"
        '    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]\n'
        "  - toFQDNs: [{matchName: api.example.com}]\n"
        '    toPorts: [{ports: [{port: "443", protocol: TCP}]}]\n'
    )
    code, doc = _explain(FQDN, "blue/blind", "api.example.com", "--what-if", str(fixed))
    assert code == 0, doc["hops"]


def test_l7_proxy_disabled_means_no_dns_visibility(tmp_path: Path) -> None:
    config = tmp_path / "cilium-config.yaml"
    config.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\n"
        'data: {enable-l7-proxy: "false"}\n'
    )
    code, doc = _explain(FQDN, "blue/visible", "api.example.com", "--what-if", str(config))
    assert code == 1
    assert [c["code"] for c in doc["causes"]] == ["cilium-fqdn-no-dns-visibility"]
    assert "enable-l7-proxy" in doc["causes"][0]["fix"]


def test_egress_gateway_feature_read_under_both_config_names(tmp_path: Path) -> None:
    """Older Cilium calls the switch enable-ipv4-egress-gateway; without either, no policy applies."""
    for data, dropped in (('{enable-ipv4-egress-gateway: "true"}', True), ('{enable-bpf-masquerade: "true"}', False)):
        config = tmp_path / "cilium-config.yaml"
        config.write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\n"
            f"data: {data}\n"
        )
        code, doc = _explain(EGW, "blue/batch", "198.51.100.7", "--what-if", str(config))
        assert code == (1 if dropped else 0), data
        if not dropped:
            assert "does not enable the egress gateway" in _hop(doc, "cilium-egress")["detail"]


def test_an_invalid_egress_gateway_policy_makes_the_exit_unknown(tmp_path: Path) -> None:
    """The API server would reject it, so it is left out; what it would have steered is not known."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumEgressGatewayPolicy\nmetadata: {name: typo}\n"
        "spec: {selectors: [{podSelector: {matchLabels: {app: app}}}], destinationCIDRs: [203.0.113.0/33]}\n"
    )
    code, doc = _explain(EGW, "blue/app", "203.0.113.5", "--what-if", str(bad))
    assert code == 3 and doc["verdict"] == "unknown"
    assert any(c["code"] == "invalid-object" for c in doc["causes"])
    assert "CiliumEgressGatewayPolicy typo" in _hop(doc, "cilium-egress")["detail"]
