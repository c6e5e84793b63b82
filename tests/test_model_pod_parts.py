"""The container parts of a pod are read once for the replicas declaring the same containers
(model/readers.PodParts): every pod read so is the pod read on its own, including values that
compare equal in Python but read differently (1, 1.0 and true; NaN; a date)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubectl_meshdoctor.model.readers import PodParts, read_pod


def _pod(name: str, port: Any, port_name: Any = "http", user: Any = None, extra: Any = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "ports": [{"containerPort": port, "name": port_name}]}
    if user is not None:
        container["securityContext"] = {"runAsUser": user}
    if extra is not None:
        container["readinessProbe"] = {"httpGet": {"port": extra}}
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "blue", "labels": {"app": "a"}},
        "spec": {"containers": [container, {"name": "istio-proxy"}]},
        "status": {"phase": "Running", "podIP": f"10.0.0.{name.split('-')[1]}"},
    }


REPLICAS = [
    _pod("a-1", 8080),
    _pod("a-2", 8080),  # shares the parts of a-1
    _pod("a-3", 8080.0),  # equal in Python, another port in the text
    _pod("a-4", 8080, port_name=True),
    _pod("a-5", 8080, port_name=1),
    _pod("a-6", 8080, user=1337),
    _pod("a-7", 8080, user="1337"),
    _pod("a-8", 8080, extra=float("nan")),
    _pod("a-9", 8080, extra=None),
    _pod("a-10", 8080, port_name=datetime.date(2026, 12, 6)),
    _pod("a-11", 8080, port_name="2026-12-06"),
]


def test_pods_read_with_shared_parts_are_the_pods_read_alone() -> None:
    parts = PodParts()
    for doc in REPLICAS + REPLICAS[::-1]:
        assert read_pod(doc, "f.yaml:1", parts) == read_pod(doc, "f.yaml:1")


def test_replicas_share_their_parts_and_other_containers_do_not() -> None:
    parts = PodParts()
    one, two, other = (read_pod(d, None, parts) for d in (REPLICAS[0], REPLICAS[1], REPLICAS[2]))
    assert one.ports is two.ports and one.name != two.name and one.ip != two.ip
    assert other.ports == one.ports  # 8080.0: read on its own, to the same port
    assert read_pod(REPLICAS[5], None, parts).uid_1337 == ("app",)
    assert read_pod(REPLICAS[7], None, parts).probe_ports == ("nan",)  # NaN and null: the same text
    assert read_pod(REPLICAS[8], None, parts).probe_ports == ()


def test_a_malformed_pod_fails_as_it_does_alone() -> None:
    parts = PodParts()
    read_pod(REPLICAS[0], None, parts)
    bad = {**REPLICAS[1], "status": "broken"}
    with pytest.raises(AttributeError) as alone:
        read_pod(bad, None)
    with pytest.raises(AttributeError) as shared:
        read_pod(bad, None, parts)
    assert str(shared.value) == str(alone.value)
