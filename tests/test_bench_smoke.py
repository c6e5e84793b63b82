"""scripts/bench: the generator at S, the Relay's pod index, and the quick run's report (no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kubectl_meshdoctor._proto import flow_pb2, observer_pb2
from kubectl_meshdoctor.playground.relay import FlowStore, select_positions
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher, pair_filters

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

import bench_cluster  # noqa: E402
import bench_flows  # noqa: E402

FIGURES = ("load_s", "engine_ms", "explain_live_s", "explain_offline_s", "relay_flows_sent", "peak_rss_mb")
SIZE_FREE = ("flows_per_s", "raw_grpc_per_s", "flows_ratio", "help_s", "python_pass_s")


def test_generator_at_s_has_the_counts_and_the_pair() -> None:
    size = bench_cluster.SIZES["S"]
    kinds = Counter(item["kind"] for item in bench_cluster.generate(size))
    assert kinds["Namespace"] == size.namespaces
    assert kinds["Pod"] == size.pods
    assert kinds["CiliumNetworkPolicy"] == size.cnps
    assert kinds["NetworkPolicy"] == size.knps
    assert kinds["AuthorizationPolicy"] == size.aps
    assert kinds["PeerAuthentication"] == size.pas
    pods = {
        (i["metadata"]["namespace"], i["metadata"]["name"]) for i in bench_cluster.generate(size) if i["kind"] == "Pod"
    }
    assert ("ns-0000", bench_flows.CLIENT[1]) in pods and ("ns-0001", bench_flows.SERVER[1]) in pods


@pytest.fixture(scope="module")
def store() -> FlowStore:
    return bench_flows.relay_store(6_000, 300, namespaces=20)


def _scan(store: FlowStore, request: object) -> list[int]:
    matcher = FlowMatcher(list(request.whitelist), list(request.blacklist))  # type: ignore[attr-defined]
    return [i for i in range(len(store)) if matcher(store.flow(i))]


@pytest.mark.parametrize(
    "whitelist",
    [
        pair_filters(["ns-0000/client-5d9f8c7b6-00000"], ["ns-0001/server-5d9f8c7b6-00000"]),
        pair_filters(["ns-0003/"], []),
        [flow_pb2.FlowFilter(source_pod=["ns-0004/web", "ns-0005/"], destination_pod=["ns-0006/"])],
        [flow_pb2.FlowFilter(destination_pod=["/api"])],  # any namespace: not indexed, scanned
        [flow_pb2.FlowFilter(source_pod=["ns-0002/"]), flow_pb2.FlowFilter(verdict=[flow_pb2.FORWARDED])],
    ],
)
def test_relay_index_selects_what_a_scan_selects(store: FlowStore, whitelist: list[object]) -> None:
    request = observer_pb2.GetFlowsRequest(whitelist=whitelist)
    expected = _scan(store, request)
    assert expected and list(select_positions(store, request)) == expected
    last = observer_pb2.GetFlowsRequest(whitelist=whitelist, number=50)
    assert list(select_positions(store, last)) == expected[-50:]


def test_relay_store_keeps_time_order_and_pair_count(store: FlowStore) -> None:
    assert list(store.times) == sorted(store.times)
    request = observer_pb2.GetFlowsRequest(whitelist=pair_filters([f"ns-0000/{bench_flows.CLIENT[1]}"], []))
    assert len(select_positions(store, request)) == 300
    unsorted = FlowStore(reversed(store.messages()[:20]))
    assert list(unsorted.times) == sorted(unsorted.times) and unsorted.messages() == store.messages()[:20]


def test_bench_quick_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "bench"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(out.read_text())["figures"]
    for name in [f"S.{f}" for f in FIGURES] + list(SIZE_FREE):
        assert name in figures, name
        assert f"{name} " in proc.stdout  # one `name value unit` line each
    assert figures["S.relay_flows_sent"]["value"] == figures["pair_flows"]["value"] == 2000
    assert figures["relay_flows"]["value"] > figures["pair_flows"]["value"]
