"""Issue 11 §2: what sits behind a route. A subset selecting no ready pod (503 UH), a destination
port the Service does not expose (503 NC), weighted splits reported per destination ("N% of
requests"), and the server hops evaluated for the workload the route really sends to. Each rule has
a fixture that fires and a near miss that must not (tests/fixtures/routing/<case>/ on base.yaml)."""

from __future__ import annotations

import pytest

from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Hop, Severity
from tests.test_routing import _explain, _model, _route_hop

DEST = "VirtualService blue/httpbin http[0].route[0].destination"
TABLE = [
    ("subset-no-endpoints", "broken", "http-503", "istio-subset-no-endpoints",
     [DEST, "DestinationRule blue/httpbin subsets[1].labels"]),
    ("subset-present", "allowed", "ok", None, None),
    ("route-port-unknown", "broken", "http-503", "istio-route-port-unknown", [DEST, "Service blue/httpbin"]),
    ("route-port-known", "allowed", "ok", None, None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "verdict", "symptom", "code", "objects"), TABLE)
def test_route_endpoints(case: str, verdict: str, symptom: str, code: str | None, objects: list[str] | None) -> None:
    d = _explain(_model(case))
    assert (d.verdict.value, d.symptom.value) == (verdict, symptom), _route_hop(d).detail
    routing = [c for c in d.causes if c.code.startswith("istio-")]
    assert [c.code for c in routing] == ([code] if code else [])
    if code is not None:
        assert [r.key() for r in routing[0].objects] == objects
        assert "?" not in catalog.summary(routing[0]), catalog.summary(routing[0])
        assert _route_hop(d).decision.value == "break"


def test_subset_no_endpoints_says_uh_and_labels() -> None:
    d = _explain(_model("subset-no-endpoints"))
    (cause,) = d.causes
    text = catalog.summary(cause)
    assert "version=v2" in text and "no healthy upstream" in text and "(UH)" in text
    assert "503 UH" in _route_hop(d).detail


def test_weighted_split_reports_each_destination_and_share() -> None:
    d = _explain(_model("subset-no-endpoints-split"))
    assert (d.verdict.value, d.symptom.value, d.share) == ("broken", "http-503", 20)  # issue 17
    (cause,) = [c for c in d.causes if c.code == "istio-subset-no-endpoints"]
    assert catalog.severity(cause) is Severity.ERROR
    assert "for 20% of requests" in catalog.summary(cause)
    detail = _route_hop(d).detail
    assert "80% of requests → httpbin.blue.svc.cluster.local subset v1" in detail
    assert "20% of requests to httpbin.blue.svc.cluster.local subset v2: 503 UH" in detail


def test_server_hops_follow_the_route() -> None:
    d = _explain(_model("routed-workload-denied"))
    assert (d.verdict.value, d.symptom.value) == ("denied", "timeout")
    hop = next(h for h in d.hops if h.hop is Hop.CILIUM_INGRESS)
    assert hop.by[0].key().startswith("CiliumNetworkPolicy blue/v2-blue-only")
    assert "httpbin-v2" in _route_hop(d).detail
    assert d.destination.pods == ("httpbin-v2-7d9c5b8f4-zx8kq",)
    assert not any("as asked" in g for g in d.gaps)


def test_route_to_the_asked_service_keeps_the_pods() -> None:
    d = _explain(_model("route-port-known"))
    assert d.destination.pods == ("httpbin-6f9d8b7c5d-q4t8n",)
    assert "server hops evaluated for" not in _route_hop(d).detail
