"""Meta-tests on the one catalog of cause codes (architecture: Istio messages.yaml habits)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubectl_meshdoctor.findings import catalog

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT.parent / "shared" / "docs" / "contract.md"
PACKAGE = ROOT / "kubectl_meshdoctor"


def _contract_codes() -> list[str]:
    if not CONTRACT.exists():
        pytest.skip("../shared/docs/contract.md not beside the repo")
    section = CONTRACT.read_text().split("## 5.", 1)[1].split("## 6.", 1)[0]
    codes: list[str] = []
    for line in section.splitlines():
        if line.startswith("| `"):
            codes.extend(re.findall(r"`([a-z0-9-]+)`", line.split("|")[1]))
    return codes


def test_codes_are_unique_kebab_case_and_cover_the_contract() -> None:
    codes = [spec.code for spec in catalog._SPECS]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code
    contract = _contract_codes()
    assert len(contract) >= 20
    assert set(contract) <= set(codes)
    assert set(catalog.CONTRACT_CODES) == set(contract)


def _codes_in_source() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "_proto" in path.parts:
            continue
        found |= set(re.findall(r'Cause\(\s*"([a-z0-9-]+)"', path.read_text()))
    return found


def test_every_cause_built_in_code_is_in_the_catalog() -> None:
    used = _codes_in_source()
    assert used, "no Cause(...) found: the scan is broken"
    assert used <= set(catalog.CAUSES), used - set(catalog.CAUSES)


def test_every_active_code_is_produced_somewhere() -> None:
    used = _codes_in_source()
    active = {s.code for s in catalog._SPECS if not s.planned and not s.retired}
    assert active - used == set(), f"catalog codes nothing produces: {sorted(active - used)}"


def test_every_spec_has_summary_fix_and_doc() -> None:
    for spec in catalog._SPECS:
        assert spec.summary and spec.fix and spec.doc, spec.code
        # templates must format with no params (missing ones read "?")
        from kubectl_meshdoctor.findings.types import Cause

        cause = Cause(spec.code)
        assert catalog.summary(cause)
        assert catalog.fix(cause)


def test_engines_do_not_import_click_or_rich() -> None:
    for sub in ("sources", "model", "engines", "diagnosis", "findings"):
        for path in (PACKAGE / sub).rglob("*.py"):
            text = path.read_text()
            assert not re.search(r"^\s*(import|from)\s+(click|rich)\b", text, re.M), path


def test_pure_layers_do_not_import_io_or_upper_layers() -> None:
    """model, engines, findings and validation read raw objects (kubectl_meshdoctor.raw), never the
    I/O layer (sources) or the layers above them (diagnosis, checks, app, cli, render)."""
    above = r"(sources|diagnosis|checks|app|cli|render|playground)"
    for sub in ("model", "engines", "findings", "validation"):
        for path in (PACKAGE / sub).rglob("*.py"):
            text = path.read_text()
            assert not re.search(rf"^\s*(from|import)\s+kubectl_meshdoctor\.{above}\b", text, re.M), path


def test_sources_do_not_import_the_layers_above() -> None:
    """The I/O layer reads what it is asked for: a question's call is resolved above it
    (app_flows.py), so sources never import diagnosis, checks, app, cli or render (issue 18)."""
    above = r"(diagnosis|checks|app|app_flows|app_triage|cli|render)"
    for path in (PACKAGE / "sources").rglob("*.py"):
        text = path.read_text()
        assert not re.search(rf"^\s*(from|import)\s+kubectl_meshdoctor\.{above}\b", text, re.M), path


def test_cause_docs_are_current(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "causes.md"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-cause-docs"), str(out)], check=True)
    assert out.read_text() == (ROOT / "docs" / "causes.md").read_text(), "run scripts/gen-cause-docs"
