"""Fixes you can apply blind (issue 17): for every bundled demo and every test scenario whose answer
proposes a fix, the proposed fix — fed back through --what-if — makes the call work; no call of the
whole matrix outside the reported blast radius changes verdict; and no request the user's policies
refuse for another reason (another method, path, port or peer) is let through."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor import app
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.explain import explain
from kubectl_meshdoctor.diagnosis.fix_proof import OTHER_PATH, SYSTEM
from kubectl_meshdoctor.diagnosis.matrix import is_server, workloads
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.model.objects import Workload
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.sources.demo import list_demos, read_demo
from kubectl_meshdoctor.sources.snapshot import read_snapshot

SCENARIOS = Path(__file__).parent / "scenarios"
KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}


def _demo_cases() -> list[Any]:
    out = []
    for demo in list_demos():
        _, _, tried = demo.description.partition("try: ")
        words = shlex.split(tried)
        if words[:1] == ["explain"]:
            out.append(pytest.param(["--demo", demo.name], words[1:], id=f"demo:{demo.name}"))
    return out


def _scenario_cases() -> list[Any]:
    out = []
    for folder in sorted(p for p in SCENARIOS.iterdir() if (p / "case.yaml").is_file()):
        for case in yaml.safe_load((folder / "case.yaml").read_text())["cases"]:
            if case["expect"]["verdict"] not in ("denied", "broken") or case.get("xfail"):
                continue
            q = case["query"]
            args = [q["source"], q["destination"]]
            for key in ("port", "method", "path", "protocol", "host", "app_protocol", "via"):
                if q.get(key) is not None:
                    args += [f"--{key.replace('_', '-')}", str(q[key])]
            for header in q.get("headers") or ():
                args += ["-H", header]
            out.append(pytest.param(["--from", str(folder)], args, id=f"{folder.name}/{case['name']}"))
    return out


def _answer(source: list[str], args: list[str], *more: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["explain", *args, *source, "--no-flows", "-o", "json", *more])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return json.loads(result.stdout)


def _ref(w: Workload) -> str:
    return f"{w.namespace}/pod/{w.name}" if w.kind == "Pod" else f"{w.namespace}/{KINDS[w.kind]}/{w.name}"


def _matrix(model: Model, method: str, path: str) -> dict[tuple[Any, ...], str]:
    """Every call among the workloads in view, on every Service port, for the request and its near ones."""
    chosen = [w for w in workloads(model, None, {}) if w.namespace not in SYSTEM]
    out: dict[tuple[Any, ...], str] = {}
    for c in chosen:
        for s in (w for w in chosen if is_server(model, w)):
            if (c.namespace, c.name) == (s.namespace, s.name):
                continue
            ports: list[int | None] = [*sorted({p.port for v in services_for(model, s.pods) for p in v.ports})]
            for port in ports or [None]:
                for m, p in ((method, path), ("POST" if method != "POST" else "PUT", path), (method, OTHER_PATH)):
                    query = Query(_ref(c), _ref(s), c.namespace, port, "TCP", m, p, no_flows=True)
                    try:
                        d = explain(model, query)
                    except MeshdoctorError:
                        continue
                    key = (f"{c.namespace}/{c.name}", f"{s.namespace}/{s.name}", d.destination.port, m, p)
                    out[key] = d.verdict.value
    return out


@pytest.mark.parametrize(("source", "args"), _demo_cases() + _scenario_cases())
def test_proposed_fix_resolves_and_opens_only_its_blast_radius(
    tmp_path: Path, source: list[str], args: list[str]
) -> None:
    doc = _answer(source, args)
    proposed = [f for f in doc["fixes"] if f["proposed"]]
    if not proposed:
        pytest.skip("no ready-to-apply fix for this answer")
    (fix,) = proposed
    assert fix["resolves"]["after"] == "allowed", fix["resolves"]
    assert fix["intent"]["widened"] == [], fix["intent"]["widened"]
    manifest = tmp_path / "fix.yaml"
    manifest.write_text("---\n".join(m + "\n" for m in fix["manifests"]))
    after = _answer(source, args, "--what-if", str(manifest))
    assert after["verdict"] == "allowed", [(h["name"], h["decision"], h["detail"]) for h in after["hops"]]
    # the whole matrix, independently of the namespaces the proof looked at
    raw = read_demo(source[1]) if source[0] == "--demo" else read_snapshot(source[1])
    changed, _ = app.what_if(raw, (str(manifest),), ())
    method, path = doc["request"]["method"], doc["request"]["path"]
    before_m, after_m = _matrix(app.build_model(raw), method, path), _matrix(changed, method, path)
    reported = {
        (c["source"], c["destination"], c["port"], c["method"], c["path"]) for c in fix["blastRadius"]["changes"]
    }
    asked = (
        f"{doc['source']['namespace']}/{doc['source']['workload']}",
        f"{doc['destination']['namespace']}/{doc['destination']['workload']}",
        doc["destination"]["port"],
        method,
        path,
    )
    moved = (fix["resolves"]["before"], fix["resolves"]["after"])

    def same_call(key: tuple[Any, ...]) -> bool:  # the question's peer and port: what the fix opens
        return key[:3] == asked[:3] and (before_m[key], after_m.get(key)) == moved

    unreported = [
        (key, before_m[key], after_m.get(key))
        for key in before_m
        if after_m.get(key) != before_m[key] and key not in reported and key != asked and not same_call(key)
    ]
    assert not unreported, unreported
