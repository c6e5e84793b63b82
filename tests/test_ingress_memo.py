"""The witness search asks a server's ingress once per class of clients (checks/ingress_memo.py):
for every server and client pod of every test scenario, and of the bench's S cluster (selectors on
namespaces, namespace labels and apps), at every port a server declares, the memo answers what the
engine answers for that very client (decision and whether the direction is enforced), and the
client's egress toward that server is denied exactly when the engine denies it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kubectl_meshdoctor.app import build_model
from kubectl_meshdoctor.checks.ingress_memo import IngressMemo
from kubectl_meshdoctor.engines.cilium.decide import evaluate
from kubectl_meshdoctor.findings.types import Decision
from kubectl_meshdoctor.model.objects import pod_peer
from kubectl_meshdoctor.sources.snapshot import read_snapshot

HERE = Path(__file__).resolve().parent
SCENARIOS = sorted(p for p in (HERE / "scenarios").iterdir() if p.is_dir())


def _same_answers(root: Path, limit: int = 10_000) -> int:
    raw = read_snapshot(str(root))
    raw.flow_files = []
    model = build_model(raw)
    memo = IngressMemo(model)
    pods = list(model.pods.values())
    asked = 0
    for server in pods:
        ports = sorted({p.port for p in server.ports} | {8080, 15008})
        for client in pods[:limit]:
            for port in ports:
                direct = evaluate(model, server, "ingress", pod_peer(client, client.workload_name), port, "TCP")
                assert memo.decide(server, client, port, "TCP") == (direct.decision, direct.enforced), (
                    root.name,
                    server.key(),
                    client.key(),
                    port,
                )
                out = evaluate(model, client, "egress", pod_peer(server, server.workload_name), port, "TCP")
                denied = out.decision is Decision.DENY
                assert memo.egress_denies(client, server, port, "TCP") is denied, (
                    root.name,
                    client.key(),
                    server.key(),
                    port,
                )
                asked += 1
    return asked


@pytest.mark.parametrize("root", SCENARIOS, ids=lambda p: p.name)
def test_scenarios(root: Path) -> None:
    _same_answers(root)


def test_bench_cluster(tmp_path: Path) -> None:
    sys.path.insert(0, str(HERE.parent / "scripts"))
    try:
        from bench_cluster import SIZES, write_snapshot
    finally:
        sys.path.remove(str(HERE.parent / "scripts"))
    root = write_snapshot(SIZES["S"], tmp_path / "snap", pair_flows=0, noise_flows=0)
    assert _same_answers(root, limit=60) > 10_000
