"""`check` finds each listed mesh-wide problem in a small fixture, and nothing on a clean one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.checks import ALL
from kubectl_meshdoctor.cli.main import cli

FIX = Path(__file__).parent / "fixtures" / "whatif"


def config(**data: str) -> str:
    base = {
        "enable-policy": "default",
        "kube-proxy-replacement": "true",
        "bpf-lb-sock-hostns-only": "true",
        "cni-exclusive": "false",
        "routing-mode": "native",
    }
    base.update(data)
    lines = "\n".join(f'  {k}: "{v}"' for k, v in base.items())
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cilium-config, namespace: kube-system}}\ndata:\n{lines}\n"
    )


CLEAN = config()
SIDECAR = (FIX / "sidecar-server.yaml").read_text()
AMBIENT_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: server-5b6c7-fghij
  namespace: blue
  labels: {app: server}
  annotations: {ambient.istio.io/redirection: enabled}
spec: {containers: [{name: s, ports: [{containerPort: 8080}], readinessProbe: {httpGet: {port: 8080}}}]}
status: {phase: Running, podIP: 10.0.2.2}
---
apiVersion: v1
kind: Namespace
metadata: {name: blue, labels: {istio.io/dataplane-mode: ambient}}
"""
CNP_DEFAULT_DENY = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: only-red, namespace: blue}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: red}}]}]
"""
CASES = {
    "cilium-socketlb-bypass": (config(**{"bpf-lb-sock-hostns-only": "false"}) + "---\n" + SIDECAR),
    "cilium-cni-exclusive": (
        config(**{"cni-exclusive": "true"}) + "---\napiVersion: apps/v1\nkind: DaemonSet\n"
        "metadata: {name: istio-cni-node, namespace: istio-system}\nspec: {selector: {}}\n"
    ),
    "istiod-hostnetwork-overlay": (
        config(**{"routing-mode": "tunnel", "tunnel-protocol": "vxlan"})
        + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istiod, namespace: istio-system}\n"
        "spec: {selector: {matchLabels: {app: istiod}}, template: {spec: {containers: [{name: discovery}]}}}\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: red, labels: {istio-injection: enabled}}\n"
    ),
    "l7-split-brain": (
        CLEAN
        + "---\n"
        + SIDECAR
        + """---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7, namespace: blue}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - toPorts: [{ports: [{port: "8080", protocol: TCP}], rules: {http: [{method: GET, path: /ip}]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: paths, namespace: blue}
spec:
  selector: {matchLabels: {app: server}}
  rules: [{to: [{operation: {paths: ["/ip"]}}]}]
"""
    ),
    "ambient-probe-snat-blocked": CLEAN + "---\n" + AMBIENT_POD + "---\n" + CNP_DEFAULT_DENY,
    "ambient-pa-disable-ignored": (
        CLEAN + "---\n" + AMBIENT_POD + "---\napiVersion: security.istio.io/v1\n"
        "kind: PeerAuthentication\nmetadata: {name: default, namespace: blue}\n"
        "spec: {mtls: {mode: DISABLE}}\n"
    ),
    "istio-authz-needs-mtls": (
        CLEAN
        + """---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: by-principal, namespace: blue}
spec:
  selector: {matchLabels: {app: server}}
  rules: [{from: [{source: {namespaces: ["red"]}}]}]
"""
    ),
    "policy-selects-nothing": (
        CLEAN + "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: typo, namespace: blue}\nspec:\n"
        "  endpointSelector: {matchLabels: {app: serverr}}\n  ingress: [{fromEntities: [world]}]\n"
    ),
    "empty-rule-semantics": (
        CLEAN + "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: deny-all, namespace: blue}\nspec:\n"
        "  endpointSelector: {}\n  ingress: [{}]\n"
    ),
    "cilium-policy-audit": config(**{"policy-audit-mode": "true"}),
    "cilium-policy-invalid": (
        CLEAN + "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        # the schema admits it (both spec and specs are optional) but the agent rejects it; what the
        # schema rejects (e.g. endpointSelector with nodeSelector) is invalid-object (tests/test_validation*)
        "metadata: {name: broken, namespace: blue}\n"
    ),
}
SEVERITY_ERROR = {"ambient-probe-snat-blocked", "istio-authz-needs-mtls", "cilium-policy-invalid"}


def _check(tmp_path: Path, extra: str, *args: str) -> tuple[int, dict]:
    snap = tmp_path / "snap"
    snap.mkdir(exist_ok=True)
    (snap / "base.yaml").write_text((FIX / "base.yaml").read_text())
    (snap / "pods.yaml").write_text((FIX / "plain-pods.yaml").read_text())
    (snap / "zz.yaml").write_text(extra)
    result = CliRunner().invoke(cli, ["check", "--from", str(snap), "-o", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_clean_cluster_has_no_findings(tmp_path: Path) -> None:
    code, doc = _check(tmp_path, CLEAN)
    assert doc["findings"] == [] and code == 0


@pytest.mark.parametrize("expected", sorted(CASES))
def test_each_problem_is_found(tmp_path: Path, expected: str) -> None:
    code, doc = _check(tmp_path, CASES[expected])
    codes = [f["code"] for f in doc["findings"]]
    assert expected in codes, codes
    finding = next(f for f in doc["findings"] if f["code"] == expected)
    assert finding["summary"] and finding["fix"] and finding["objects"]
    assert set(finding) >= {"code", "severity", "summary", "objects", "fix"}
    assert code == (1 if any(f["severity"] == "error" for f in doc["findings"]) else 0)
    if expected in SEVERITY_ERROR:
        assert code == 1


def test_namespace_scope_hides_other_namespaces(tmp_path: Path) -> None:
    _, doc = _check(tmp_path, CASES["policy-selects-nothing"], "-n", "red")
    assert "policy-selects-nothing" not in [f["code"] for f in doc["findings"]]
    _, doc = _check(tmp_path, CASES["cilium-policy-audit"], "-n", "red")
    assert "cilium-policy-audit" in [f["code"] for f in doc["findings"]]  # cluster-wide findings stay


def test_demo_a2_and_s2_checks() -> None:
    result = CliRunner().invoke(cli, ["check", "-A", "--demo", "sidecar-s3-authn-disable", "-o", "json"])
    assert result.exit_code == 0
    assert [f for f in json.loads(result.stdout)["findings"] if f["severity"] != "info"] == []


def test_every_check_is_described_and_declares_inputs() -> None:
    names = [c.name for c in ALL]
    assert names == sorted(names) and len(set(names)) == len(names)
    for c in ALL:
        assert c.description and c.inputs


@pytest.mark.parametrize(
    ("demo", "code"),
    [("routing-subset-missing", "istio-subset-not-found"), ("routing-host-unknown", "istio-destination-host-unknown")],
)
def test_check_reports_static_routing_problems_mesh_wide(demo: str, code: str) -> None:
    result = CliRunner().invoke(cli, ["check", "-A", "--demo", demo, "-o", "json"])
    findings = json.loads(result.stdout)["findings"]
    assert code in [f["code"] for f in findings]
    assert result.exit_code == 1
    result = CliRunner().invoke(cli, ["check", "-A", "--demo", "sidecar-s0-baseline", "-o", "json"])
    assert [f for f in json.loads(result.stdout)["findings"] if f["severity"] != "info"] == []
