"""The policies of one build share what they read (model/raw_memo.RawMemo): every policy parsed so
is the policy parsed on its own, with the same warnings in the same order, including values that
compare equal in Python but read differently (1, 1.0 and true; NaN; a tuple; a date)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.cilium_parse import PolicyInvalid, parse_cnp
from kubectl_meshdoctor.model.raw_memo import RawMemo


def _cnp(name: str, namespace: str | None, ingress: list[Any], subject: Any = None) -> dict[str, Any]:
    return {
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "endpointSelector": subject if subject is not None else {"matchLabels": {"app": "a"}},
            "ingress": ingress,
        },
    }


TEAM = {"fromEndpoints": [{"matchLabels": {"io.cilium.k8s.namespace.labels.team": "t1"}}]}
PORT = {"fromEndpoints": [{"matchLabels": {"app": "b"}}], "toPorts": [{"ports": [{"port": "80"}]}]}
POLICIES = [
    _cnp("p1", "blue", [TEAM, PORT]),
    _cnp("p2", "blue", [TEAM, PORT]),  # the same entries at the same paths: shared
    _cnp("p3", "red", [PORT, TEAM]),  # another namespace, other paths
    _cnp("p4", None, [TEAM]),  # "default"
    _cnp("p5", "blue", [{"toPorts": [{"ports": [{"port": 80}]}]}]),
    _cnp("p6", "blue", [{"toPorts": [{"ports": [{"port": 80.0}]}]}]),  # equal in Python, "80.0" read
    _cnp("p7", "blue", [{"toPorts": [{"ports": [{"port": True}]}]}]),
    _cnp("p8", "blue", [{"fromEndpoints": [{"matchLabels": {"app": float("nan")}}]}]),
    _cnp("p9", "blue", [{"fromEndpoints": [{"matchLabels": {"app": None}}]}]),  # NaN and null: the same text
    _cnp("p10", "blue", [{"fromEndpoints": [{"matchLabels": {"app": datetime.date(2026, 12, 7)}}]}]),
    _cnp("p11", "blue", [{"fromEndpoints": [{"matchLabels": {"app": "2026-12-07"}}]}]),
    _cnp("p12", "blue", [{"fromEndpoints": ({"matchLabels": {"app": "b"}},)}]),  # a tuple: not a list
    _cnp("p13", "blue", [{"fromEndpoints": [{"matchLabels": {"app": "b"}}]}]),
    _cnp("p14", "blue", [{}], subject={"matchLabels": {"app": 1}}),
    _cnp("p15", "blue", [{}], subject={"matchLabels": {"app": "1"}}),
    _cnp("p16", "blue", [None, {}]),
]


def _parse(doc: dict[str, Any], memo: RawMemo | None) -> tuple[Any, list[str]]:
    warnings: list[str] = []
    meta = doc["metadata"]
    ref = ObjectRef("CiliumNetworkPolicy", meta["namespace"], meta["name"])
    try:
        return parse_cnp(doc, ref, False, warnings, memo), warnings
    except PolicyInvalid as err:
        return str(err), warnings


@pytest.mark.parametrize("order", [1, -1])
def test_policies_parsed_with_a_memo_are_the_policies_parsed_alone(order: int) -> None:
    memo = RawMemo()
    for doc in (POLICIES + POLICIES)[::order]:
        assert _parse(doc, memo) == _parse(doc, None)


def test_repeated_entries_share_their_rule_and_repeat_their_warning() -> None:
    memo = RawMemo()
    (one,), first = _parse(POLICIES[0], memo)
    (two,), second = _parse(POLICIES[1], memo)
    assert one.ingress[0] is two.ingress[0] and one.subject is two.subject
    assert first == second and len(first) == 1 and "namespace labels" in first[0]
    (other,), _ = _parse(POLICIES[2], memo)
    assert other.ingress[1] is not one.ingress[0] and other.ingress[1].path == "spec.ingress[1]"
    assert _parse(POLICIES[5], memo)[0][0].ingress[0].to_ports[0].ports[0].port == "80.0"
    assert _parse(POLICIES[4], memo)[0][0].ingress[0].to_ports[0].ports[0].port == "80"
    assert _parse(POLICIES[14], memo)[0][0].subject == _parse(POLICIES[13], None)[0][0].subject


def test_an_invalid_entry_fails_each_time_and_keeps_the_warnings_before_it() -> None:
    memo = RawMemo()
    bad = _cnp("bad", "blue", [TEAM, "not an object"])
    for _ in range(2):
        reason, warnings = _parse(bad, memo)
        assert reason == "spec.ingress[1] is not an object"
        assert len(warnings) == 1


def test_equal_port_lists_share_their_rules_and_a_bad_one_names_its_own_path() -> None:
    memo = RawMemo()
    ports = [{"ports": [{"port": "80"}], "rules": {"http": [{"method": "GET"}]}}]
    (one,), _ = _parse(_cnp("a", "blue", [{"fromEntities": ["world"], "toPorts": ports}]), memo)
    (two,), _ = _parse(_cnp("b", "red", [{}, {"fromEntities": ["host"], "toPorts": ports}]), memo)
    assert two.ingress[1].to_ports is one.ingress[0].to_ports
    bad = [{"ports": [{"port": "70000"}]}]
    assert (
        _parse(_cnp("c", "blue", [{"toPorts": bad}]), memo)[0]
        == "spec.ingress[0].toPorts[0].ports: port 70000 is not 0-65535"
    )
    assert (
        _parse(_cnp("d", "blue", [{}, {"toPorts": bad}]), memo)[0]
        == "spec.ingress[1].toPorts[0].ports: port 70000 is not 0-65535"
    )


def test_kept_keys_are_small_copies_that_find_the_same_entries() -> None:
    import tracemalloc

    from kubectl_meshdoctor.raw import json_key

    memo = RawMemo()
    raws = [[{"port": str(port)}] for port in range(400)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for raw in raws[:200]:
            memo.keep(json_key(raw), raw, "plain")
        for raw in raws[200:]:
            memo.keep((json_key(raw), "toPorts", 3), raw, "in a tuple")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 400 * 512  # orjson's own bytes hold a ~4 KB buffer each
    assert memo.find(json_key(raws[0]), raws[0]) == "plain"
    assert memo.find((json_key(raws[399]), "toPorts", 3), raws[399]) == "in a tuple"
