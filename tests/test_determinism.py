"""The same objects in any order give the same answer (issue 10 item 6).

A real API server lists each kind sorted by namespace and name; files list objects as written;
tests shuffle. None of that may change a byte of the answer: the representative pod, the order of
pods, the rule cited first, the gaps. Every bundled demo is checked with two pods per workload
(where the choice of a representative shows), in-process for many pairs, and through the real CLI
against the playground API server for explain, matrix and check.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor import app
from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.matrix import matrix
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.playground.kubeapi import KubeApiServer
from kubectl_meshdoctor.playground.main import write_kubeconfig
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.render.document import cause_dict, diagnosis_dict, dump
from kubectl_meshdoctor.sources.demo import list_demos, read_demo

DEMOS = [d.name for d in list_demos()]
SEEDS = (1, 2, 3)


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    return doc.get("metadata") or {}


def with_second_replicas(raw: RawSnapshot) -> RawSnapshot:
    """Every pod gets a ready sibling (same owner and labels, the next IP, a name sorting first), and
    the EndpointSlices list it: every workload then has two pods to choose a representative from."""
    siblings: dict[tuple[str, str], tuple[str, str | None]] = {}
    objects = list(raw.objects)
    for obj in raw.objects:
        if obj.doc.get("kind") != "Pod":
            continue
        doc = copy.deepcopy(obj.doc)
        name = str(_meta(doc)["name"])
        twin = f"{name.rsplit('-', 1)[0]}-aaaaa" if "-" in name else f"{name}-aaaaa"
        doc["metadata"]["name"] = twin
        status = doc.get("status") or {}
        ip = status.get("podIP")
        if isinstance(ip, str) and ip.count(".") == 3 and not (doc.get("spec") or {}).get("hostNetwork"):
            head, last = ip.rsplit(".", 1)
            status["podIP"] = f"{head}.{(int(last) + 100) % 250 + 1}"
            status["podIPs"] = [{"ip": status["podIP"]}]
        siblings[(str(_meta(doc).get("namespace")), name)] = (twin, status.get("podIP") if ip else None)
        objects.append(RawObject(doc, obj.origin))
    out: list[RawObject] = []
    for obj in objects:
        if obj.doc.get("kind") == "EndpointSlice":
            doc = copy.deepcopy(obj.doc)
            ns = str(_meta(doc).get("namespace"))
            extra = []
            for endpoint in doc.get("endpoints") or []:
                ref = (endpoint or {}).get("targetRef") or {}
                twin = siblings.get((str(ref.get("namespace") or ns), str(ref.get("name"))))
                if twin is not None:
                    more = copy.deepcopy(endpoint)
                    more["targetRef"]["name"] = twin[0]
                    if twin[1]:
                        more["addresses"] = [twin[1]]
                    extra.append(more)
            doc["endpoints"] = [*(doc.get("endpoints") or []), *extra]
            obj = RawObject(doc, obj.origin)
        out.append(obj)
    return dataclasses.replace(raw, objects=out)


def reorderings(objects: list[RawObject]) -> Iterator[tuple[str, list[RawObject]]]:
    yield (
        "by-name",
        sorted(objects, key=lambda o: (str(_meta(o.doc).get("namespace") or ""), str(_meta(o.doc)["name"]))),
    )
    yield "reversed", list(reversed(objects))
    for seed in SEEDS:
        shuffled = list(objects)
        random.Random(seed).shuffle(shuffled)
        yield f"seed-{seed}", shuffled


def answers(raw: RawSnapshot) -> dict[str, str]:
    """explain -o json for every client -> server pair (by workload, Service and DNS name), the
    matrix cells and the check findings, as the strings the CLI prints."""
    model = app.build_model(raw)
    clients, servers, cells = matrix(model, None, {}, "GET", "/", False)
    out = {
        "matrix": dump({"cells": [dataclasses.asdict(c) for c in cells], "gaps": list(model.gaps)}, "json"),
        "check": dump([cause_dict(f.cause) for f in app.check(model, None).findings], "json"),
    }
    destinations = [f"{s.namespace}/{s.name}" for s in servers]
    for svc in model.services.values():
        destinations += [f"{svc.namespace}/svc/{svc.name}", f"{svc.name}.{svc.namespace}"]
    for client in clients:
        for destination in destinations:
            query = Query(f"{client.namespace}/{client.name}", destination, "default", path="/ip")
            try:
                text = dump(diagnosis_dict(app.explain(model, query)), "json")
            except MeshdoctorError as err:
                text = f"error {err.exit_code}: {err}"
            out[f"{query.source} -> {destination}"] = text
    return out


@pytest.mark.parametrize("demo", DEMOS)
def test_object_order_never_changes_an_answer(demo: str) -> None:
    raw = with_second_replicas(read_demo(demo))
    expected = answers(raw)
    assert any('"pods": [\n      "' in text and "aaaaa" in text for text in expected.values())  # two pods show
    for how, objects in reorderings(raw.objects):
        got = answers(dataclasses.replace(raw, objects=objects))
        different = [key for key in expected if got.get(key) != expected[key]]
        assert not different, f"{demo} listed {how}: {different[:5]}"


def _cli(args: list[str], kubeconfig: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env={"KUBECONFIG": str(kubeconfig), "HUBBLE_SERVER": ""})
    return result.exit_code, result.stdout


@pytest.mark.parametrize("demo", ["sidecar-s2-l7-policy", "routing-subset-missing"])
def test_live_answers_are_byte_identical_whatever_order_the_api_server_lists(demo: str, tmp_path: Path) -> None:
    """The real CLI against the playground API server listing the same objects in other orders."""
    raw = with_second_replicas(read_demo(demo))
    docs = [o.doc for o in raw.objects]
    commands = [
        ["explain", "red/netshoot", "blue/httpbin", "--path", "/ip", "--no-flows", "-o", "json"],
        ["explain", "red/netshoot", "httpbin.blue", "--path", "/ip", "--no-flows", "-o", "json"],
        ["matrix", "-A", "--no-flows", "-o", "json"],
        ["check", "-A"],
        ["check", "-A", "-o", "json"],
    ]
    outputs: dict[str, list[tuple[int, str]]] = {}
    orders = [("as-written", raw.objects), *[(how, o) for how, o in reorderings(raw.objects) if how != "reversed"]]
    for how, objects in orders[:3]:
        server = KubeApiServer([o.doc for o in objects]).start()
        try:
            kubeconfig = write_kubeconfig(tmp_path / how / "config", server.url)
            outputs[how] = [_cli(args, kubeconfig) for args in commands]
        finally:
            server.stop()
    first = outputs["as-written"]
    assert all(out.strip() for _, out in first) and len(docs) > 10
    assert json.loads(first[0][1])["destination"]["pods"] == sorted(json.loads(first[0][1])["destination"]["pods"])
    for how, got in outputs.items():
        for args, a, b in zip(commands, first, got, strict=True):
            assert a == b, f"{demo}: {' '.join(args)} differs when the API lists objects {how}"


IP_REUSE = """\
apiVersion: v1
kind: Namespace
metadata: {name: red}
---
apiVersion: v1
kind: Pod
metadata: {name: client-1, namespace: red, labels: {app: client}}
spec: {containers: [{name: c}]}
status: {phase: Running, podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: server-1, namespace: red, labels: {app: server}}
spec: {containers: [{name: s, ports: [{containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: JOB, namespace: red, labels: {app: job}}
spec: {containers: [{name: j}]}
status: {phase: Succeeded, podIP: 10.0.0.2}
"""


@pytest.mark.parametrize("job", ["aa-job-1", "zz-job-1"])
def test_an_ip_left_by_a_finished_pod_belongs_to_the_running_one(tmp_path: Path, job: str) -> None:
    """Pod IPs are reused once a pod has finished; whichever name sorts first, the IP is the running pod's."""
    (tmp_path / "objects.yaml").write_text(IP_REUSE.replace("JOB", job))
    result = CliRunner().invoke(
        cli, ["explain", "red/client", "10.0.0.2", "--port", "8080", "--from", str(tmp_path), "-o", "json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["destination"]["pods"] == ["server-1"]


def _try_query(demo: str, last: int | None) -> Query:
    words = _try_args(demo)
    path = words[words.index("--path") + 1] if "--path" in words else "/"
    return Query(words[0], words[1], "default", path=path, last=last)


@pytest.mark.parametrize("demo", DEMOS)
def test_flow_order_never_changes_the_evidence(demo: str) -> None:
    """Flows from several nodes or files arrive interleaved: counts, their order in the document and
    `--last N` (the newest N by time) do not depend on it."""
    raw = read_demo(demo)
    for last in (None, 3):
        query = _try_query(demo, last)
        expected = dump(diagnosis_dict(app.explain(app.build_model(raw), query)), "json")
        for seed in SEEDS:
            flows = list(raw.flows)
            random.Random(seed).shuffle(flows)
            got = dump(
                diagnosis_dict(app.explain(app.build_model(dataclasses.replace(raw, flows=flows)), query)), "json"
            )
            assert got == expected, f"{demo} --last {last}: flows in order {seed} change the answer"


@pytest.mark.parametrize("demo", ["sidecar-s3-authn-disable", "ambient-a3-leave-ambient", "routing-sidecar-scope"])
def test_answers_do_not_depend_on_the_hash_seed(demo: str) -> None:
    """Set and dict iteration of strings changes with PYTHONHASHSEED from one run to the next: the
    printed answers must not."""
    import os
    import subprocess
    import sys

    def run(seed: str) -> list[str]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs = []
        for args in (["matrix", "-A", "-o", "json"], ["check", "-A", "-o", "json"], ["explain", *_try_args(demo)]):
            done = subprocess.run(
                [sys.executable, "-m", "kubectl_meshdoctor", *args, "--demo", demo],
                capture_output=True, text=True, env=env, timeout=120, check=False,
            )  # fmt: skip
            outs.append(done.stdout)
        return outs

    first = run("1")
    assert all(first)
    assert run("2") == first


def _try_args(demo: str) -> list[str]:
    import re
    import shlex

    description = next(d.description for d in list_demos() if d.name == demo)
    match = re.search(r"try: explain (.+)$", description)
    assert match, description
    return [*shlex.split(match.group(1)), "-o", "json"]
