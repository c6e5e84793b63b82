"""What-if (issue 6.3) and fix-YAML round trips (6.4): every cause with a YAML fix is resolved
when that YAML is fed back through --what-if."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

FIX = Path(__file__).parent / "fixtures" / "whatif"

DNS_BLOCK = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-egress, namespace: red}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints:
    - matchLabels: {k8s:io.kubernetes.pod.namespace: blue, app: server}
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
"""
STRICT = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: blue}
spec: {mtls: {mode: STRICT}}
"""
AUTHZ = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: only-admin, namespace: blue}
spec:
  selector: {matchLabels: {app: server}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/admin/sa/admin"]}}]
"""
AMBIENT_NOT_READY = """\
apiVersion: v1
kind: Pod
metadata:
  name: server-5b6c7-fghij
  namespace: blue
  labels: {app: server, istio.io/dataplane-mode: ambient}
  annotations: {ambient.istio.io/redirection: enabled}
spec: {containers: [{name: s, ports: [{containerPort: 8080}], readinessProbe: {httpGet: {port: 8080, path: /}}}]}
status: {phase: Running, podIP: 10.0.2.2, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: only-red, namespace: blue}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: red}}]
"""

SCENARIOS = {
    "dns-egress-blocked": (["base.yaml", "plain-pods.yaml"], DNS_BLOCK, "blue/server", "/"),
    "istio-mtls-strict-plaintext": (
        ["base.yaml", "plain-pods.yaml", "sidecar-server.yaml"],
        STRICT,
        "blue/server",
        "/",
    ),
    "istio-authz-denied": (
        ["base.yaml", "plain-pods.yaml", "sidecar-server.yaml", "sidecar-client.yaml"],
        AUTHZ,
        "blue/server",
        "/",
    ),
    "ambient-probe-snat-blocked": (["base.yaml", "plain-pods.yaml"], AMBIENT_NOT_READY, "blue/server", "/"),
}
DEMOS = {
    "cilium-policy-denied": ("sidecar-s1-l4-policy", "green/netshoot", "/ip"),
    "cilium-l7-vs-istio-mtls": ("sidecar-s2-l7-policy", "red/netshoot", "/ip"),
    "cilium-l7-denied": ("sidecar-s3-authn-disable", "red/netshoot", "/deny"),
}


def _explain(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["explain", *args, "-o", "json"])
    return result.exit_code, json.loads(result.stdout)


def _snapshot(tmp_path: Path, parts: list[str], extra: str) -> Path:
    snap = tmp_path / "snap"
    snap.mkdir()
    for i, name in enumerate(parts):
        text = (FIX / name).read_text()
        (snap / f"{i}-{name}").write_text(text)
    (snap / "zz-extra.yaml").write_text(extra)
    return snap


def _round_trip(tmp_path: Path, base_args: list[str], code: str) -> None:
    _, before = _explain(base_args)
    assert code in [c["code"] for c in before["causes"]]
    cause = next(c for c in before["causes"] if c["code"] == code)
    assert cause.get("fixYaml"), "the cause must carry a ready-to-apply YAML fix"
    result = CliRunner().invoke(cli, ["explain", *base_args, "--fix-yaml"])
    assert "apiVersion:" in result.stdout
    fix_file = tmp_path / "fix.yaml"
    fix_file.write_text(result.stdout)
    _, after = _explain([*base_args, "--what-if", str(fix_file)])
    assert code not in [c["code"] for c in after["causes"]], after["causes"]
    assert after["whatIf"]["before"]["verdict"] == before["verdict"]
    assert all(item.startswith(("create", "replace")) for item in after["whatIf"]["applied"])
    if (
        before["hops"]
        and any(h["decision"] in ("deny", "break") for h in before["hops"])
        and code != ("ambient-probe-snat-blocked")
    ):
        assert after["verdict"] == "allowed", after


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_fix_yaml_round_trip_on_fixtures(tmp_path: Path, code: str) -> None:
    parts, extra, dst, path = SCENARIOS[code]
    snap = _snapshot(tmp_path, parts, extra)
    _round_trip(tmp_path, ["red/client", dst, "--path", path, "--from", str(snap)], code)


@pytest.mark.parametrize("code", sorted(DEMOS))
def test_fix_yaml_round_trip_on_demos(tmp_path: Path, code: str) -> None:
    demo, src, path = DEMOS[code]
    _round_trip(tmp_path, [src, "blue/httpbin", "--path", path, "--demo", demo], code)


