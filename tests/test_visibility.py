"""Issue 11 §3: exportTo on Services (annotation), VirtualService/DestinationRule/ServiceEntry and
the mesh defaults; a host hidden from the client's namespace is unknown to its proxy
(istio-host-not-exported). Fixture that fires + near miss (tests/fixtures/routing/<case>/)."""

from __future__ import annotations

import pytest

from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Severity
from tests.test_routing import _explain, _model, _route_hop

ANNOTATION = "Service blue/httpbin metadata.annotations[networking.istio.io/exportTo]"
TABLE = [
    ("export-service-hidden", "broken", "http-502", ANNOTATION),
    ("export-service-visible", "allowed", "ok", None),
    ("export-mesh-default", "broken", "http-502", ANNOTATION),
    ("export-route-dest-hidden", "broken", "http-503", "VirtualService blue/httpbin http[0].route[0].destination"),
    ("subset-present", "allowed", "ok", None),
]


@pytest.mark.parametrize(("case", "verdict", "symptom", "ref"), TABLE)
def test_export_to(case: str, verdict: str, symptom: str, ref: str | None) -> None:
    d = _explain(_model(case))
    assert (d.verdict.value, d.symptom.value) == (verdict, symptom), _route_hop(d).detail
    codes = [c.code for c in d.causes if c.code.startswith("istio-")]
    if ref is None:
        assert codes == []
        return
    assert codes == ["istio-host-not-exported"]
    (cause,) = [c for c in d.causes if c.code == "istio-host-not-exported"]
    assert ref in [r.key() for r in cause.objects]
    text = catalog.summary(cause)
    assert "not visible from namespace red" in text and "?" not in text, text
    assert "add red" in catalog.fix(cause)


def test_mesh_default_is_named() -> None:
    d = _explain(_model("export-mesh-default"))
    (cause,) = d.causes
    assert "exportTo [.] (mesh default)" in catalog.summary(cause)
    assert "defaultServiceExportTo" in catalog.fix(cause)


def test_passthrough_plaintext_then_strict_server() -> None:
    d = _explain(_model("export-service-passthrough"))
    assert d.verdict.value == "broken"
    hidden = [c for c in d.causes if c.code == "istio-host-not-exported"]
    assert hidden and catalog.severity(hidden[0]) is Severity.WARNING
    assert "passes the connection through untouched" in _route_hop(d).detail
    server = next(h for h in d.hops if h.hop.value == "server-proxy")
    assert server.decision.value in ("break", "deny") and "plaintext" in server.detail


def test_hidden_virtual_service_is_not_applied() -> None:
    d = _explain(_model("export-vs-hidden"))
    assert (d.verdict.value, d.causes) == ("allowed", [])
    assert "VirtualService blue/httpbin (exportTo [.]) not exported to red: not applied" in _route_hop(d).detail
    near = _explain(_model("fault-abort"))
    assert near.verdict.value == "broken"


def test_hidden_destination_rule_names_its_export_to() -> None:
    d = _explain(_model("export-dr-hidden"))
    assert (d.verdict.value, d.symptom.value) == ("broken", "http-503")
    (cause,) = d.causes
    assert cause.code == "istio-subset-not-found"
    assert "DestinationRule blue/httpbin (exportTo [.]) defines subsets" in catalog.summary(cause)
    assert _explain(_model("subset-present")).verdict.value == "allowed"
