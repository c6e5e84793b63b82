"""Table tests: host-network identities (item 8) and rules written on the Service port (item 5)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_meshdoctor.engines.cilium.decide import evaluate
from kubectl_meshdoctor.engines.cilium.identity import peer_view, same_node
from kubectl_meshdoctor.engines.cilium.ports import rules_on_service_port
from kubectl_meshdoctor.findings.types import Decision
from kubectl_meshdoctor.model.build import Model, build_model
from kubectl_meshdoctor.model.config import CiliumConfig
from kubectl_meshdoctor.model.objects import Pod, ServicePort
from kubectl_meshdoctor.raw import RawObject, RawSnapshot


def _pod(name: str, node: str | None, host: bool = False, ports: list[Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "ports": ports or []}], "hostNetwork": host}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "blue", "labels": {"app": name}},
        "spec": spec,
        "status": {"phase": "Running", "podIP": "192.168.1.1" if host else f"10.0.0.{len(name)}"},
    }


def _cnp(name: str, ingress: list[Any]) -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name, "namespace": "blue"},
        "spec": {"endpointSelector": {"matchLabels": {"app": "web"}}, "ingress": ingress},
    }


def _model(*docs: dict[str, Any], config: dict[str, str] | None = None) -> Model:
    objs = [RawObject(d) for d in docs]
    if config is not None:
        cm = {"kind": "ConfigMap", "metadata": {"name": "cilium-config", "namespace": "kube-system"}, "data": config}
        objs.append(RawObject(cm))
    return build_model(RawSnapshot(objects=objs))


WEB = _pod("web", "n1", ports=[{"name": "http", "containerPort": 8080}])


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("n1", "n1", True), ("n1", "n2", False), (None, "n1", None), ("n1", None, None)],
)
def test_same_node(a: str | None, b: str | None, expected: bool | None) -> None:
    m = _model(_pod("x", a), _pod("y", b))
    assert same_node(m.pods["blue/x"], m.pods["blue/y"]) is expected


@pytest.mark.parametrize(
    ("host", "node", "entities"),
    [
        (False, "n1", [frozenset({"cluster", "all"})]),  # an ordinary pod keeps its labels
        (True, "n1", [frozenset({"host", "cluster", "all"})]),
        (True, "n2", [frozenset({"remote-node", "cluster", "all"})]),
        (True, None, [frozenset({"host", "cluster", "all"}), frozenset({"remote-node", "cluster", "all"})]),
    ],
)
def test_peer_view(host: bool, node: str | None, entities: list[frozenset[str]]) -> None:
    m = _model(WEB, _pod("agent", node, host))
    view = peer_view(m.pods["blue/agent"], "blue/agent", m.pods["blue/web"])
    assert [p.entities for p in view.peers] == entities
    assert view.certain is (len(entities) == 1)
    if host:
        assert all(p.pod is None and p.labels == {} for p in view.peers)  # never the pod's labels


def _ingress(m: Model, src: Pod, port: int = 8080) -> Decision:
    return evaluate(
        m, m.pods["blue/web"], "ingress", peer_view(src, "x", m.pods["blue/web"]).peers[0], port, "TCP"
    ).decision


@pytest.mark.parametrize(
    ("ingress", "node", "config", "expected"),
    [
        # fromEndpoints selects the agent's labels: never matches a host-network pod
        ([{"fromEndpoints": [{"matchLabels": {"app": "agent"}}]}], "n2", None, Decision.DENY),
        ([{"fromEntities": ["remote-node"]}], "n2", None, Decision.ALLOW),
        ([{"fromEntities": ["remote-node"]}], "n1", {"allow-localhost": "policy"}, Decision.DENY),
        ([{"fromEntities": ["host"]}], "n1", {"allow-localhost": "policy"}, Decision.ALLOW),
        ([{"fromEntities": ["cluster"]}], "n2", None, Decision.ALLOW),
        # allow-localhost auto (= always in Kubernetes) lets the local host in without a rule
        ([{"fromEntities": ["world"]}], "n1", None, Decision.ALLOW),
        ([{"fromEntities": ["world"]}], "n1", {"allow-localhost": "always"}, Decision.ALLOW),
        # CIDR rules select node IPs only with policy-cidr-match-mode: nodes
        ([{"fromCIDR": ["192.168.0.0/16"]}], "n2", None, Decision.DENY),
        ([{"fromCIDR": ["192.168.0.0/16"]}], "n2", {"policy-cidr-match-mode": "nodes"}, Decision.ALLOW),
    ],
)
def test_host_network_source(ingress: list[Any], node: str, config: dict[str, str] | None, expected: Decision) -> None:
    m = _model(WEB, _pod("agent", node, True), _cnp("p", ingress), config=config)
    assert _ingress(m, m.pods["blue/agent"]) is expected


@pytest.mark.parametrize(
    ("data", "localhost", "cidr_nodes"),
    [
        ({}, "always", False),
        ({"allow-localhost": "auto"}, "always", False),
        ({"allow-localhost": "policy"}, "policy", False),
        ({"policy-cidr-match-mode": "nodes"}, "always", True),
        ({"policy-cidr-match-mode": ""}, "always", False),
    ],
)
def test_config_flags(data: dict[str, str], localhost: str, cidr_nodes: bool) -> None:
    cfg = CiliumConfig(data, True)
    assert cfg.allow_localhost == localhost
    assert cfg.cidr_match_nodes is cidr_nodes


SP = ServicePort("web", 80, "http", "TCP")


@pytest.mark.parametrize(
    ("ports", "svc_port", "found"),
    [
        ([{"port": "80"}], SP, ["80"]),  # fires: the Service port number
        ([{"port": "70", "endPort": 90}], SP, ["70-90"]),  # fires: a range covering only the Service port
        ([{"port": "web"}], SP, ["web"]),  # fires: the Service port's name, not a pod port name
        ([{"port": "8080"}], SP, []),  # near miss: the targetPort (the rule admits the call)
        ([{"port": "http"}], SP, []),  # near miss: the pod's port name
        ([{"port": "70", "endPort": 9000}], SP, []),  # near miss: the range covers the targetPort too
        ([{"port": "80", "protocol": "UDP"}], SP, []),  # near miss: another protocol
        ([{"port": "80"}], ServicePort(None, 8080, 8080, "TCP"), []),  # no translation, no mismatch
    ],
)
def test_rules_on_service_port(ports: list[Any], svc_port: ServicePort, found: list[str]) -> None:
    m = _model(WEB, _pod("client", "n1"), _cnp("p", [{"fromEndpoints": [{}], "toPorts": [{"ports": ports}]}]))
    web, client = m.pods["blue/web"], m.pods["blue/client"]
    peer = peer_view(client, "blue/client", web).peers[0]
    got = rules_on_service_port(m, web, "ingress", peer, svc_port, 8080, "TCP")
    assert [r.written for r in got] == found
    assert all(r.ref.rule == "spec.ingress[0].toPorts[0]" for r in got)


def test_rules_on_service_port_needs_the_peer() -> None:
    """Near miss: a rule on the Service port for another peer is not this call's port mismatch."""
    rule = [{"fromEndpoints": [{"matchLabels": {"app": "other"}}], "toPorts": [{"ports": [{"port": "80"}]}]}]
    m = _model(WEB, _pod("client", "n1"), _cnp("p", rule))
    web, client = m.pods["blue/web"], m.pods["blue/client"]
    peer = peer_view(client, "blue/client", web).peers[0]
    assert rules_on_service_port(m, web, "ingress", peer, SP, 8080, "TCP") == []


@pytest.mark.parametrize(
    ("rule_proto", "packet", "expected"),
    [("UDP", "UDP", False), ("ANY", "UDP", False), ("SCTP", "SCTP", True), ("ANY", "SCTP", True)],
)
def test_named_port_resolves_per_protocol(rule_proto: str, packet: str, expected: bool) -> None:
    """A1.7: a port name declared only for SCTP does not open UDP (np-guard case netpol_named_port_test)."""
    from kubectl_meshdoctor.engines.cilium.peers import port_rule_matches
    from kubectl_meshdoctor.model.cilium import PortProto, PortRule

    m = _model(_pod("web", "n1", ports=[{"name": "newport", "containerPort": 8956, "protocol": "SCTP"}]))
    rule = PortRule((PortProto("newport", None, rule_proto),), None, (), "toPorts[0]")
    assert port_rule_matches(rule, 8956, packet, m.pods["blue/web"]) is expected
