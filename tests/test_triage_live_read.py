"""What live triage holds of Relay's stream (diagnosis/triage_live.py, issue 19 at L): the re-check on
each flow's facts selects exactly what FlowMatcher over the request's filters selects, and holding only
the newest flows of each call key gives every group what adding every message gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.diagnosis.triage_groups import KEEP, Grouper
from kubectl_meshdoctor.diagnosis.triage_live import LiveFailures
from kubectl_meshdoctor.sources.demo import list_demos, read_demo
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
from kubectl_meshdoctor.sources.snapshot import read_snapshot
from kubectl_meshdoctor.sources.triage_flows import failure_check, failure_filters

ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT.parents[1] / "shared" / "data" / "hubble-samples"
SCOPES = [None, ["kube-system"], ["default", "blue"], ["red"], ["istio-system", "monitoring"], ["green"]]


def _messages() -> list[flow_pb2.Flow]:
    flows = [f for d in list_demos() for f in read_demo(d.name).flows]
    flows += [f for p in sorted((ROOT / "scenarios").glob("*/flows.jsonl")) for f in read_snapshot(str(p.parent)).flows]
    if SAMPLES.is_dir():
        flows += read_snapshot(str(SAMPLES)).flows
    return flows


def test_the_recheck_on_facts_selects_what_the_filters_select() -> None:
    flows = _messages()
    assert len(flows) > (1000 if SAMPLES.is_dir() else 300)
    for scope in SCOPES:
        check, match = failure_check(scope), FlowMatcher(failure_filters(scope))
        picked = [check(f) is not None for f in flows]
        assert picked == [match(f) for f in flows], scope
        assert 0 < sum(picked) < len(flows)


def _view(grouper: Grouper) -> list[Any]:
    return [
        (key, g.flows, g.first_ns, g.last_ns, sorted(g.nodes), list(g.client_pods), list(g.requests.items()),
         list(g.verdicts.items()), [f.SerializeToString() for f in g.kept])
        for key, g in grouper.groups.items()
    ]  # fmt: skip


def _drop(client: int, i: int) -> flow_pb2.Flow:
    """One of several client pods of one workload calling one server: one call, a call key per pod."""
    return flow_pb2.Flow(
        verdict=flow_pb2.DROPPED,
        drop_reason_desc=flow_pb2.POLICY_DENIED,
        node_name=f"node-{i % 3}",
        IP=flow_pb2.IP(source=f"10.0.1.{client}", destination="10.0.2.1"),
        l4=flow_pb2.Layer4(TCP=flow_pb2.TCP(source_port=30000 + i, destination_port=8080)),
        source=flow_pb2.Endpoint(namespace="a", pod_name=f"api-7d4b9c8f6d-x{client}z2k",
                                 workloads=[flow_pb2.Workload(name="api", kind="Deployment")]),
        destination=flow_pb2.Endpoint(namespace="b", pod_name="web-0"),
        time={"seconds": 1_800_000_000 + i},
    )  # fmt: skip


@pytest.mark.parametrize(("scope", "untimed"), [(None, False), (["a"], False), (["green"], False), (None, True)])
def test_holding_the_newest_flows_of_each_call_key_groups_as_every_flow_does(
    scope: list[str] | None, untimed: bool
) -> None:
    # client pods 0 and 1 alternate, then pod 2 sends more than KEEP flows on its own, then pod 0 again:
    # the call's newest KEEP flows mix keys, and most of each key's flows are not held
    order = [i % 2 for i in range(3 * KEEP)] + [2] * (KEEP + 5) + [0] * 7
    flows = [_drop(c, i) for i, c in enumerate(order)] + _messages()
    if untimed:  # a few flows without a time: a group's first seen then depends on the order
        for i in (5, 6, 150, len(order) - 3):
            flows[i].ClearField("time")
    failures, every = LiveFailures(scope), Grouper(None)
    match = FlowMatcher(failure_filters(scope))
    for flow in flows:
        if failures(flow):
            every.add(flow)
        else:
            assert not match(flow)
    held = Grouper(None)
    if untimed or scope == ["a"]:  # ["a"]: only the drops above, every one timed (the tallied path)
        assert failures.untimed == untimed
    failures.replay(held)
    assert _view(held) == _view(every) and held.total == every.total > 0
    if scope != ["green"]:  # the drops above are selected: most of their messages were let go
        assert sum(len(call.newest) for call in failures._order) < failures.count - KEEP
    expect = {ns for g in every.groups.values() for f in g.kept for ns in (f.source.namespace, f.destination.namespace)}
    assert expect - {""} <= failures.namespaces


def test_a_failed_stream_leaves_nothing() -> None:
    failures = LiveFailures(None)
    assert failures(_drop(0, 1))
    failures.clear()
    held = Grouper(None)
    failures.replay(held)
    assert not held.groups and not failures.namespaces
