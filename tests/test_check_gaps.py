"""`check` rests on what it could read: a kind the user may not read makes it exit 3 (not 0) when
nothing else is wrong, and every finding in a namespace with such a gap says so (contract §1, §6)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

PA = "peerauthentications.security.istio.io"
CNP = "ciliumnetworkpolicies.cilium.io"


def run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env)
    return result.exit_code, result.stdout


def test_healthy_cluster_with_unreadable_peer_authentications_exits_3(playground) -> None:
    pg = playground("sidecar-s0-baseline", forbidden=frozenset({PA}))
    code, out = run(["check", "-A", "-o", "json"], pg.env())
    doc = json.loads(out)
    assert code == 3, doc
    assert any(g.startswith(f"no read access to {PA}") for g in doc["gaps"])
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    code, text = run(["check", "-A"], pg.env())
    assert code == 3 and "ERROR" not in text
    assert "? no error found in what could be read; the check rests on gaps:" in text
    assert f"no read access to {PA}" in text


def test_errors_still_exit_1_and_findings_name_their_gaps(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", forbidden=frozenset({PA}))
    code, out = run(["check", "-A", "-o", "json"], pg.env())
    doc = json.loads(out)
    assert code == 1
    l7 = next(f for f in doc["findings"] if f["code"] == "cilium-l7-vs-istio-mtls")
    assert any(PA in g for g in l7.get("gaps", [])), l7


def test_namespace_scope_still_rests_on_a_clusterwide_gap(playground) -> None:
    pg = playground("sidecar-s0-baseline", forbidden=frozenset({CNP}))
    code, out = run(["check", "-n", "green", "-o", "json"], pg.env())
    doc = json.loads(out)
    # a clusterwide-forbidden kind hides it in green too: still resting on a gap
    assert code == 3 and doc["gaps"]
