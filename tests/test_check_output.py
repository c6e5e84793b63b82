"""`check` as a CI user sees it: exit codes, JSON with related istioctl codes, SARIF 2.1.0."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.findings import catalog


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_unknown_namespace_is_a_usage_error_with_a_suggestion() -> None:
    code, out, err = run("-n", "blu", "--demo", "sidecar-s0-baseline")
    assert code == 2
    assert "did you mean blue" in err
    assert "✓" not in out


def test_s2_json_names_the_cause_its_objects_and_no_gaps() -> None:
    code, out, _ = run("-A", "--demo", "sidecar-s2-l7-policy", "-o", "json")
    assert code == 1
    doc = json.loads(out)
    found = [f for f in doc["findings"] if f["code"] == "cilium-l7-vs-istio-mtls"]
    assert found and found[0]["severity"] == "error"
    assert found[0]["objects"][0]["rule"].endswith("rules.http")
    # mesh-wide, the finding names the server the policy breaks, not only the policy
    assert {"kind": "Service", "namespace": "blue", "name": "httpbin"}.items() <= found[0]["objects"][-1].items()
    assert "PeerAuthentication" in found[0]["fixYaml"]
    assert set(found[0]) >= {"code", "severity", "summary", "objects", "fix", "related"}
    assert doc["gaps"] == []


def test_related_istioctl_codes_are_printed() -> None:
    code, out, _ = run("-A", "--demo", "routing-subset-missing", "-o", "json")
    doc = json.loads(out)
    subset = next(f for f in doc["findings"] if f["code"] == "istio-subset-not-found")
    assert subset["related"] == ["IST0101"]
    assert code == 1


def test_sarif_is_structurally_valid_2_1_0() -> None:
    code, out, _ = run("-A", "--demo", "ambient-a2-l7-policy", "-o", "sarif")
    assert code == 1
    doc = json.loads(out)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "meshdoctor" and driver["rules"]
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["id"] in catalog.CAUSES
        assert rule["shortDescription"]["text"] and rule["defaultConfiguration"]["level"] in (
            "error",
            "warning",
            "note",
        )
    assert run_["results"]
    for result in run_["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note", "none")
        assert result["message"]["text"]
        for loc in result["locations"]:
            assert loc["logicalLocations"][0]["name"]
            if "physicalLocation" in loc:
                assert loc["physicalLocation"]["artifactLocation"]["uri"]
                assert loc["physicalLocation"]["region"]["startLine"] >= 1
    assert {"cilium-policy-denied", "cilium-l7-unreachable-ambient"} <= {r["ruleId"] for r in run_["results"]}


def test_sarif_points_at_the_file_and_line_offline(tmp_path) -> None:
    (tmp_path / "vs.yaml").write_text(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  hosts: [web]\n  gateways: [missing-gw]\n  http: [{route: [{destination: {host: web}}]}]\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
        "spec: {selector: {app: web}, ports: [{port: 80}]}\n"
    )
    code, out, _ = run("-A", "--from", str(tmp_path), "-o", "sarif")
    doc = json.loads(out)
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    gw = results["istio-gateway-not-found"]
    physical = gw["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("vs.yaml") and physical["region"]["startLine"] >= 1
    assert code == 1


def test_text_says_no_problems_on_a_clean_cluster(tmp_path) -> None:
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    code, out, _ = run("-A", "--from", str(tmp_path))
    assert code == 0
    assert out.startswith("✓ no Cilium+Istio interop problems found")


def test_text_lists_findings_and_exit_zero_when_healthy() -> None:
    code, out, _ = run("-A", "--demo", "sidecar-s0-baseline")
    assert code == 0
    assert "ERROR" not in out and "WARNING" not in out  # only infos (e.g. undeclared port protocols)
    code, out, _ = run("-A", "--demo", "sidecar-s2-l7-policy")
    assert code == 1 and "ERROR    cilium-l7-vs-istio-mtls" in out


DEMOS = sorted(p.name for p in (Path(__file__).parent.parent / "kubectl_meshdoctor" / "demos").iterdir() if p.is_dir())


@pytest.mark.parametrize("demo", DEMOS)
def test_each_problem_is_reported_once_in_whole_sentences(demo: str) -> None:
    _, out, _ = run("-A", "--demo", demo, "-o", "json")
    findings = json.loads(out)["findings"]
    said = [(f["code"], f["summary"]) for f in findings]
    assert len(said) == len(set(said)), said  # one finding per problem, however many analyzers saw it
    objects = [(f["code"], json.dumps(f["objects"], sort_keys=True)) for f in findings]
    assert len(objects) == len(set(objects))
    for _, summary in said:
        assert summary == summary.strip() and not re.search(r"\b(matching|requests|on|the|of|to)$", summary), summary


def test_a_problem_two_analyzers_see_names_every_object_once() -> None:
    _, out, _ = run("-A", "--demo", "routing-subset-no-endpoints", "-o", "json")
    (hit,) = [f for f in json.loads(out)["findings"] if f["code"] == "istio-subset-no-endpoints"]
    assert [o["kind"] for o in hit["objects"]] == ["VirtualService", "DestinationRule"]


def test_a_fault_finding_says_which_requests_it_hits() -> None:
    _, out, _ = run("-A", "--demo", "routing-fault-abort", "-o", "json")
    (hit,) = [f for f in json.loads(out)["findings"] if f["code"] == "istio-fault-injection"]
    assert "100% of requests on the route matching any request; " in hit["summary"]
    assert hit["summary"].endswith("every matching request gets 503")  # a whole sentence, not cut


def test_every_cause_code_has_a_title() -> None:
    from kubectl_meshdoctor.findings.titles import FIXES, TITLES

    assert set(TITLES) == set(catalog.CAUSES)
    pure = {c for c, s in catalog.CAUSES.items() if not re.sub(r"\{\w+\}", "", s.fix).strip(" ;:,.")}
    assert pure <= set(FIXES)


@pytest.mark.parametrize("demo", ["ambient-w1-waypoint", "routing-fault-abort", "sidecar-s2-l7-policy"])
def test_sarif_rules_are_filled_and_demo_results_located(demo: str) -> None:
    """Code scanning shows rule text and needs a file for each result: no unfilled {template}."""
    _, out, _ = run("-A", "--demo", demo, "-o", "sarif")
    (sarif_run,) = json.loads(out)["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["informationUri"].startswith("https://")
    for rule in driver["rules"]:
        texts = [rule["shortDescription"]["text"], rule["fullDescription"]["text"], rule["help"]["text"]]
        assert not [t for t in texts if re.search(r"\{\w*\}", t)], rule
        assert rule["shortDescription"]["text"] != rule["id"] and rule["helpUri"].endswith(f"#{rule['id']}")
    root = Path(__file__).parent.parent
    assert sarif_run["results"]
    for result in sarif_run["results"]:
        physical = [loc["physicalLocation"] for loc in result["locations"] if "physicalLocation" in loc]
        assert physical, result
        for p in physical:
            path = root / p["artifactLocation"]["uri"]
            assert path.is_file(), path
            line = p["region"]["startLine"]
            assert 1 <= line <= len(path.read_text().splitlines())