def test_s2_plus_authn_yaml_turns_503_into_allowed(tmp_path: Path) -> None:
    authn = tmp_path / "authn.yaml"
    authn.write_text(
        "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        "metadata: {name: default, namespace: blue}\nspec: {mtls: {mode: DISABLE}}\n"
    )
    code, doc = _explain(
        ["red/netshoot", "blue/httpbin", "--path", "/ip", "--demo", "sidecar-s2-l7-policy", "--what-if", str(authn)]
    )
    assert code == 0
    assert doc["whatIf"]["before"] == {
        "verdict": "broken",
        "symptom": "http-503",
        "causes": ["cilium-l7-vs-istio-mtls"],
    }
    assert doc["whatIf"]["applied"] == ["create PeerAuthentication blue/default"]
    assert (doc["verdict"], doc["symptom"]) == ("allowed", "ok")


def test_a2_without_ambient_label_on_blue_changes_as_c13_says(tmp_path: Path) -> None:
    ns = tmp_path / "ns.yaml"
    ns.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: blue\n  labels: {kubernetes.io/metadata.name: blue}\n"
    )
    args = ["--demo", "ambient-a2-l7-policy", "--what-if", str(ns)]
    _, red = _explain(["red/netshoot", "blue/httpbin", "--path", "/ip", *args])
    assert red["whatIf"]["before"]["verdict"] == "denied"
    assert red["destination"]["mesh"] == "none"
    assert (red["verdict"], red["symptom"]) == ("allowed", "ok")
    _, deny = _explain(["red/netshoot", "blue/httpbin", "--path", "/deny", *args])
    assert (deny["verdict"], deny["symptom"]) == ("denied", "http-403")
    _, green = _explain(["green/netshoot", "blue/httpbin", "--path", "/ip", *args])
    assert (green["verdict"], green["symptom"]) == ("denied", "timeout")


def test_what_if_delete_the_policy() -> None:
    code, doc = _explain(
        ["green/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy", "--what-if-delete", "cnp/blue/default"]
    )
    assert code == 0 and doc["verdict"] == "allowed"
    assert doc["whatIf"]["applied"] == ["delete CiliumNetworkPolicy blue/default"]


@pytest.mark.parametrize("bad", ["cnp/blue/nope", "cnp-only", "a/b/c/d"])
def test_what_if_delete_errors_are_usage_errors(bad: str) -> None:
    result = CliRunner().invoke(
        cli, ["explain", "green/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy", "--what-if-delete", bad]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --what-if-delete")


def test_what_if_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "explain",
            "green/netshoot",
            "blue/httpbin",
            "--demo",
            "sidecar-s1-l4-policy",
            "--what-if",
            str(tmp_path / "nope.yaml"),
        ],
    )
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_text_what_if_says_what_changed(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "explain",
            "green/netshoot",
            "blue/httpbin",
            "--demo",
            "sidecar-s1-l4-policy",
            "--what-if-delete",
            "cnp/blue/default",
        ],
    )
    assert "before ✗ DENIED (timeout)  →  after ✓ ALLOWED (ok)" in result.stdout
    assert "resolved  cilium-policy-denied" in result.stdout


def _matrix(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["matrix", *args])
    return result.exit_code, result.stdout


def test_matrix_what_if_shows_before_and_after_per_changed_cell() -> None:
    """The --help example: a banner saying the change is in memory, then each moved cell before → after."""
    from kubectl_meshdoctor.cli.matrix import EXAMPLES

    (example,) = [line.split("kubectl meshdoctor matrix ", 1)[1] for line in EXAMPLES.splitlines() if "what-if" in line]
    args = example.split()
    code, out = _matrix(*args)
    assert code == 0 and "what-if (in memory, nothing applied to the cluster)" in out
    assert "applied: delete CiliumNetworkPolicy blue/default" in out
    assert "red/netshoot → blue/httpbin: 000 (denied) → 200 (allowed)" in out
    assert re.search(r"^red/netshoot\s+000→200\s", out, re.M)
    _, js = _matrix(*args, "-o", "json")
    changed = json.loads(js)["whatIf"]["changed"]
    assert {(c["source"], c["before"]["verdict"], c["after"]["verdict"]) for c in changed} == {
        (src, "denied", "allowed") for src in ("blue/netshoot", "green/netshoot", "red/httpbin", "red/netshoot")
    }
    _, md = _matrix(*args, "-o", "markdown")
    assert "- red/netshoot → blue/httpbin: 000 (denied) → 200 (allowed)" in md


def test_matrix_what_if_that_changes_nothing_says_so(tmp_path: Path) -> None:
    code, out = _matrix("-n", "red,blue", "--demo", "sidecar-s0-baseline", "--what-if-delete", "ns/green")
    assert code == 0 and "no cell changes" in out and "→" not in out.split("no cell changes")[1]
