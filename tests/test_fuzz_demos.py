"""Fuzz: every bundled demo's objects with fields replaced by wrong types and values (seeded, thousands
of mutations, bounded time). Whatever the input: no traceback, no internal error, an exit code in
{0,1,2,3}, and an object mutated into one the API server would reject is named in the answer."""

from __future__ import annotations

import copy
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor import app
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.model.build import build_model
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.sources.decode import Scope
from kubectl_meshdoctor.sources.demo import read_demo
from kubectl_meshdoctor.sources.live import namespaces_for
from kubectl_meshdoctor.validation import Validator

DEMOS = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos"
SEED = 20261129
BUDGET_S = 40.0  # in-process mutations share this; the CLI sample is extra (one in CLI_EVERY)
CLI_EVERY = 60
WRONG: tuple[Any, ...] = (
    None, "x", "", "STRIKT", 12345, -1, 0, 70000, 1.5, True, [], {}, ["a"], {"k": "v"}, "not-a-list", "🙂\x1b[31m",
)  # fmt: skip


def _try_query(demo: Path) -> Query:
    """The call the demo's DESCRIPTION suggests (`try: explain SRC DST [--path P]`)."""
    text = (demo / "DESCRIPTION").read_text()
    found = re.search(r"try: explain (\S+) (\S+)(?: --path (\S+))?", text)
    assert found, demo
    return Query(source=found.group(1), destination=found.group(2), path=found.group(3) or "/")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field path inside ``node`` (dict keys and list indexes), containers included."""
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    fields = [p for p in _paths(doc) if p[0] not in ("apiVersion", "kind") and p[:2] != ("metadata", "name")]
    # metadata itself, its name and namespace stay: the readers drop a document without them (decode.py)
    fields = [p for p in fields if p != ("metadata",) and p[:2] != ("metadata", "namespace")]
    if not fields:
        return None
    path = rng.choice(fields)
    out = copy.deepcopy(doc)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = copy.deepcopy(rng.choice(WRONG))
    return out


def _key(doc: dict[str, Any]) -> str:
    meta = doc["metadata"]
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{doc['kind']} {ns}{meta['name']}"


def _answer(raw: RawSnapshot, query: Query, validator: Validator) -> tuple[int, str]:
    """explain and check in-process, as the CLI runs them: (exit code, everything the user would read)."""
    model = build_model(raw, validator)
    try:
        diagnosis = app.explain(model, query)
    except MeshdoctorError as err:
        return err.exit_code, str(err) + " ".join(model.gaps)
    findings = [f.cause for f in app.check(model, None).findings]
    text = " ".join([*diagnosis.gaps, *(c.params.get("object", "") for c in diagnosis.causes)])
    text += " ".join(c.params.get("object", "") for c in findings)
    return app.exit_code(diagnosis), text


def _cli(tmp_path: Path, objects: list[RawObject], query: Query) -> tuple[int, str]:
    snap = tmp_path / f"snap{time.monotonic_ns()}"
    snap.mkdir()
    (snap / "objects.yaml").write_text(yaml.safe_dump_all([o.doc for o in objects], allow_unicode=True))
    args = ["explain", query.source, query.destination, "--path", query.path, "--from", str(snap), "-o", "json"]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("seed", [SEED])
def test_mutated_demos_never_crash_and_name_invalid_objects(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    validator = Validator()
    demos = sorted(d for d in DEMOS.iterdir() if (d / "DESCRIPTION").is_file())
    inputs = [(read_demo(d.name), _try_query(d)) for d in demos]
    deadline = time.monotonic() + BUDGET_S
    runs = invalid = via_cli = 0
    codes: dict[int, int] = {}
    while time.monotonic() < deadline:
        raw, query = inputs[runs % len(inputs)]
        index = rng.randrange(len(raw.objects))
        mutated = _mutate(raw.objects[index].doc, rng)
        if mutated is None:
            continue
        objects = list(raw.objects)
        objects[index] = RawObject(mutated, raw.objects[index].origin)
        changed = RawSnapshot(objects, raw.flows, list(raw.gaps), list(raw.warnings), raw.flow_source)
        is_invalid = bool(validator.validate(mutated))
        label = f"{json.dumps(mutated)[:300]} ({query.source} -> {query.destination})"
        code, text = _answer(changed, query, validator)
        assert code in (0, 1, 2, 3), label
        if is_invalid:
            invalid += 1
            assert _key(mutated) in text, label
        if runs % CLI_EVERY == 0:
            via_cli += 1
            cli_code, out = _cli(tmp_path, objects, query)
            assert cli_code in (0, 1, 2, 3) and "Traceback" not in out and "internal error" not in out, (label, out)
            # offline explain reads only the question's namespaces (as live does, issue 13): objects
            # elsewhere are neither read nor reported
            scope = namespaces_for([query.source, query.destination], query.namespace)
            read = scope is None or Scope(frozenset(scope)).keeps(mutated)
            if is_invalid and cli_code != 2 and read:
                assert _key(mutated) in out, (label, out)
        codes[code] = codes.get(code, 0) + 1
        runs += 1
    print(f"\nfuzz: {runs} mutations over {len(inputs)} demos, {invalid} invalid, {via_cli} via the CLI, exits {codes}")
    assert runs >= 800 and invalid >= runs // 5  # ~2,200 runs on an idle 2-core machine
