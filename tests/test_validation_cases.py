"""Objects the API server would reject, on a call that works (sidecar-s0-baseline: red -> blue allowed):
each is reported as invalid-object naming object, field and value, is left out, and the answer is
`unknown` (exit 3) because a hop's input is missing, never a crash or a silent green. One line a case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMO = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos" / "sidecar-s0-baseline"
CALL = ["explain", "red/netshoot", "blue/httpbin"]

SEC, NET, CIL = "security.istio.io/v1", "networking.istio.io/v1", "cilium.io/v2"
CASES = {  # name: (apiVersion, kind, spec, field the answer must name)
    "pa-mode-typo": (SEC, "PeerAuthentication", "{mtls: {mode: STRIKT}}", "spec.mtls.mode"),
    "pa-mtls-string": (SEC, "PeerAuthentication", '{mtls: "STRICT"}', "spec.mtls"),
    "ap-action-typo": (SEC, "AuthorizationPolicy", "{action: BOGUS, rules: [{}]}", "spec.action"),
    "ap-rules-string": (SEC, "AuthorizationPolicy", '{rules: "not-a-list"}', "spec.rules"),
    "dr-tls-typo": (NET, "DestinationRule", "{host: httpbin, trafficPolicy: {tls: {mode: ISTIO_MUTUAL_X}}}",
                    "spec.trafficPolicy.tls.mode"),
    "vs-weight-string": (NET, "VirtualService",
                         "{hosts: [httpbin], http: [{route: [{destination: {host: httpbin}, weight: 'x'}]}]}",
                         "spec.http[0].route[0].weight"),
    "cnp-operator-typo": (CIL, "CiliumNetworkPolicy",
                          "{endpointSelector: {matchExpressions: [{key: app, operator: Bogus}]}, ingress: [{}]}",
                          "spec.endpointSelector.matchExpressions[0].operator"),
    "knp-operator-typo": ("networking.k8s.io/v1", "NetworkPolicy",
                          "{podSelector: {matchExpressions: [{key: app, operator: Bogus}]}, policyTypes: [Ingress]}",
                          "spec.podSelector.matchExpressions[0].operator"),
}  # fmt: skip


def _run(tmp_path: Path, extra: str | None, *args: str) -> tuple[int, str, str]:
    snap = tmp_path / "snap"
    shutil.copytree(DEMO, snap)
    if extra is not None:
        (snap / "zz-bad.yaml").write_text(extra)
    result = CliRunner().invoke(cli, [*CALL, "--from", str(snap), *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_baseline_call_works(tmp_path: Path) -> None:
    code, out, _ = _run(tmp_path, None)
    assert code == 0, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_object_is_named_and_the_answer_is_unknown(tmp_path: Path, case: str) -> None:
    api_version, kind, spec, field = CASES[case]
    manifest = f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: bad, namespace: blue}}\nspec: {spec}\n"
    code, out, err = _run(tmp_path, manifest, "-o", "json")
    assert "Traceback" not in out + err and "internal error" not in out + err
    assert code == 3, (out, err)
    doc = json.loads(out)
    assert doc["verdict"] == "unknown"
    invalid = [c for c in doc["causes"] if c["code"] == "invalid-object"]
    assert [(o["kind"], o["namespace"], o["name"], o["rule"]) for c in invalid for o in c["objects"]] == [
        (kind, "blue", "bad", field)
    ]
    assert f"{kind} blue/bad" in invalid[0]["summary"] and field in invalid[0]["fix"]
    assert any(f"{kind} blue/bad is invalid ({field}" in gap for gap in doc["gaps"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_reports_each_invalid_object(tmp_path: Path, case: str) -> None:
    api_version, kind, spec, field = CASES[case]
    manifest = f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: bad, namespace: blue}}\nspec: {spec}\n"
    snap = tmp_path / "snap"
    shutil.copytree(DEMO, snap)
    (snap / "zz-bad.yaml").write_text(manifest)
    result = CliRunner().invoke(cli, ["check", "--from", str(snap), "-o", "json"])
    doc = json.loads(result.stdout)
    found = [f for f in doc["findings"] if f["code"] == "invalid-object"]
    assert [o["rule"] for f in found for o in f["objects"]] == [field]
    assert result.exit_code == 1


def test_an_object_that_cannot_be_read_is_a_gap_not_an_internal_error(tmp_path: Path) -> None:
    # an apiVersion no schema here covers (so not checked), shaped so that reading it fails
    manifest = "apiVersion: v9\nkind: Pod\nmetadata: {name: odd, namespace: blue}\nspec: not-an-object\n"
    code, out, err = _run(tmp_path, manifest, "-o", "json")
    assert "Traceback" not in out + err and "internal error" not in out + err
    assert code in (0, 1, 3)
    doc = json.loads(out)
    assert any("Pod blue/odd" in gap and "could not be read" in gap for gap in doc["gaps"]), doc["gaps"]
