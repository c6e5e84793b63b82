"""triage's short read path (sources/flowlite.py, issue 19 performance): what it reads of a jsonpb
line equals what the full reader's message says, the failure selection on those facts equals
``FlowMatcher`` on the message, and every line it must not judge goes to the full reader."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.sources.flow_facts import facts_of
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
from kubectl_meshdoctor.sources.flowjson import LineReader
from kubectl_meshdoctor.sources.flowlite import KeptReader, LiteReader
from kubectl_meshdoctor.sources.flowlite_lines import KeptLines, LineFacts
from kubectl_meshdoctor.sources.triage_flows import _scoped, failing, failure_filters

ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT.parents[1] / "shared" / "data" / "hubble-samples"
FILES = sorted(
    [
        *SAMPLES.rglob("*.json"),
        *(ROOT.parent / "kubectl_meshdoctor" / "demos").rglob("*.jsonl"),
        *(ROOT / "scenarios").rglob("*.jsonl"),
    ]
)


def _full(line: bytes) -> flow_pb2.Flow | None:
    got: list[flow_pb2.Flow] = []
    LineReader("t", got.append).feed(1, line)
    return got[0] if got else None


def _corpus() -> list[bytes]:
    return [line for path in FILES for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"Hubble sample flows not found at {SAMPLES}")
def test_facts_equal_the_messages_on_every_recorded_line() -> None:
    lite = LiteReader()
    lines = _corpus()
    taken = 0
    scopes = [None, ["kube-system"], ["default", "blue"], ["red"], ["istio-system", "monitoring"]]
    matchers = [FlowMatcher(failure_filters(s)) for s in scopes]
    for line in lines:
        flow = _full(line)
        facts = lite.facts(orjson.loads(line))
        if facts is None:
            continue
        taken += 1
        assert flow is not None and facts == facts_of(flow), line[:200]
        assert KeptReader().parse(line) == flow
        for scope, match in zip(scopes, matchers, strict=True):
            scoped = _scoped(scope)
            assert (failing(facts) and (scoped is None or scoped(facts))) == match(flow), line[:200]
    assert len(lines) > 2000 and taken >= len(lines) - 5  # node status and lost events lines go to the full reader


BASE: dict[str, Any] = {
    "flow": {
        "time": "2026-11-20T10:00:00.5Z",
        "verdict": "DROPPED",
        "drop_reason_desc": "POLICY_DENIED",
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.2", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 5, "destination_port": 80, "flags": {"SYN": True}}},
        "source": {"namespace": "a", "pod_name": "c-1", "workloads": [{"name": "c", "kind": "Deployment"}]},
        "destination": {"namespace": "b", "pod_name": "s-1"},
        "trace_observation_point": "TO_ENDPOINT",
    },
    "node_name": "n1",
}


def _variant(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    at = doc
    for key in parents:
        at = at[key]
    at[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("flow.dropReasonDesc", "POLICY_DENIED"),  # lowerCamelCase: the full reader's
        ("flow.future_field", 1),  # unknown field: the full reader warns
        ("flow.source.future", "x"),  # unknown field, nested
        ("flow.source.workloads", [{"name": "c", "future": 1}]),
        ("flow.trace_observation_point", "SOMEWHERE_NEW"),  # unknown enum name: the full reader warns
        ("flow.IP.ipVersion", "IPv9"),
        ("flow.l4.UDP", {"source_port": 1}),  # two members of one oneof
        ("flow.extensions", {"@type": "x"}),
        ("flow.time", "2026-11-20T10:00:00+01:00"),  # not the UTC form the short path reads
        ("flow.time", "2026-13-20T10:00:00Z"),
        ("flow.is_reply", "yes"),
        ("node_status", {}),
        ("flow.source.pod_name", 5),  # a field grouping reads, of the wrong JSON type
        ("flow.IP.source", ["10.0.0.1"]),
        ("flow.l4.TCP.source_port", "80"),
        ("flow.l4.TCP.source_port", 2**32),
        ("flow.l4.TCP.flags", {"RST": 1}),
    ],
)
def test_lines_the_short_path_leaves_to_the_full_reader(path: str, value: Any) -> None:
    lite = LiteReader()
    assert lite.facts(json.loads(json.dumps(BASE))) is not None  # the near miss is read
    assert lite.facts(json.loads(json.dumps(_variant(path, value)))) is None


def test_envelope_time_and_node_fill_what_the_flow_leaves_out() -> None:
    doc = copy.deepcopy(BASE)
    del doc["flow"]["time"]
    doc["time"] = "2026-11-20T10:00:01Z"
    line = json.dumps(doc).encode()
    facts = LiteReader().facts(orjson.loads(line))
    flow = _full(line)
    assert facts is not None and flow is not None and facts == facts_of(flow)
    assert facts.time_ns == flow.time.ToNanoseconds() and facts.node == "n1"


def test_unknown_field_warning_survives_the_short_path(tmp_path: Path) -> None:
    """A newer Hubble's field in one failing line: triage still says so, and counts that flow."""
    good = json.dumps(BASE)
    newer = json.dumps(_variant("flow.future_field", 1))
    (tmp_path / "flows.jsonl").write_text("\n".join([good, newer, good]) + "\n")
    result = CliRunner().invoke(cli, ["triage", "-A", "--from", str(tmp_path), "-o", "json"])
    doc = json.loads(result.stdout)
    assert doc["summary"]["failingFlows"] == 3
    assert any("unknown fields ignored (first: flow.future_field)" in w for w in doc["warnings"])


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"Hubble sample flows not found at {SAMPLES}")
def test_lines_like_one_already_read_give_what_the_full_reader_gives() -> None:
    """The remembered shapes (flowlite_lines.py): every recorded line, each file read in order, plus
    lines that differ from a read one in time, uuid or port, or where the flow's and the envelope's
    times disagree."""
    lines = _corpus()
    doc = copy.deepcopy(BASE)
    doc["flow"]["uuid"] = "u-0"
    doc["time"] = doc["flow"]["time"]
    for i in range(1, 6):
        doc["flow"]["uuid"] = f"u-{i}"
        doc["flow"]["time"] = doc["time"] = f"2026-11-20T10:00:0{i}.{i}Z"
        doc["flow"]["l4"]["TCP"]["source_port"] = 40000 + i
        lines.append(json.dumps(doc, separators=(",", ":")).encode())
    doc["time"] = "2026-11-20T10:00:09Z"  # the envelope's time is not the flow's
    lines.append(json.dumps(doc, separators=(",", ":")).encode())
    last = json.dumps(doc, separators=(",", ":")).encode()
    lines.append(last.replace(b'"source_port":40005', b'"source_port":"7"'))
    lines.append(last.replace(b'"time":"2026-11-20T10:00:09Z"', b'"time":"2026-11-20T10:00:05.5Z"'))
    lines.append(lines[-1].replace(b'"source_port":40005', b'"source_port":9999999999'))  # not a uint32
    facts, kept = LineFacts(), KeptLines()
    remembered = 0
    for line in lines:
        flow = _full(line)
        got = facts.of(line)
        assert (got is None) == (LiteReader().facts(orjson.loads(line)) is None), line[:200]
        if got is not None:
            assert flow is not None and got == facts_of(flow), line[:200]
            assert kept.parse(line) == flow, line[:200]
            remembered += 1
    assert remembered >= len(lines) - 5


def test_lines_the_full_reader_skips_keep_their_line_numbers(tmp_path: Path) -> None:
    """Lines taken by the short path are counted for the line numbers of the full reader's warnings."""
    good = json.dumps(BASE)
    broken = '{"flow": {"verdict": "DROPPED", "IP": '
    (tmp_path / "flows.jsonl").write_text("\n".join([good, good, '{"flow": {"verdict": "FORWARDED"}}', broken, good]))
    result = CliRunner().invoke(cli, ["triage", "-A", "--from", str(tmp_path), "-o", "json"])
    doc = json.loads(result.stdout)
    assert doc["summary"]["failingFlows"] == 3
    assert any("flows.jsonl:4: not JSON" in w for w in doc["warnings"]), doc["warnings"]
