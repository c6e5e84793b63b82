"""Table tests over the pure matching functions (semantics.md A1.3, A1.4, A1.7, A1.9, A5)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_meshdoctor.engines.cilium.l7 import http_rule_matches
from kubectl_meshdoctor.engines.cilium.peers import port_rule_matches
from kubectl_meshdoctor.engines.istio_authz import _path_match, _str_match
from kubectl_meshdoctor.model.cilium import HTTPRule, PortProto, PortRule
from kubectl_meshdoctor.model.cilium_parse import _scope_peer
from kubectl_meshdoctor.model.objects import ContainerPort, Pod, identity_label_kept
from kubectl_meshdoctor.model.selectors import parse_selector

NS = "io.kubernetes.pod.namespace"
POD = {"app": "web", "tier": "api", NS: "blue", "io.cilium.k8s.policy.serviceaccount": "robot"}


def _http(
    method: str | None = None, path: str | None = None, host: str | None = None, headers: tuple[str, ...] = ()
) -> HTTPRule:
    return HTTPRule(method=method, path=path, host=host, headers=headers, header_matches=(), index=0)


@pytest.mark.parametrize(
    ("rule", "method", "path", "expected"),
    [
        (_http("GET", "/v1"), "GET", "/v1", True),
        (_http("GET", "/v1"), "GET", "/v1/x", False),  # whole-path match
        (_http("GET", "/v1"), "GET", "/v", False),
        (_http("GET", "/v1/.*"), "GET", "/v1/x/y", True),
        (_http("GET", "/v1/.*"), "GET", "/v1", False),
        (_http("GET|HEAD", None), "HEAD", "/any", True),
        (_http("GET", None), "GETS", "/any", False),  # method regex anchored too
        (_http("GET", None), "POST", "/", False),
        (_http(None, "/ip"), "DELETE", "/ip", True),  # omitted field = any
        (_http(None, None), "PATCH", "/whatever", True),
        # the verdict depends on whether Cilium's regex sees the query string: never a sure match
        (_http("GET", "/ip"), "GET", "/ip?x=1", False),
        (_http("GET", "/ip.*"), "GET", "/ip?x=1", True),  # matches with and without the query
        (_http("GET", "/items/[0-9]+"), "GET", "/items/12", True),
        (_http("GET", "/items/[0-9]+"), "GET", "/items/1a", False),
        (_http("GET", "/(unbalanced"), "GET", "/(unbalanced", False),  # invalid regex matches nothing
    ],
)
def test_cilium_http_rule(rule: HTTPRule, method: str, path: str, expected: bool) -> None:
    assert http_rule_matches(rule, method, path, "httpbin.blue", {}) is expected


@pytest.mark.parametrize(
    ("rule", "host", "headers", "expected"),
    [
        (_http(host="httpbin\\.blue"), "httpbin.blue", {}, True),
        (_http(host="httpbin\\.blue"), "other.blue", {}, False),
        (_http(headers=("X-Token",)), None, {"x-token": "1"}, True),  # header names case-insensitive
        (_http(headers=("X-Token",)), None, {}, False),
    ],
)
def test_cilium_http_host_headers(rule: HTTPRule, host: str | None, headers: dict[str, str], expected: bool) -> None:
    assert http_rule_matches(rule, "GET", "/", host, headers) is expected


@pytest.mark.parametrize(
    ("raw", "labels", "expected"),
    [
        ({}, POD, True),
        ({"matchLabels": {"app": "web"}}, POD, True),
        ({"matchLabels": {"app": "db"}}, POD, False),
        ({"matchLabels": {"k8s:app": "web"}}, POD, True),  # source prefix k8s
        ({"matchLabels": {"any:app": "web"}}, POD, True),  # any: = no prefix
        ({"matchLabels": {"app": "web", "tier": "db"}}, POD, False),  # matchLabels ANDed
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "db"]}]}, POD, True),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}, POD, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}, POD, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["api"]}]}, POD, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, POD, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, POD, True),
        ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, POD, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, POD, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, POD, False),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
            POD,
            False,
        ),  # matchLabels AND matchExpressions
        ({"matchExpressions": [{"key": "tier", "operator": "Like", "values": ["api"]}]}, POD, False),
        ({"matchLabels": {"io.cilium.k8s.policy.serviceaccount": "robot"}}, POD, True),
        ({"matchLabels": {"io.cilium.k8s.policy.serviceaccount": "default"}}, POD, False),
    ],
)
def test_selector_matches(raw: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert parse_selector(raw).matches(labels) is expected


@pytest.mark.parametrize(
    ("raw", "policy_ns", "peer_ns", "expected"),
    [
        # A1.4 CNP: no namespace key -> the policy namespace is added
        ({}, "blue", "blue", True),
        ({}, "blue", "red", False),
        ({"matchLabels": {"app": "web"}}, "blue", "red", False),
        # namespace key (any spelling) -> used as written
        ({"matchLabels": {NS: "red", "app": "web"}}, "blue", "red", True),
        ({"matchLabels": {f"k8s:{NS}": "red", "app": "web"}}, "blue", "red", True),
        ({"matchLabels": {f"any:{NS}": "red"}}, "blue", "red", True),
        ({"matchExpressions": [{"key": NS, "operator": "In", "values": ["red", "green"]}]}, "blue", "red", True),
        ({"matchExpressions": [{"key": NS, "operator": "In", "values": ["green"]}]}, "blue", "red", False),
        ({"matchExpressions": [{"key": NS, "operator": "NotIn", "values": ["blue"]}]}, "blue", "red", True),
        # A1.4 CCNP (no namespace): namespace Exists is added -> any namespace
        ({}, None, "red", True),
        ({"matchLabels": {"app": "web"}}, None, "green", True),
    ],
)
def test_peer_namespace_scoping(raw: dict[str, Any], policy_ns: str | None, peer_ns: str, expected: bool) -> None:
    sel = _scope_peer(parse_selector(raw), policy_ns, [], "test")
    assert sel.matches({**POD, NS: peer_ns}) is expected


def test_ccnp_scoping_never_selects_reserved_identities() -> None:
    sel = _scope_peer(parse_selector({}), None, [], "test")
    assert not sel.matches({}, frozenset({"world"}))


@pytest.mark.parametrize(
    ("key", "kept"),
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("pod-template-hash", False),
        ("controller-revision-hash", False),
        ("pod-template-generation", False),
        ("io.kubernetes.pod.uid", False),
        ("kubernetes.io/hostname", False),
        ("statefulset.kubernetes.io/pod-name", False),
        ("k8s.io/thing", False),
        ("security.istio.io/tlsMode", True),
    ],
)
def test_identity_label_filter(key: str, kept: bool) -> None:
    assert identity_label_kept(key) is kept


_SERVER = Pod(
    namespace="blue",
    name="server",
    labels={},
    annotations={},
    service_account="default",
    ip="10.0.0.1",
    node=None,
    ports=(ContainerPort("http", 8080, "TCP"), ContainerPort("dns", 53, "UDP")),
    containers=("app",),
    init_containers=(),
    native_sidecars=(),
    host_network=False,
    ready=True,
    owner_kind=None,
    owner_name=None,
)


def _ports(*ports: PortProto) -> PortRule:
    return PortRule(tuple(ports), None, (), "toPorts[0]")


@pytest.mark.parametrize(
    ("rule", "port", "protocol", "expected"),
    [
        (_ports(PortProto("80", None, "TCP")), 80, "TCP", True),
        (_ports(PortProto("80", None, "TCP")), 81, "TCP", False),
        (_ports(PortProto("80", None, "UDP")), 80, "TCP", False),  # protocol mismatch
        (_ports(PortProto("80", None, "ANY")), 80, "UDP", True),  # ANY = TCP+UDP+SCTP
        (_ports(PortProto("8000", 8100, "TCP")), 8000, "TCP", True),
        (_ports(PortProto("8000", 8100, "TCP")), 8100, "TCP", True),
        (_ports(PortProto("8000", 8100, "TCP")), 8101, "TCP", False),
        (_ports(PortProto("8000", 8100, "TCP")), 7999, "TCP", False),
        (_ports(PortProto("0", None, "TCP")), 31337, "TCP", True),  # port 0 = all ports
        (_ports(PortProto("http", None, "TCP")), 8080, "TCP", True),  # named port on the pod
        (_ports(PortProto("http", None, "TCP")), 80, "TCP", False),
        (_ports(PortProto("metrics", None, "TCP")), 8080, "TCP", False),  # unknown name
        (_ports(), 1234, "UDP", True),  # toPorts entry without ports = all ports
        (_ports(PortProto("80", None, "TCP"), PortProto("443", None, "TCP")), 443, "TCP", True),
    ],
)
def test_port_rule(rule: PortRule, port: int, protocol: str, expected: bool) -> None:
    assert port_rule_matches(rule, port, protocol, _SERVER) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("cluster.local/ns/red/sa/default", "cluster.local/ns/red/sa/default", True),
        ("cluster.local/ns/red/sa/default", "cluster.local/ns/red/sa/robot", False),
        ("cluster.local/ns/red/*", "cluster.local/ns/red/sa/robot", True),  # prefix
        ("*/sa/robot", "cluster.local/ns/green/sa/robot", True),  # suffix
        ("*/sa/robot", "cluster.local/ns/green/sa/default", False),
        ("*", "anything", True),  # presence
        ("*", "", False),  # presence needs a value (plaintext has no principal)
        ("red", "red", True),
        ("red", "redis", False),  # exact, not prefix
    ],
)
def test_istio_str_match(pattern: str, value: str, expected: bool) -> None:
    assert _str_match(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("/api/*", "/api/items", True),
        ("/api/*", "/apix", False),
        ("*.css", "/static/a.css", True),
        ("/users/{*}/profile", "/users/alice/profile", True),
        ("/users/{*}/profile", "/users/alice/settings", False),
        ("/users/{*}/profile", "/users/a/b/profile", False),  # {*} is one segment
        ("/files/{**}", "/files/a/b/c.txt", True),
        ("/files/{**}", "/other/a", False),
    ],
)
def test_istio_path_match(pattern: str, value: str, expected: bool) -> None:
    assert _path_match(pattern, value) is expected
