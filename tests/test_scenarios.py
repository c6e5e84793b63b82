"""Table-driven semantics tests: one folder per rule or trap under tests/scenarios/.

Each folder holds ``objects.yaml`` (small, partial objects), optional ``flows.jsonl``
and ``case.yaml``::

    cases:
      - name: same-namespace-allowed        # optional, used in the test id
        query: {source: blue/client, destination: blue/server, port: 80,
                method: GET, path: /, protocol: tcp}
        expect:
          verdict: allowed                  # required
          symptom: ok
          share: 30                         # percent of requests that get the symptom (null = all)
          causes: [cilium-policy-denied]    # codes, compared as a set
          hop: cilium-ingress               # first hop deciding deny/break (null = none)
          by: ["CiliumNetworkPolicy blue/p spec.ingress[0]"]   # refs of that hop, as a set
          detail: "TCP/15008"               # substring of that hop's detail
          source_mesh: sidecar              # source.mesh / destination.mesh
          destination_mesh: ambient

A case may carry ``xfail: <reason>`` for a known engine disagreement with
semantics.md (strict: it fails loudly once the engine is fixed).
Only the listed keys are compared. The real CLI runs in-process and its exit code
must match the verdict (allowed 0, denied/broken 1, unknown 3).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SCENARIOS = Path(__file__).parent / "scenarios"
EXIT = {"allowed": 0, "denied": 1, "broken": 1, "unknown": 3}
EXPECT_KEYS = {"verdict", "symptom", "share", "causes", "hop", "by", "detail", "source_mesh", "destination_mesh"}
QUERY_KEYS = {"source", "destination", "port", "method", "path", "protocol", "headers", "host", "app_protocol", "via"}


def _cases() -> list[Any]:
    params = []
    for folder in sorted(p for p in SCENARIOS.iterdir() if (p / "case.yaml").is_file()):
        doc = yaml.safe_load((folder / "case.yaml").read_text())
        for i, case in enumerate(doc["cases"]):
            name = case.get("name") or str(i)
            # a known engine disagreement with semantics.md: strict, so a fix turns it red
            marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
            params.append(pytest.param(folder, case, id=f"{folder.name}/{name}", marks=marks))
    return params


def _ref(ref: dict[str, Any]) -> str:
    where = f"{ref['namespace']}/{ref['name']}" if ref.get("namespace") else ref["name"]
    text = f"{ref['kind']} {where}"
    return f"{text} {ref['rule']}" if ref.get("rule") else text


def _run(folder: Path, query: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    args = ["explain", query["source"], query["destination"], "--from", str(folder), "-o", "json"]
    for key in ("port", "method", "path", "protocol", "host", "app_protocol", "via"):
        if query.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", str(query[key])]
    for header in query.get("headers") or ():
        args += ["-H", header]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"exit {result.exit_code}, not JSON:\n{result.output}")
    return result.exit_code, doc


def _first_break(doc: dict[str, Any]) -> dict[str, Any] | None:
    return next((h for h in doc["hops"] if h["decision"] in ("deny", "break")), None)


def test_every_folder_has_objects_and_cases() -> None:
    folders = [p for p in SCENARIOS.iterdir() if p.is_dir()]
    assert len(folders) >= 35
    for folder in folders:
        assert (folder / "objects.yaml").is_file(), folder.name
        assert (folder / "case.yaml").is_file(), folder.name


@pytest.mark.parametrize(("folder", "case"), _cases())
def test_scenario(folder: Path, case: dict[str, Any]) -> None:
    query, expect = case["query"], case["expect"]
    assert set(query) <= QUERY_KEYS, set(query) - QUERY_KEYS
    assert set(expect) <= EXPECT_KEYS, set(expect) - EXPECT_KEYS
    assert "verdict" in expect, "every case states a verdict"
    code, doc = _run(folder, query)
    got: dict[str, Any] = {
        "verdict": doc["verdict"],
        "symptom": doc["symptom"],
        "share": doc.get("share"),  # percent of requests that fail; absent = every request
        "causes": sorted({c["code"] for c in doc["causes"]}),
        "source_mesh": doc["source"]["mesh"],
        "destination_mesh": doc["destination"]["mesh"],
    }
    hop = _first_break(doc)
    got["hop"] = hop["name"] if hop else None
    got["by"] = sorted({_ref(r) for r in hop["by"]}) if hop else []
    want = dict(expect)
    if "causes" in want:
        want["causes"] = sorted(set(want["causes"]))
    if "by" in want:
        want["by"] = sorted(set(want["by"]))
    if "detail" in want:
        got["detail"] = want["detail"] if hop and want["detail"] in hop["detail"] else (hop or {}).get("detail")
    summary = {"hops": [(h["name"], h["decision"], h["detail"]) for h in doc["hops"]]}
    assert {k: got[k] for k in want} == want, summary
    assert code == EXIT[doc["verdict"]], (code, doc["verdict"])
