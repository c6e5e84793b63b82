"""Issue 7: Istio traffic management on the call path. Each cause has a fixture that fires and a
near miss that must not (tests/fixtures/routing/<case>/objects.yaml on top of base.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_meshdoctor.checks.routing import routing_findings
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.explain import explain
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Diagnosis, Hop, Severity
from kubectl_meshdoctor.model.build import Model, build_model
from kubectl_meshdoctor.model.istio_routes import StringMatch
from kubectl_meshdoctor.raw import RawObject
from kubectl_meshdoctor.sources.snapshot import load_files
from kubectl_meshdoctor.sources.whatif import Change, apply_changes

ROOT = Path(__file__).parent / "fixtures" / "routing"


def _files(case: str, flows: list[dict[str, Any]] | None) -> list[tuple[str, bytes]]:
    files = [("base.yaml", (ROOT / "base.yaml").read_bytes())]
    files += [(p.name, p.read_bytes()) for p in sorted((ROOT / case).iterdir())]
    if flows:
        files.append(("flows.jsonl", "\n".join(json.dumps({"flow": f}) for f in flows).encode()))
    return files


def _model(case: str, flows: list[dict[str, Any]] | None = None) -> Model:
    return build_model(load_files(iter(_files(case, flows)), f"routing/{case}"))


def _explain(model: Model, dst: str = "blue/httpbin", path: str = "/ip", method: str = "GET") -> Diagnosis:
    return explain(model, Query("red/netshoot", dst, "default", method=method, path=path))


def _route_hop(d: Diagnosis) -> Any:
    return next(h for h in d.hops if h.hop is Hop.CLIENT_ROUTE)


def _http_flow(code: int, latency_s: float, path: str = "/ip") -> dict[str, Any]:
    return {
        "time": "2026-11-20T10:00:01Z",
        "verdict": "FORWARDED",
        "Type": "L7",
        "is_reply": True,
        "source": {"namespace": "blue", "pod_name": "httpbin-6f9d8b7c5d-q4t8n"},
        "destination": {"namespace": "red", "pod_name": "netshoot-5c7f9d8b6d-abcde"},
        "IP": {"source": "10.244.2.20", "destination": "10.244.1.10"},
        "l7": {
            "type": "RESPONSE",
            "latency_ns": str(int(latency_s * 1e9)),
            "http": {"code": code, "method": "GET", "url": f"http://httpbin.blue{path}"},
        },
    }


# case, destination, path -> verdict, symptom, cause code (None = no routing cause), by ref of the route hop
TABLE = [
    ("fault-abort", "blue/httpbin", "/ip", "broken", "http-503", "istio-fault-injection",
     "VirtualService blue/httpbin http[0].fault.abort"),
    ("fault-abort-other-route", "blue/httpbin", "/ip", "allowed", "ok", None, "VirtualService blue/httpbin http[1]"),
    ("fault-abort-other-route", "blue/httpbin", "/delay/1", "broken", "http-500", "istio-fault-injection",
     "VirtualService blue/httpbin http[0].fault.abort"),
    ("fault-gateway-only", "blue/httpbin", "/ip", "allowed", "ok", None, None),
    ("subset-missing", "blue/httpbin", "/ip", "broken", "http-503", "istio-subset-not-found",
     "VirtualService blue/httpbin http[0].route[0].destination"),
    ("subset-present", "blue/httpbin", "/ip", "allowed", "ok", None, "VirtualService blue/httpbin http[0]"),
    ("route-no-match", "blue/httpbin", "/ip", "broken", "http-404", "istio-route-no-match",
     "VirtualService blue/httpbin http"),
    ("route-no-match", "blue/httpbin", "/api/v1", "allowed", "ok", None,
     "VirtualService blue/httpbin http[0].match[0]"),
    ("host-unknown", "blue/httpbin", "/ip", "broken", "http-503", "istio-destination-host-unknown",
     "VirtualService blue/httpbin http[0].route[0].destination"),
    ("registry-only", "api.example.com", "/", "broken", "http-502", "istio-egress-registry-only",
     "ConfigMap istio-system/istio data.mesh.outboundTrafficPolicy"),
    ("registry-only", "blue/httpbin", "/ip", "allowed", "ok", None, None),
    ("registry-only-serviceentry", "api.example.com", "/", "allowed", "ok", None, "ServiceEntry istio-system/example"),
    ("sidecar-scope", "blue/httpbin", "/ip", "broken", "http-502", "istio-egress-registry-only",
     "Sidecar red/default egress[].hosts"),
    ("sidecar-scope-imports", "blue/httpbin", "/ip", "allowed", "ok", None, None),
    ("circuit-breaker-roomy", "blue/httpbin", "/ip", "allowed", "ok", None, None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "dst", "path", "verdict", "symptom", "code", "by"), TABLE)
def test_routing_table(case: str, dst: str, path: str, verdict: str, symptom: str, code: str | None, by: str | None):
    d = _explain(_model(case), dst, path)
    assert (d.verdict.value, d.symptom.value) == (verdict, symptom), _route_hop(d).detail
    routing = [c for c in d.causes if c.code.startswith("istio-")]
    if code is None:
        assert routing == [], [c.code for c in routing]
    else:
        assert [c.code for c in routing] == [code]
        assert _route_hop(d).hop is Hop.CLIENT_ROUTE
        assert catalog.summary(routing[0]).count("?") == 0, catalog.summary(routing[0])
    if by is not None:
        assert by in [r.key() for r in _route_hop(d).by]


def test_partial_abort_breaks_that_share_of_requests() -> None:
    """Issue 17: a configured abort share is a failure for that share (exit 1), not a warning."""
    d = _explain(_model("fault-abort-partial"))
    assert (d.verdict.value, d.symptom.value, d.share) == ("broken", "http-500", 25)
    faults = {c.objects[0].rule: c for c in d.causes if c.code == "istio-fault-injection"}
    assert set(faults) == {"http[0].fault.abort", "http[0].fault.delay"}
    assert catalog.severity(faults["http[0].fault.abort"]) is Severity.ERROR
    assert catalog.severity(faults["http[0].fault.delay"]) is Severity.WARNING
    assert "25% of requests get 500" in _route_hop(d).detail
    assert "25% of requests" in catalog.summary(faults["http[0].fault.abort"])


def test_weighted_split_to_unknown_host_breaks_that_share() -> None:
    """Issue 17: a weighted destination that breaks makes the call broken for its share."""
    d = _explain(_model("host-split"))
    assert (d.verdict.value, d.symptom.value) == ("broken", "http-503")
    assert d.share is not None and 0 < d.share < 100
    (cause,) = [c for c in d.causes if c.code == "istio-destination-host-unknown"]
    assert catalog.severity(cause) is Severity.ERROR
    assert "httpbin-canary.blue.svc.cluster.local" in catalog.summary(cause)


def test_subset_fix_names_the_destination_rule() -> None:
    d = _explain(_model("subset-missing"))
    (cause,) = d.causes
    assert [r.key() for r in cause.objects] == [
        "VirtualService blue/httpbin http[0].route[0].destination",
        "DestinationRule blue/httpbin subsets",
    ]
    assert "defines only [v1]" in catalog.summary(cause)
    assert "kubectl -n blue edit destinationrule httpbin" in catalog.fix(cause)


def test_registry_only_fix_is_a_service_entry() -> None:
    d = _explain(_model("registry-only"), "api.example.com", "/")
    (cause,) = d.causes
    assert "kind: ServiceEntry" in catalog.fix(cause) and "hosts:\n  - api.example.com" in catalog.fix(cause)


def test_circuit_breaker_info_then_warning_with_503_flows() -> None:
    d = _explain(_model("circuit-breaker"))
    (cause,) = [c for c in d.causes if c.code == "istio-circuit-breaker"]
    assert catalog.severity(cause) is Severity.INFO
    assert cause.objects[0].key() == "DestinationRule blue/httpbin trafficPolicy"
    assert "http1MaxPendingRequests: 1" in catalog.summary(cause)
    assert "maxRequestsPerConnection" not in catalog.summary(cause)  # closes connections, sheds nothing
    d = _explain(_model("circuit-breaker", [_http_flow(503, 0.01), _http_flow(200, 0.01)]))
    (cause,) = [c for c in d.causes if c.code == "istio-circuit-breaker"]
    assert catalog.severity(cause) is Severity.WARNING
    assert "1 HTTP 503" in catalog.summary(cause)


def test_timeout_needs_latency_evidence() -> None:
    assert [c.code for c in _explain(_model("timeout")).causes] == []  # no flows: nothing to compare
    fast = _explain(_model("timeout", [_http_flow(200, 0.1)]))
    assert (fast.verdict.value, [c.code for c in fast.causes]) == ("allowed", [])
    slow = _explain(_model("timeout", [_http_flow(200, 2.0)]))
    assert (slow.verdict.value, slow.symptom.value) == ("broken", "http-504")
    (cause,) = slow.causes
    assert cause.code == "istio-timeout" and cause.objects[0].rule == "http[0].timeout"
    assert "timeout 0.5s" in catalog.summary(cause) and "2s" in catalog.summary(cause)


def test_flows_contradict_a_fault_prediction() -> None:
    d = _explain(_model("fault-abort", [_http_flow(200, 0.01)]))
    assert "flows-contradict-policy" in [c.code for c in d.causes]
    assert d.evidence.agrees is False


def test_routing_findings_mesh_wide() -> None:
    keys = {(c.code, c.objects[0].key()) for c in routing_findings(_model("subset-missing"))}
    assert keys == {("istio-subset-not-found", "VirtualService blue/httpbin http[0].route[0].destination")}
    keys = {(c.code, c.objects[0].key()) for c in routing_findings(_model("host-unknown"))}
    assert keys == {("istio-destination-host-unknown", "VirtualService blue/httpbin http[0].route[0].destination")}
    assert routing_findings(_model("subset-present")) == []
    keys = {(c.code, c.objects[0].key()) for c in routing_findings(_model("gateway-selector"))}
    assert keys == {("istio-gateway-selector-no-match", "Gateway istio-system/public selector")}


def _what_if(case: str, changes: list[Change]) -> Model:
    raw = load_files(iter(_files(case, None)), f"routing/{case}")
    changed, _ = apply_changes(raw, changes)
    return build_model(changed)


def test_what_if_removing_the_fault_or_adding_the_subset_flips_the_verdict() -> None:
    plain = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "httpbin", "namespace": "blue"},
        "spec": {"hosts": ["httpbin"], "http": [{"route": [{"destination": {"host": "httpbin"}}]}]},
    }
    after = _explain(_what_if("fault-abort", [Change("apply", "VirtualService", "blue", "httpbin", RawObject(plain))]))
    assert (after.verdict.value, after.causes) == ("allowed", [])
    after = _explain(_what_if("fault-abort", [Change("delete", "VirtualService", "blue", "httpbin")]))
    assert after.verdict.value == "allowed"
    dr = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "httpbin", "namespace": "blue"},
        "spec": {"host": "httpbin", "subsets": [{"name": "v1"}, {"name": "v2", "labels": {"version": "v1"}}]},
    }
    after = _explain(_what_if("subset-missing", [Change("apply", "DestinationRule", "blue", "httpbin", RawObject(dr))]))
    assert (after.verdict.value, after.causes) == ("allowed", [])


def _ambient(model: Model) -> Model:
    model.namespaces["red"] = type(model.namespaces["red"])("red", {"istio.io/dataplane-mode": "ambient"}, None)
    for pod in model.pods_by_ns["red"]:
        pod.containers = ("netshoot",)
        pod.annotations = {"ambient.istio.io/redirection": "enabled"}
    return model


def test_ambient_client_without_waypoint_skips_routing() -> None:
    d = _explain(_ambient(_model("fault-abort")))
    hop = _route_hop(d)
    assert d.source.mesh.value == "ambient"
    assert (hop.decision.value, d.verdict.value) == ("skip", "allowed")
    assert "ztunnel does not apply routing" in hop.detail


def test_ambient_client_with_waypoint_applies_the_route() -> None:
    d = _explain(_ambient(_model("fault-abort-waypoint")))
    assert (d.verdict.value, d.symptom.value) == ("broken", "http-503")
    assert "waypoint blue/waypoint" in _route_hop(d).detail
    assert _route_hop(d).leg == "waypoint blue/waypoint"


@pytest.mark.parametrize(
    ("pattern", "host", "ok"),
    [("*", "a.b", True), ("*.blue.svc.cluster.local", "httpbin.blue.svc.cluster.local", True), ("*.b", "b", False)],
)
def test_host_matches(pattern: str, host: str, ok: bool) -> None:
    assert rt.host_matches(pattern, host) is ok


def test_short_names_resolve_in_the_objects_namespace() -> None:
    assert rt.fqdn("httpbin", "blue") == "httpbin.blue.svc.cluster.local"
    assert rt.fqdn("httpbin.blue", "red") == "httpbin.blue"  # dots: taken as written (Istio)


@pytest.mark.parametrize(
    ("match", "text", "ok"),
    [
        (StringMatch("prefix", "/api"), "/api/x", True),
        (StringMatch("exact", "/api"), "/api/x", False),
        (StringMatch("regex", "/ap."), "/api/x", False),  # RE2 full match
        (StringMatch("regex", "/api/.*"), "/api/x", True),
    ],
)
def test_string_match(match: StringMatch, text: str, ok: bool) -> None:
    assert match.matches(text) is ok
