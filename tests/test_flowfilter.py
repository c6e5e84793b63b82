"""Table tests of Hubble FlowFilter semantics (hubble-api.md §2.2) on hand-built flows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher, in_window, matches, pair_filters

F = flow_pb2.FlowFilter


def _flow(**kw: object) -> flow_pb2.Flow:
    """A TCP flow web/client-7f → shop/server-0:8080 unless overridden."""
    base: dict[str, object] = {
        "verdict": flow_pb2.FORWARDED,
        "IP": flow_pb2.IP(source="10.0.1.5", destination="10.0.2.7", ipVersion=flow_pb2.IPv4),
        "l4": flow_pb2.Layer4(TCP=flow_pb2.TCP(source_port=41234, destination_port=8080)),
        "source": flow_pb2.Endpoint(
            namespace="web", pod_name="client-7f", labels=["k8s:app=client", "k8s:tier=front"], identity=300
        ),
        "destination": flow_pb2.Endpoint(
            namespace="shop", pod_name="server-0", labels=["k8s:app=server", "reserved:host"], identity=400
        ),
        "event_type": flow_pb2.CiliumEventType(type=4, sub_type=3),
        "traffic_direction": flow_pb2.EGRESS,
        "Type": flow_pb2.L3_L4,
    }
    base.update(kw)
    return flow_pb2.Flow(**base)  # type: ignore[arg-type]


def _http(code: int, method: str = "GET", url: str = "http://server:8080/api/v1/items?x=1") -> flow_pb2.Flow:
    return _flow(
        Type=flow_pb2.L7,
        event_type=flow_pb2.CiliumEventType(type=129),
        l7=flow_pb2.Layer7(
            type=flow_pb2.RESPONSE if code else flow_pb2.REQUEST,
            http=flow_pb2.HTTP(code=code, method=method, url=url),
        ),
    )


DROP = _flow(verdict=flow_pb2.DROPPED, drop_reason_desc=flow_pb2.POLICY_DENIED, event_type={"type": 1, "sub_type": 133})
REPLY = _flow(is_reply={"value": True})
REQUEST = _flow(is_reply={"value": False})
NO_NS = _flow(source=flow_pb2.Endpoint(identity=2, labels=["reserved:world"]))

CASES = [
    # (id, flow, whitelist filter, expected)
    ("empty-filter-matches-all", _flow(), F(), True),
    ("pod-prefix", _flow(), F(source_pod=["web/client"]), True),
    ("pod-prefix-wrong-ns", _flow(), F(source_pod=["shop/client"]), False),
    ("pod-namespace-only", _flow(), F(destination_pod=["shop/"]), True),
    ("pod-any-namespace", _flow(), F(destination_pod=["/server"]), True),
    ("pod-bare-means-default-ns", _flow(), F(source_pod=["client"]), False),
    ("pod-no-endpoint-info-never", NO_NS, F(source_pod=["/"]), False),
    ("pod-values-or", _flow(), F(source_pod=["x/y", "web/c"]), True),
    ("and-within-filter-all-true", _flow(), F(source_pod=["web/"], destination_port=["8080"]), True),
    ("and-within-filter-one-false", _flow(), F(source_pod=["web/"], destination_port=["9090"]), False),
    ("ip-exact", _flow(), F(source_ip=["10.0.1.5"]), True),
    ("ip-cidr", _flow(), F(destination_ip=["10.0.2.0/24"]), True),
    ("ip-cidr-miss", _flow(), F(destination_ip=["10.0.3.0/24", "10.0.1.5"]), False),
    ("label-key-value-any-source", _flow(), F(source_label=["app=client"]), True),
    ("label-k8s-prefix", _flow(), F(source_label=["k8s:app=client"]), True),
    ("label-wrong-prefix", _flow(), F(source_label=["container:app=client"]), False),
    ("label-key-only", _flow(), F(destination_label=["reserved:host"]), True),
    ("label-and-inside-selector", _flow(), F(source_label=["app=client,tier=back"]), False),
    ("label-in-set", _flow(), F(source_label=["tier in (front, back)"]), True),
    ("label-not-equal", _flow(), F(source_label=["app!=server"]), True),
    ("label-not-exists", _flow(), F(source_label=["!app"]), False),
    ("verdict", DROP, F(verdict=[flow_pb2.DROPPED]), True),
    ("verdict-miss", _flow(), F(verdict=[flow_pb2.DROPPED]), False),
    ("event-type", DROP, F(event_type=[flow_pb2.EventTypeFilter(type=1)]), True),
    (
        "event-subtype",
        DROP,
        F(event_type=[flow_pb2.EventTypeFilter(type=1, match_sub_type=True, sub_type=181)]),
        False,
    ),
    (
        "event-subtype-zero-is-real",
        _flow(event_type={"type": 4}),
        F(event_type=[flow_pb2.EventTypeFilter(type=4, match_sub_type=True, sub_type=0)]),
        True,
    ),
    ("drop-reason", DROP, F(drop_reason_desc=[flow_pb2.POLICY_DENIED]), True),
    ("ports", _flow(), F(source_port=["41234"], destination_port=["8080"]), True),
    (
        "port-udp",
        _flow(l4=flow_pb2.Layer4(UDP=flow_pb2.UDP(destination_port=53))),
        F(destination_port=["53"]),
        True,
    ),
    (
        "port-on-icmp-never",
        _flow(l4=flow_pb2.Layer4(ICMPv4=flow_pb2.ICMPv4(type=8))),
        F(source_port=["0"]),
        False,
    ),
    ("protocol", _flow(), F(protocol=["TCP"]), True),
    (
        "protocol-icmp-both",
        _flow(l4=flow_pb2.Layer4(ICMPv6=flow_pb2.ICMPv6(type=128))),
        F(protocol=["icmp"]),
        True,
    ),
    ("protocol-l7", _http(200), F(protocol=["http"]), True),
    ("protocol-miss", _flow(), F(protocol=["udp"]), False),
    ("direction", _flow(), F(traffic_direction=[flow_pb2.INGRESS]), False),
    ("reply-true", REPLY, F(reply=[True]), True),
    ("reply-false-on-reply", REPLY, F(reply=[False]), False),
    ("reply-unknown-never", _flow(), F(reply=[False]), False),
    ("reply-drop-counts-as-request", DROP, F(reply=[False]), True),
    ("reply-request", REQUEST, F(reply=[False]), True),
    ("http-status-exact", _http(403), F(http_status_code=["403"]), True),
    ("http-status-5plus", _http(503), F(http_status_code=["5+"]), True),
    ("http-status-5plus-miss", _http(403), F(http_status_code=["5+"]), False),
    ("http-status-40plus", _http(404), F(http_status_code=["40+"]), True),
    ("http-status-request-never", _http(0), F(http_status_code=["2+"]), False),
    ("http-status-non-l7-never", _flow(), F(http_status_code=["2+"]), False),
    ("http-method-case", _http(0, method="PUT"), F(http_method=["put"]), True),
    ("http-path-regex", _http(0), F(http_path=["^/api/v[0-9]+/"]), True),
    ("http-path-excludes-query", _http(0), F(http_path=["x=1"]), False),
    ("identity", _flow(), F(source_identity=[300], destination_identity=[400]), True),
    ("l7-event-type-and-status", _http(403), F(event_type=[{"type": 129}], http_status_code=["403"]), True),
]


@pytest.mark.parametrize(("flow", "flt", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_single_filter(flow: flow_pb2.Flow, flt: flow_pb2.FlowFilter, expected: bool) -> None:
    assert matches(flow, [flt], []) is expected


def test_or_across_whitelist_filters() -> None:
    miss, hit = F(verdict=[flow_pb2.DROPPED]), F(source_pod=["web/"])
    assert matches(_flow(), [miss, hit], [])
    assert not matches(_flow(), [miss, miss], [])


def test_empty_whitelist_keeps_everything_and_blacklist_removes() -> None:
    assert matches(_flow(), [], [])
    assert not matches(_flow(), [], [F(destination_port=["8080"])])
    assert matches(_flow(), [], [F(destination_port=["9090"])])
    assert not matches(DROP, [F(source_pod=["web/"])], [F(verdict=[flow_pb2.DROPPED])])
    assert matches(_flow(), [F(source_pod=["web/"])], [F(verdict=[flow_pb2.DROPPED])])


def test_pair_filters_cover_both_directions() -> None:
    wl = pair_filters(["web/client"], ["shop/server"])
    forward = _flow()
    backward = _flow(
        source=flow_pb2.Endpoint(namespace="shop", pod_name="server-0"),
        destination=flow_pb2.Endpoint(namespace="web", pod_name="client-7f"),
    )
    other = _flow(destination=flow_pb2.Endpoint(namespace="shop", pod_name="db-0"))
    matcher = FlowMatcher(wl)
    assert [matcher(f) for f in (forward, backward, other)] == [True, True, False]
    assert len(wl) == 2


def test_pair_filters_one_side_is_hubble_pod_flag() -> None:
    assert pair_filters(["web/"], []) == [F(source_pod=["web/"]), F(destination_pod=["web/"])]
    assert pair_filters([], []) == []


def test_unknown_filter_fields_are_ignored() -> None:
    flt = F(source_pod=["web/"])
    flt.experimental.cel_expression.append("_flow.verdict == 2")  # not evaluated client-side
    unknown = F.FromString(F(source_pod=["web/"]).SerializeToString() + b"\xa2\x06\x01x")  # field 100
    assert matches(_flow(), [flt], []) and matches(_flow(), [unknown], [])


@pytest.mark.parametrize(
    "bad",
    [F(source_ip=["10.0.0.300"]), F(source_pod=[""]), F(http_status_code=["5xx"]), F(protocol=["quic"])],
)
def test_bad_filter_values_raise(bad: flow_pb2.FlowFilter) -> None:
    with pytest.raises(ValueError):
        FlowMatcher([bad])


def test_in_window() -> None:
    flow = _flow()
    flow.time.FromJsonString("2024-05-01T10:00:00.500000001Z")
    t = datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert in_window(flow, None, None)
    assert in_window(flow, t, None)
    assert not in_window(flow, None, t)
    assert in_window(flow, datetime(2024, 5, 1, 9), datetime(2024, 5, 1, 11))  # naive = UTC
    assert not in_window(_flow(), t, None)  # no time: outside a bounded window
