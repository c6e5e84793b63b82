"""The committed ``_proto`` modules must be exactly what ``scripts/gen-proto`` produces.

Also pins a few field numbers from hubble-api.md: a wrong number still compiles and still
round-trips through our own JSON, but silently breaks the wire with a real Relay.
"""

from __future__ import annotations

import filecmp
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROTO_PKG = REPO / "kubectl_meshdoctor" / "_proto"


def test_generated_code_is_current(tmp_path: Path) -> None:
    if importlib.util.find_spec("grpc_tools") is None:
        pytest.skip("grpc_tools (grpcio-tools, dev extra) is not importable; cannot regenerate")
    out = tmp_path / "_proto"
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run([str(REPO / "scripts" / "gen-proto"), str(out)], check=True, env=env, cwd=REPO)
    generated = sorted(p.name for p in out.iterdir())
    committed = sorted(p.name for p in PROTO_PKG.iterdir() if p.is_file() and p.suffix in (".py", ".pyi"))
    assert generated == committed
    _, mismatch, errors = filecmp.cmpfiles(out, PROTO_PKG, generated, shallow=False)
    assert not mismatch and not errors, f"stale generated code, run scripts/gen-proto: {mismatch + errors}"


@pytest.mark.parametrize(
    ("message", "field", "number"),
    [
        ("flow.Flow", "Summary", 100000),
        ("flow.Flow", "extensions", 150000),
        ("flow.Flow", "ingress_denied_by", 21005),
        ("flow.Flow", "egress_allowed_by", 21001),
        ("flow.Flow", "aggregate", 21007),
        ("flow.Flow", "is_reply", 26),
        ("flow.Flow", "drop_reason_desc", 25),
        ("flow.Flow", "IP", 5),
        ("flow.Flow", "Type", 10),
        ("flow.Layer7", "http", 101),
        ("flow.FlowFilter", "drop_reason_desc", 33),
        ("flow.FlowFilter", "experimental", 999),
        ("observer.GetFlowsResponse", "node_name", 1000),
        ("observer.GetFlowsResponse", "time", 1001),
        ("observer.GetFlowsResponse", "lost_events", 3),
        ("observer.GetFlowsRequest", "first", 9),
        ("observer.GetFlowsRequest", "field_mask", 10),
        ("observer.GetFlowsRequest", "experimental", 999),
    ],
)
def test_field_numbers_match_hubble(message: str, field: str, number: int) -> None:
    from kubectl_meshdoctor._proto import observer_pb2

    pool = observer_pb2.DESCRIPTOR.pool
    assert pool.FindMessageTypeByName(message).fields_by_name[field].number == number


def test_wrapper_and_enum_details() -> None:
    from google.protobuf import descriptor_pb2

    from kubectl_meshdoctor._proto import flow_pb2, observer_pb2

    flow = flow_pb2.Flow.DESCRIPTOR
    assert flow.fields_by_name["is_reply"].message_type.full_name == "google.protobuf.BoolValue"
    assert flow.fields_by_name["policy_match_type"].type == flow.fields_by_name["proxy_port"].type  # uint32
    assert flow_pb2.POLICY_DENIED == 133
    assert flow_pb2.POLICY_DENY == 181
    assert flow_pb2.AUTH_REQUIRED == 189
    assert flow_pb2.TO_ENDPOINT == 101
    proto = descriptor_pb2.FileDescriptorProto.FromString(flow_pb2.DESCRIPTOR.serialized_pb)
    flow_proto = next(m for m in proto.message_type if m.name == "Flow")
    reserved = {n for r in flow_proto.reserved_range for n in range(r.start, r.end)}
    assert reserved == {7, 12, 17, 18}
    svc = observer_pb2.DESCRIPTOR.services_by_name["Observer"]
    get_flows = svc.methods_by_name["GetFlows"]
    assert get_flows.server_streaming and not get_flows.client_streaming
    assert set(svc.methods_by_name) >= {"GetFlows", "GetNodes", "GetNamespaces", "ServerStatus"}
