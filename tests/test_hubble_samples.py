"""Real ``hubble observe -o jsonpb`` recordings through ``sources.flowjson``.

Expected counts are computed here with a plain ``json.loads`` walk of the same lines, never
hard-coded, so the test checks the reader against the file rather than against our memory.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowjson import flow_to_jsonpb, read_flow_file, read_flow_lines

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "hubble-samples" / "cilium-hubble-otel"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []
needs_samples = pytest.mark.skipif(not SAMPLE_FILES, reason=f"Hubble sample flows not found at {SAMPLES}")


def _raw_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _json_counts(path: Path) -> tuple[Counter[str], Counter[int], Counter[int]]:
    """Verdicts, HTTP response codes and DNS response rcodes by a simple walk of the JSON."""
    verdicts: Counter[str] = Counter()
    http: Counter[int] = Counter()
    dns: Counter[int] = Counter()
    for line in _raw_lines(path):
        obj: dict[str, Any] = json.loads(line)
        flow = obj.get("flow", obj)
        verdicts[flow.get("verdict", "VERDICT_UNKNOWN")] += 1
        l7 = flow.get("l7") or {}
        if l7.get("type") == "RESPONSE":
            if "http" in l7:
                http[l7["http"].get("code", 0)] += 1
            if "dns" in l7:
                dns[l7["dns"].get("rcode", 0)] += 1
    return verdicts, http, dns


def _message_counts(flows: list[flow_pb2.Flow]) -> tuple[Counter[str], Counter[int], Counter[int]]:
    verdicts: Counter[str] = Counter(flow_pb2.Verdict.Name(f.verdict) for f in flows)
    http: Counter[int] = Counter()
    dns: Counter[int] = Counter()
    for f in flows:
        if f.l7.type != flow_pb2.RESPONSE:
            continue
        record = f.l7.WhichOneof("record")
        if record == "http":
            http[f.l7.http.code] += 1
        elif record == "dns":
            dns[f.l7.dns.rcode] += 1
    return verdicts, http, dns


@needs_samples
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_file_loads_with_matching_counts(path: Path) -> None:
    result = read_flow_file(path)
    assert result.skipped == 0
    assert result.warnings == []
    assert len(result.flows) == len(_raw_lines(path))
    assert _message_counts(result.flows) == _json_counts(path)


@needs_samples
def test_samples_contain_l7_records() -> None:
    # Guards the walk above against vacuous equality (e.g. both sides empty).
    http = sum((_json_counts(p)[1] for p in SAMPLE_FILES), Counter[int]())
    dns = sum((_json_counts(p)[2] for p in SAMPLE_FILES), Counter[int]())
    assert http and dns


@needs_samples
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_writer_reproduces_hubble_lines(path: Path) -> None:
    lines = _raw_lines(path)
    flows = read_flow_file(path).flows
    out = [flow_to_jsonpb(f) for f in flows]
    assert [json.loads(x) for x in out] == [json.loads(x) for x in lines]
    assert out == lines  # byte for byte, as the recordings are compact and in field order
    again = read_flow_lines(out, "roundtrip")
    assert again.flows == flows and again.warnings == []


@needs_samples
def test_unknown_fields_warn_once_per_file(tmp_path: Path) -> None:
    lines = _raw_lines(SAMPLE_FILES[0])
    objs = [json.loads(line) for line in lines]
    objs[1]["flow"]["foo"] = 1
    objs[2]["flow"]["l4"] = {"TCP": {"source_port": 1, "bar": True}}
    objs[3]["brand_new_envelope_key"] = "x"
    path = tmp_path / "new-hubble.json"
    path.write_text("\n".join(json.dumps(o) for o in objs) + "\n", encoding="utf-8")
    result = read_flow_file(path)
    assert result.skipped == 0
    assert len(result.flows) == len(lines)
    assert len(result.warnings) == 1
    assert "unknown fields ignored (first: flow.foo)" in result.warnings[0]
    assert result.warnings[0].startswith(str(path))
    assert result.flows[2].l4.TCP.source_port == 1


def test_unknown_enum_name_is_tolerated() -> None:
    result = read_flow_lines(['{"flow": {"verdict": "SOMETHING_NEW", "uuid": "u1"}}'], "x")
    assert [f.uuid for f in result.flows] == ["u1"]
    assert result.warnings == ["x: unknown fields ignored (first: flow.verdict=SOMETHING_NEW); newer Hubble?"]


def test_camel_case_and_legacy_bare_flow() -> None:
    line = json.dumps(
        {
            "verdict": "DROPPED",
            "dropReasonDesc": "POLICY_DENIED",
            "isReply": False,
            "trafficDirection": "INGRESS",
            "nodeName": "kind-worker",
            "eventType": {"type": 1, "subType": 133},
        }
    )
    result = read_flow_lines([line], "legacy.json")
    assert result.warnings == [] and result.skipped == 0
    (flow,) = result.flows
    assert flow.drop_reason_desc == flow_pb2.POLICY_DENIED
    assert flow.HasField("is_reply") and flow.is_reply.value is False
    assert flow.traffic_direction == flow_pb2.INGRESS
    assert flow.node_name == "kind-worker"
    assert (flow.event_type.type, flow.event_type.sub_type) == (1, 133)


def test_enum_numbers_including_unknown_ones() -> None:
    lines = [
        '{"flow": {"verdict": 2, "drop_reason_desc": 181}}',
        '{"flow": {"verdict": 99, "drop_reason_desc": 206}}',
    ]
    result = read_flow_lines(lines, "n")
    assert result.warnings == []
    assert [(f.verdict, f.drop_reason_desc) for f in result.flows] == [
        (flow_pb2.DROPPED, flow_pb2.POLICY_DENY),
        (99, 206),
    ]


def test_envelope_fills_missing_time_and_node() -> None:
    line = '{"flow": {"verdict": "FORWARDED"}, "node_name": "n1", "time": "2024-01-02T03:04:05.000000006Z"}'
    (flow,) = read_flow_lines([line], "x").flows
    assert flow.node_name == "n1"
    assert (flow.time.seconds, flow.time.nanos) == (1704164645, 6)


def test_garbage_lines_are_skipped_with_location(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(
        '{"flow": {"uuid": "a"}}\nthis is not json\n\n[1, 2]\n{"flow": {"uuid": "b"}}\n{"flow": 7}\n',
        encoding="utf-8",
    )
    result = read_flow_file(path)
    assert [f.uuid for f in result.flows] == ["a", "b"]
    assert result.skipped == 3
    assert [w.split(": ")[0] for w in result.warnings] == [f"{path}:2", f"{path}:4", f"{path}:6"]


def test_bad_field_value_is_a_line_warning_not_an_exception() -> None:
    result = read_flow_lines(['{"flow": {"time": "yesterday"}}', '{"flow": {"source": {"identity": "x"}}}'], "f")
    assert result.flows == [] and result.skipped == 2
    assert result.warnings[0].startswith("f:1: ") and result.warnings[1].startswith("f:2: ")


def test_node_status_and_lost_events_are_not_flows() -> None:
    lines = [
        '{"node_status": {"state_change": "NODE_UNAVAILABLE", "node_names": ["k/w2"]}, "node_name": "relay"}',
        '{"lost_events": {"source": "HUBBLE_RING_BUFFER", "num_events_lost": "40"}}',
        '{"lost_events": {"source": "PERF_EVENT_RING_BUFFER", "num_events_lost": "2", "cpu": 1}}',
        '{"flow": {"uuid": "z"}}',
    ]
    result = read_flow_lines(lines, "s")
    assert [f.uuid for f in result.flows] == ["z"]
    assert (result.node_status, result.lost_events, result.skipped) == (1, 42, 0)
    assert any("42 lost events" in w for w in result.warnings)
    assert any("k/w2" in w for w in result.warnings)


def test_round_trip_of_a_rich_flow() -> None:
    flow = flow_pb2.Flow(
        verdict=flow_pb2.DROPPED,
        drop_reason_desc=flow_pb2.AUTH_REQUIRED,
        IP=flow_pb2.IP(source="10.0.0.1", destination="10.0.0.2", ipVersion=flow_pb2.IPv4),
        l4=flow_pb2.Layer4(TCP=flow_pb2.TCP(source_port=1234, destination_port=15008)),
        source=flow_pb2.Endpoint(namespace="a", pod_name="client-1", labels=["k8s:app=client"]),
        destination=flow_pb2.Endpoint(namespace="b", pod_name="server-1", identity=25339),
        Type=flow_pb2.L3_L4,
        node_name="c/node-1",
        event_type=flow_pb2.CiliumEventType(type=1, sub_type=189),
        ingress_denied_by=[flow_pb2.Policy(name="deny", namespace="b", revision=9)],
        Summary="TCP Flags: SYN",
        socket_cookie=2**63,
    )
    flow.time.FromJsonString("2026-01-01T00:00:00.123Z")
    flow.is_reply.value = False
    line = flow_to_jsonpb(flow, node_name="relay-node")
    assert '"node_name":"relay-node"' in line and '"socket_cookie":"9223372036854775808"' in line
    assert read_flow_lines([line], "rt").flows == [flow]


def _reference(line: str) -> flow_pb2.Flow | None:
    """What plain ``json_format.ParseDict`` (strict) makes of a line, None if it rejects it."""
    obj = json.loads(line)
    try:
        return json_format.ParseDict(obj.get("flow", obj), flow_pb2.Flow())
    except json_format.ParseError:
        return None


@needs_samples
def test_fast_path_equals_json_format_on_samples() -> None:
    for path in SAMPLE_FILES:
        lines = _raw_lines(path)
        assert read_flow_lines(lines, path.name).flows == [_reference(line) for line in lines]


@pytest.mark.parametrize(
    "body",
    [
        '{"reply": 1}',
        '{"proxy_port": true}',
        '{"source_names": "abc"}',
        '{"source": {"ID": 3.0}}',
        '{"source": {"ID": -3}}',
        '{"time": "2021-13-01T00:00:00Z"}',
        '{"time": "2021-02-30T00:00:00Z"}',
        '{"time": "1969-12-31T23:59:59.5Z"}',
        '{"time": "2021-10-04T16:28:38.1+02:00"}',
        '{"time": "2021-10-04T14:28:38.000000001Z", "socket_cookie": 12}',
        '{"l7": {"latency_ns": "4077768132", "http": {"code": 503}}}',
        '{"is_reply": null}',
        '{"is_reply": false, "verdict": 99, "drop_reason_desc": "POLICY_DENY"}',
        '{"extensions": {"@type": "type.googleapis.com/google.protobuf.BoolValue", "value": true}}',
    ],
)
def test_fast_path_agrees_with_json_format_on_edge_cases(body: str) -> None:
    result = read_flow_lines([body], "e")
    expected = _reference(body)
    if expected is None:
        assert result.flows == [] and result.skipped == 1
    else:
        assert result.flows == [expected] and result.warnings == []
