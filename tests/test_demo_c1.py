"""Every cell of semantics.md C1.2 (sidecar) and C1.3 (ambient) on the bundled demos.

Each row: demo, client ns, server ns, path, then the expected verdict, symptom, the
cause code of the breaking hop, and the policy it names. These run the real CLI.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

OK = ("allowed", "ok", None, None)
L4_DENY = (
    "denied",
    "timeout",
    "cilium-policy-denied",
    "CiliumNetworkPolicy blue/default specs[0].ingress[0]",
)
L4_DENY_ANY = ("denied", "timeout", "cilium-policy-denied", "CiliumNetworkPolicy blue/default")
L7_MTLS = (
    "broken",
    "http-503",
    "cilium-l7-vs-istio-mtls",
    "CiliumNetworkPolicy blue/default specs[0].ingress[0].toPorts[0].rules.http",
)
L7_HBONE = (
    "broken",
    "timeout",
    "cilium-l7-vs-istio-mtls",
    "CiliumNetworkPolicy blue/default specs[0].ingress[0].toPorts[0].rules.http",
)
L7_403 = (
    "denied",
    "http-403",
    "cilium-l7-denied",
    "CiliumNetworkPolicy blue/default specs[0].ingress[0].toPorts[0].rules.http",
)

PAIRS = [
    ("red", "red"),
    ("blue", "red"),
    ("green", "red"),
    ("red", "blue"),
    ("blue", "blue"),
    ("green", "blue"),
]

# step -> the six cells of the /ip row, in PAIRS order (C1.2, C1.3 and the C1.3 variant table)
TABLE = {
    "sidecar-s0-baseline": [OK, OK, OK, OK, OK, OK],
    "sidecar-s1-l4-policy": [OK, OK, OK, OK, OK, L4_DENY_ANY],
    "sidecar-s2-l7-policy": [OK, OK, OK, L7_MTLS, L7_MTLS, L4_DENY_ANY],
    "sidecar-s3-authn-disable": [OK, OK, OK, OK, OK, L4_DENY_ANY],
    "ambient-a0-baseline": [OK, OK, OK, OK, OK, OK],
    "ambient-a1-l4-policy": [OK, OK, OK, OK, OK, L4_DENY_ANY],
    "ambient-a2-l7-policy": [OK, OK, OK, L4_DENY_ANY, L4_DENY_ANY, L4_DENY_ANY],
    "ambient-a3-leave-ambient": [OK, OK, OK, OK, OK, L4_DENY_ANY],
    "ambient-a1-l4-port80": [OK, OK, OK, L4_DENY_ANY, L4_DENY_ANY, L4_DENY_ANY],
    "ambient-a2-l7-port15008": [OK, OK, OK, L7_HBONE, L7_HBONE, L4_DENY_ANY],
}

DENY_ROW = {  # the `/deny` rows (C1.2 S3, C1.3 A3 and its variant)
    "sidecar-s3-authn-disable": {"red": L7_403, "blue": L7_403, "green": L4_DENY_ANY},
    "ambient-a3-leave-ambient": {"red": L7_403, "blue": L7_403, "green": L4_DENY_ANY},
}


def _explain(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["explain", *args, "-o", "json"])
    assert result.output.strip().startswith("{"), result.output
    return result.exit_code, json.loads(result.output)


def _check(doc: dict, code: int, expected: tuple) -> None:
    verdict, symptom, cause, by = expected
    assert (doc["verdict"], doc["symptom"]) == (verdict, symptom)
    assert code == (0 if verdict == "allowed" else 1)
    breaking = [h for h in doc["hops"] if h["decision"] in ("deny", "break")]
    if cause is None:
        assert not breaking
        assert not [c for c in doc["causes"] if c["severity"] == "error"]
        return
    assert cause in [c["code"] for c in doc["causes"]]
    refs = [f"{r['kind']} {r['namespace']}/{r['name']} {r.get('rule', '')}".strip() for r in breaking[0]["by"]]
    assert any(r.startswith(by) for r in refs), refs
    assert doc["evidence"]["agrees"] is True


CELLS = [(demo, c, s, row[i]) for demo, row in TABLE.items() for i, (c, s) in enumerate(PAIRS)]


@pytest.mark.parametrize(("demo", "client", "server", "expected"), CELLS, ids=[f"{d}:{c}->{s}" for d, c, s, _ in CELLS])
def test_c1_ip_row(demo: str, client: str, server: str, expected: tuple) -> None:
    code, doc = _explain(f"{client}/netshoot", f"{server}/httpbin", "--path", "/ip", "--demo", demo)
    _check(doc, code, expected)


DENY_CELLS = [(demo, c, exp) for demo, row in DENY_ROW.items() for c, exp in row.items()]


@pytest.mark.parametrize(
    ("demo", "client", "expected"), DENY_CELLS, ids=[f"{d}:{c}->blue/deny" for d, c, _ in DENY_CELLS]
)
def test_c1_deny_row(demo: str, client: str, expected: tuple) -> None:
    code, doc = _explain(f"{client}/netshoot", "blue/httpbin", "--path", "/deny", "--demo", demo)
    _check(doc, code, expected)


def test_s1_green_names_the_ingress_rule_and_the_drop_evidence() -> None:
    _, doc = _explain("green/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy")
    hop = next(h for h in doc["hops"] if h["name"] == "cilium-ingress")
    assert hop["decision"] == "break"
    assert doc["evidence"]["dropReasons"].get("POLICY_DENIED", 0) > 0
    assert doc["evidence"]["agrees"] is True
    fix = next(c["fix"] for c in doc["causes"] if c["code"] == "cilium-policy-denied")
    assert "io.kubernetes.pod.namespace: green" in fix


def test_s2_fix_is_the_namespace_peer_authentication() -> None:
    _, doc = _explain("red/netshoot", "blue/httpbin", "--demo", "sidecar-s2-l7-policy")
    fix = next(c["fix"] for c in doc["causes"] if c["code"] == "cilium-l7-vs-istio-mtls")
    assert "kind: PeerAuthentication" in fix and "DISABLE" in fix and "namespace: blue" in fix
    assert doc["source"]["mesh"] == "sidecar" and doc["destination"]["mesh"] == "sidecar"
    assert doc["evidence"]["httpStatus"] == {}


def test_s3_warns_that_mtls_is_off_for_blue() -> None:
    _, doc = _explain("red/netshoot", "blue/httpbin", "--path", "/ip", "--demo", "sidecar-s3-authn-disable")
    codes = {c["code"]: c for c in doc["causes"]}
    assert codes["istio-mtls-disabled"]["severity"] == "info"
    assert doc["evidence"]["httpStatus"].get("200", 0) > 0


def test_a2_hbone_denied_names_port_15008_and_l7_unreachable() -> None:
    _, doc = _explain("red/netshoot", "blue/httpbin", "--demo", "ambient-a2-l7-policy")
    assert doc["source"]["mesh"] == "ambient" and doc["destination"]["mesh"] == "ambient"
    denied = next(c for c in doc["causes"] if c["code"] == "cilium-policy-denied")
    assert "15008" in denied["summary"] and "15008" in denied["fix"]
    assert "cilium-l7-unreachable-ambient" in [c["code"] for c in doc["causes"]]


def test_a3_workloads_left_the_mesh() -> None:
    _, doc = _explain("red/netshoot", "blue/httpbin", "--path", "/ip", "--demo", "ambient-a3-leave-ambient")
    assert doc["source"]["mesh"] == "none" and doc["destination"]["mesh"] == "none"


def test_hubble_policy_attribution_is_shown_as_corroboration() -> None:
    _, doc = _explain("red/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy")
    assert "allowed by (Hubble): CiliumNetworkPolicy blue/default" in doc["evidence"]["summary"]
