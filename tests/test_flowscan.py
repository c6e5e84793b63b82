"""sources/flowscan.py: the block reader and byte prefilter never lose or invent a line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowfiles import file_flow, sniff_flows
from kubectl_meshdoctor.sources.flowjson import read_flow_file
from kubectl_meshdoctor.sources.flowscan import Prefilter, scan
from tests.test_flows_offline import SAMPLE_FILES, SAMPLES

needs_samples = pytest.mark.skipif(not SAMPLE_FILES, reason=f"Hubble sample flows not found at {SAMPLES}")


def _all(path: Path, pre: Prefilter | None = None, block: int = 1 << 22) -> tuple[list[flow_pb2.Flow], list[str]]:
    got: list[flow_pb2.Flow] = []

    def keep(flow: flow_pb2.Flow) -> bool:
        got.append(flow)
        return False

    result = scan([file_flow(path, path.name)], keep, pre, block=block)
    return got, result.warnings


@needs_samples
@pytest.mark.parametrize("block", [1 << 22, 4096, 700])  # 700 < one line: the buffer has to grow
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_block_reads_equal_the_line_reader(path: Path, block: int) -> None:
    assert _all(path, block=block) == (read_flow_file(path).flows, read_flow_file(path).warnings)


@needs_samples
def test_prefilter_keeps_every_line_with_the_needles(tmp_path: Path) -> None:
    path = SAMPLES / "basic-sample-400-udp-flows.json"
    lines = path.read_text().splitlines()
    got, _ = _all(path, Prefilter.of(["details", "ratings"], ["coredns"]), block=5000)
    expected = [ln for ln in lines if ("details" in ln or "ratings" in ln) and "coredns" in ln]
    assert 0 < len(got) == len(expected) < len(lines)
    assert [f.uuid or f.time.ToJsonString() for f in got] == [
        json.loads(ln)["flow"].get("uuid") or json.loads(ln)["flow"]["time"] for ln in expected
    ]


def test_lost_events_and_node_status_lines_pass_any_prefilter(tmp_path: Path) -> None:
    flow = '{"flow":{"verdict":"FORWARDED","source":{"namespace":"a","pod_name":"x-1"}},"time":"2026-01-01T00:00:00Z"}'
    lost = '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"3"}}'
    down = '{"nodeStatus":{"stateChange":"NODE_UNAVAILABLE","nodeNames":["n1"]}}'
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress(f"{lost}\n{flow}\n{down}\n{flow}".encode()))  # no final newline
    got, warnings = _all(path, Prefilter.of(["x-1"]), block=64)
    assert len(got) == 2
    assert any("3 lost events" in w for w in warnings) and any("n1" in w for w in warnings)
    got, _ = _all(path, Prefilter.of(["nobody"]))
    assert got == []


def test_bad_candidate_lines_are_warnings_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    good = '{"flow":{"source":{"pod_name":"x-1"}}}'
    path.write_text(f"{good}\n{{not json x-1\n{good}\n")
    got, warnings = _all(path, Prefilter.of(["x-1"]))
    assert len(got) == 2 and len(warnings) == 1 and warnings[0].startswith("f.jsonl:2: not JSON")


@pytest.mark.parametrize(
    ("head", "flows"),
    [
        (b'{"flow":{"verdict":"DROPPED"},"node_name":"n"}\n', True),
        (b'{"verdict":"DROPPED","IP":{"source":"10.0.0.1"}}\n', True),  # legacy bare flow
        (b'{\n  "apiVersion": "v1",\n  "kind": "List",\n', False),  # kubectl get -o json
        (b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}\n', False),
        (gzip.compress(b'{"flow":{}}\n'), True),
    ],
)
def test_sniff_tells_flows_from_objects(head: bytes, flows: bool) -> None:
    assert sniff_flows(head) is flows
