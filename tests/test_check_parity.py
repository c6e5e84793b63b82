"""`check` finds, mesh-wide, every object-level cause `explain` finds on a call (one rule, two
questions): over every bundled demo (all client -> server pairs) and every fixture scenario (its
queries), and reports no error on the healthy baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_meshdoctor import app
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.matrix import is_server, workloads
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings import catalog
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.sources.demo import list_demos
from kubectl_meshdoctor.sources.snapshot import read_snapshot

SCENARIOS = Path(__file__).parent / "scenarios"
KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "Pod": "pod"}
# causes check reports only in a narrower form, each for a documented reason (catalog `check` text)
NARROWER = {
    # STRICT is meant to refuse plaintext: check says so only where a Cilium policy admits the client
    "istio-mtls-strict-plaintext",
}


def object_level(cause: Cause) -> bool:
    spec = catalog.CAUSES[cause.code]
    if not spec.check or cause.code in NARROWER:
        return False
    if cause.code == "cilium-policy-denied":  # only the HBONE gap is a property of the objects
        return "15008" in cause.params.get("port", "")
    if cause.code == "dns-egress-blocked" and "REFUSED" in cause.detail:
        return False  # a DNS rule refusing one name: the name is the call's, not the objects'
    if cause.code == "port-mismatch":  # an undeclared container port is only "likely" wrong
        if "does not expose port" in cause.params.get("why", ""):
            return False  # the question names a port the Service lacks: the call's, not the objects'
        return not any(ref.kind == "Pod" for ref in cause.objects)
    return True


def explained(model: Model, queries: list[Query]) -> dict[str, set[str]]:
    """code -> the namespaces of the objects explain blamed."""
    out: dict[str, set[str]] = {}
    for q in queries:
        try:
            d = app.explain(model, q)
        except MeshdoctorError:
            continue
        for c in d.causes:
            if object_level(c):
                out.setdefault(c.code, set()).update(r.namespace or "" for r in c.objects)
    return out


def pair_queries(model: Model) -> list[Query]:
    chosen = workloads(model, None, {})
    servers = [w for w in chosen if is_server(model, w)]
    out = []
    for c in chosen:
        for s in servers:
            if (c.namespace, c.name) != (s.namespace, s.name):
                src = f"{c.namespace}/{KINDS[c.kind]}/{c.name}"
                dst = f"{s.namespace}/{KINDS[s.kind]}/{s.name}"
                out.append(Query(src, dst, c.namespace, no_flows=True))
    return out


def case_queries(folder: Path) -> list[Query]:
    doc = yaml.safe_load((folder / "case.yaml").read_text())
    out = []
    for case in doc["cases"]:
        q: dict[str, Any] = case["query"]
        out.append(
            Query(
                q["source"],
                q["destination"],
                port=q.get("port"),
                protocol=str(q.get("protocol", "TCP")).upper(),
                method=q.get("method", "GET"),
                path=q.get("path", "/"),
                no_flows=True,
            )
        )
    return out


def assert_check_covers(model: Model, expected: dict[str, set[str]]) -> None:
    found: dict[str, set[str]] = {}
    for f in app.check(model, None).findings:
        found.setdefault(f.cause.code, set()).update(r.namespace or "" for r in f.cause.objects)
    missing = {code: ns for code, ns in expected.items() if code not in found}
    assert not missing, f"explain finds {sorted(missing)} but check does not (check found {sorted(found)})"
    for code, namespaces in expected.items():
        if code in app.CLUSTER_CODES:  # cluster-wide settings: check names cilium-config itself
            continue
        assert namespaces & found[code], f"{code}: explain blames {namespaces}, check {found[code]}"


@pytest.mark.parametrize("demo", [d.name for d in list_demos()])
def test_check_reports_every_object_level_cause_of_a_demo(demo: str) -> None:
    model = app.build_model(app.load_raw(app.SourceOptions(demo_name=demo)))
    assert_check_covers(model, explained(model, pair_queries(model)))


@pytest.mark.parametrize(
    "folder", sorted(p for p in SCENARIOS.iterdir() if (p / "case.yaml").is_file()), ids=lambda p: p.name
)
def test_check_reports_every_object_level_cause_of_a_scenario(folder: Path) -> None:
    model = app.build_model(read_snapshot(str(folder)))
    assert_check_covers(model, explained(model, case_queries(folder) + pair_queries(model)))


@pytest.mark.parametrize("demo", ["sidecar-s0-baseline", "ambient-a0-baseline"])
def test_healthy_baselines_have_no_error(demo: str) -> None:
    model = app.build_model(app.load_raw(app.SourceOptions(demo_name=demo)))
    result = app.check(model, None)
    errors = [f.cause.code for f in result.findings if catalog.severity(f.cause).value == "error"]
    assert errors == []
    assert result.exit_code == 0


def test_walkthrough_demos_are_no_longer_green() -> None:
    """The issue's complaint: check said ✓ where explain says the call breaks."""
    for demo, code in (
        ("sidecar-s2-l7-policy", "cilium-l7-vs-istio-mtls"),
        ("ambient-a2-l7-policy", "cilium-l7-unreachable-ambient"),
        ("ambient-a1-l4-port80", "cilium-policy-denied"),
        ("ambient-a2-l7-port15008", "cilium-l7-vs-istio-mtls"),
    ):
        model = app.build_model(app.load_raw(app.SourceOptions(demo_name=demo)))
        result = app.check(model, None)
        assert code in {f.cause.code for f in result.findings}, demo
        assert result.exit_code == 1
