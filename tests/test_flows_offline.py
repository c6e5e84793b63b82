"""``flows`` and ``explain`` on real recorded flows, offline (issue 13).

For every pod pair in every sample file, ``flows A B -o jsonpb`` must print exactly the lines of
that pair (both directions, in file order). The expected lines are picked here with a plain
``json.loads`` walk of the file, never by our reader; inputs: the file, a directory, ``.gz``,
stdin, several ``--from``, and a directory that also holds the pods as Kubernetes objects.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "hubble-samples" / "cilium-hubble-otel"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []
needs_samples = pytest.mark.skipif(not SAMPLE_FILES, reason=f"Hubble sample flows not found at {SAMPLES}")

Pod = tuple[str, str]


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ends(line: str) -> tuple[Pod | None, Pod | None]:
    flow = json.loads(line)["flow"]
    out: list[Pod | None] = []
    for side in ("source", "destination"):
        ep = flow.get(side) or {}
        out.append((ep.get("namespace", ""), ep["pod_name"]) if ep.get("pod_name") else None)
    return out[0], out[1]


def _pairs(path: Path) -> dict[frozenset[Pod], list[str]]:
    """Each unordered pod pair -> its lines, in file order."""
    pairs: dict[frozenset[Pod], list[str]] = {}
    for line in _lines(path):
        a, b = _ends(line)
        if a and b:
            pairs.setdefault(frozenset((a, b)), []).append(line)
    return pairs


def _cases() -> list[tuple[Path, Pod, Pod, list[str]]]:
    cases = []
    for path in SAMPLE_FILES:
        for pair, lines in sorted(_pairs(path).items(), key=lambda kv: sorted(kv[0])):
            a, b = sorted(pair) if len(pair) == 2 else (next(iter(pair)),) * 2
            cases.append((path, a, b, lines))
    return cases


CASES = _cases()
IDS = [f"{p.name}:{a[1]}<->{b[1]}" for p, a, b, _ in CASES]


def _ref(pod: Pod) -> str:
    return f"{pod[0]}/pod/{pod[1]}"


def _pod_objects(path: Path) -> list[dict[str, Any]]:
    """The pods of a sample as Kubernetes objects, from what the flows say about them."""
    pods: dict[Pod, dict[str, Any]] = {}
    for line in _lines(path):
        flow = json.loads(line)["flow"]
        for side, ip_key in (("source", "source"), ("destination", "destination")):
            ep = flow.get(side) or {}
            if not ep.get("pod_name"):
                continue
            labels = {}
            for label in ep.get("labels", []):
                src, _, rest = label.partition(":")
                key, _, value = rest.partition("=")
                if src == "k8s" and not key.startswith("io.") and "/" not in key:
                    labels[key] = value
            pods[(ep.get("namespace", ""), ep["pod_name"])] = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": ep["pod_name"], "namespace": ep.get("namespace", ""), "labels": labels},
                "spec": {"containers": [{"name": "app", "image": "app"}]},
                "status": {"podIP": flow.get("IP", {}).get(ip_key, ""), "phase": "Running"},
            }
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in {k[0] for k in pods}]
    return namespaces + list(pods.values())


def _flows(args: list[str], stdin: bytes | None = None) -> list[str]:
    code, out, err = run(["flows", *args, "-o", "jsonpb"], stdin)
    assert code == 0, err
    return out.splitlines()


@needs_samples
def test_every_sample_has_pairs() -> None:
    assert len(CASES) >= 30  # guards the parametrization below against an empty walk


@needs_samples
@pytest.mark.parametrize(("path", "a", "b", "expected"), CASES, ids=IDS)
def test_pair_flows_from_a_file_exactly(path: Path, a: Pod, b: Pod, expected: list[str]) -> None:
    assert _flows([_ref(a), _ref(b), "--from", str(path)]) == expected
    assert _flows([_ref(b), _ref(a), "--from", str(path)]) == expected  # both directions either way round


@needs_samples
@pytest.mark.parametrize(("path", "a", "b", "expected"), CASES, ids=IDS)
def test_pair_flows_from_dir_gz_stdin_and_with_objects(
    tmp_path: Path, path: Path, a: Pod, b: Pod, expected: list[str]
) -> None:
    flows_dir = tmp_path / "flows-only"
    flows_dir.mkdir()
    shutil.copy(path, flows_dir / "capture.jsonl")
    gz = tmp_path / "capture.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with_objects = tmp_path / "with-objects"
    with_objects.mkdir()
    shutil.copy(path, with_objects / "flows.jsonl")
    (with_objects / "pods.yaml").write_text(yaml.safe_dump_all(_pod_objects(path)), encoding="utf-8")
    refs = [_ref(a), _ref(b)]
    assert _flows([*refs, "--from", str(flows_dir)]) == expected
    assert _flows([*refs, "--from", str(gz)]) == expected
    assert _flows([*refs, "--from", "-"], stdin=path.read_bytes()) == expected
    assert _flows([*refs, "--from", "-"], stdin=gz.read_bytes()) == expected
    assert _flows([*refs, "--from", str(with_objects)]) == expected


@needs_samples
def test_several_inputs_are_read_in_order() -> None:
    tcp, l7 = SAMPLES / "basic-sample-400-tcp-flows.json", SAMPLES / "basic-sample-400-l7-redirected-flows.json"
    a, b = ("bookinfo", "productpage-v1-6b746f74dc-9rcxx"), ("bookinfo", "reviews-v2-7bf8c9648f-r7bs2")
    expected = [ln for p in (tcp, l7) for ln in _lines(p) if {*_ends(ln)} == {a, b}]
    assert {*_ends(expected[0])} == {a, b} and len(expected) > 10
    assert _flows([_ref(a), _ref(b), "--from", str(tcp), "--from", str(l7)]) == expected


@needs_samples
def test_workload_references_resolve_from_flow_endpoints() -> None:
    path = SAMPLES / "basic-sample-400-tcp-flows.json"
    lines = _lines(path)

    def workload(pod: Pod | None, name: str) -> bool:
        return pod is not None and pod[0] == "bookinfo" and pod[1].startswith(name + "-")

    expected = [
        ln
        for ln in lines
        if (workload(_ends(ln)[0], "productpage") and workload(_ends(ln)[1], "reviews"))
        or (workload(_ends(ln)[0], "reviews") and workload(_ends(ln)[1], "productpage"))
    ]
    assert len({_ends(ln)[1] for ln in expected}) > 2  # several reviews pods: the prefix rule matters
    assert _flows(["bookinfo/productpage", "bookinfo/reviews", "--from", str(path)]) == expected
    # -n and a DNS-style name mean the same here
    assert _flows(["productpage", "reviews.bookinfo", "-n", "bookinfo", "--from", str(path)]) == expected


@needs_samples
def test_unknown_reference_in_flows_only_input_names_the_closest() -> None:
    path = SAMPLES / "basic-sample-400-tcp-flows.json"
    code, out, err = run(["flows", "bookinfo/productpage", "bookinfo/reveiws", "--from", str(path)])
    assert code == 2 and not out
    assert "unknown reference 'bookinfo/reveiws'" in err and "bookinfo/reviews-v" in err
    assert "Traceback" not in err


@needs_samples
def test_explain_on_flows_only_is_unknown_with_evidence() -> None:
    path = SAMPLES / "basic-sample-348-http-flows.json"
    a, b = ("bookinfo", "ratings-v1-b6994bb9-4dt5c"), ("bookinfo", "productpage-v1-6b746f74dc-ffh56")
    pair = [ln for ln in _lines(path) if {*_ends(ln)} == {a, b}]
    codes = [json.loads(ln)["flow"]["l7"]["http"].get("code") for ln in pair]
    assert pair and any(codes), "sample changed: expected HTTP responses between ratings and productpage"
    code, out, err = run(["explain", _ref(a), _ref(b), "--from", str(path), "--path", "/productpage", "-o", "json"])
    assert code == 3, err
    doc = json.loads(out)
    assert doc["verdict"] == "unknown" and doc["symptom"] == "unknown"
    assert {h["decision"] for h in doc["hops"]} == {"unknown"} and doc["causes"] == []
    assert any("no Kubernetes objects" in g for g in doc["gaps"])
    ev = doc["evidence"]
    assert ev["source"] == "snapshot" and ev["flows"] > 0
    assert sum(ev["verdicts"].values()) == ev["flows"]
    assert sum(ev["httpStatus"].values()) > 0
    assert doc["source"]["pods"] == [a[1]] and doc["destination"]["pods"] == [b[1]]
    # the text answer says the same, and never claims agreement with objects it does not have
    code, text, _ = run(["explain", _ref(a), _ref(b), "--from", str(path), "--path", "/productpage"])
    assert code == 3 and "UNKNOWN" in text and "CONTRADICTS" not in text and "no Kubernetes objects" in text


@needs_samples
def test_explain_flows_only_with_no_flows_of_the_pair(tmp_path: Path) -> None:
    path = SAMPLES / "basic-sample-400-tcp-flows.json"
    code, out, err = run(["explain", "bookinfo/details", "bookinfo/ratings", "--from", str(path), "-o", "json"])
    assert code == 3, err
    doc = json.loads(out)
    assert doc["verdict"] == "unknown" and doc["evidence"]["flows"] == 0


@needs_samples
def test_explain_reads_flows_from_stdin_once() -> None:
    path = SAMPLES / "basic-sample-348-http-flows.json"
    a, b = "bookinfo/pod/ratings-v1-b6994bb9-4dt5c", "bookinfo/pod/productpage-v1-6b746f74dc-ffh56"
    args = ["explain", a, b, "--path", "/productpage", "-o", "json"]
    code, out, err = run([*args, "--from", "-"], stdin=gzip.compress(path.read_bytes()))
    assert code == 3, err
    code_file, out_file, _ = run([*args, "--from", str(path)])
    assert code_file == 3 and json.loads(out)["evidence"] == json.loads(out_file)["evidence"]


@needs_samples
def test_objects_of_other_namespaces_do_not_make_the_input_flows_only(tmp_path: Path) -> None:
    path = SAMPLES / "basic-sample-400-tcp-flows.json"
    shutil.copy(path, tmp_path / "flows.jsonl")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "elsewhere"},
           "spec": {"containers": [{"name": "app"}]}, "status": {"podIP": "10.9.9.9"}}  # fmt: skip
    (tmp_path / "pods.yaml").write_text(yaml.safe_dump(pod), encoding="utf-8")
    code, out, err = run(["explain", "bookinfo/productpage", "bookinfo/reviews", "--from", str(tmp_path)])
    assert code == 2 and "unknown reference 'bookinfo/productpage'" in err and not out


@needs_samples
def test_flows_only_without_a_path_summarises_every_request_seen() -> None:
    """A postmortem on an export: with no --path, the answer says what each request got (here the
    32 503s of /productpage), not "records for other requests" about a GET / nobody sent."""
    path = SAMPLES / "basic-sample-348-http-flows.json"
    a, b = ("bookinfo", "ratings-v1-b6994bb9-4dt5c"), ("bookinfo", "productpage-v1-6b746f74dc-ffh56")
    code, out, err = run(["explain", _ref(a), _ref(b), "--from", str(path), "-o", "json"])
    assert code == 3, err
    doc = json.loads(out)
    ev = doc["evidence"]
    assert "requests seen: GET /productpage: " in ev["summary"] and "503×32" in ev["summary"]
    assert "other requests" not in ev["summary"] and ev["httpStatus"]["503"] == 32
    assert (doc["request"]["method"], doc["request"]["path"]) == ("*", "*")
    _, text, _ = run(["explain", _ref(a), _ref(b), "--from", str(path)])
    assert "every request seen" in text and "GET /productpage: " in text
    # an explicit request is still answered for that request only
    _, out, _ = run(["explain", _ref(a), _ref(b), "--from", str(path), "--path", "/productpage", "-o", "json"])
    assert json.loads(out)["request"]["path"] == "/productpage"
    assert "requests seen" not in json.loads(out)["evidence"]["summary"]


def test_flows_only_states_no_mesh_mode_the_flows_do_not_show(tmp_path: Path) -> None:
    """The demo's flows carry Istio's sidecar label: sidecar. Without it, and with no namespace labels
    in the flow, nothing says "none": unknown. With the namespace's labels and no mark: none."""
    demo = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos" / "sidecar-s3-authn-disable"
    lines = _lines(demo / "flows.jsonl")
    args = ["explain", "red/netshoot", "blue/httpbin", "-o", "json", "--from"]
    _, out, _ = run([*args, str(demo / "flows.jsonl")])
    doc = json.loads(out)
    assert (doc["source"]["mesh"], doc["destination"]["mesh"]) == ("sidecar", "sidecar")

    def relabel(keep_ns: bool) -> Path:
        out_path = tmp_path / f"flows-{keep_ns}.jsonl"
        docs = []
        for line in lines:
            d = json.loads(line)
            for side in ("source", "destination"):
                ep = d["flow"].get(side, {})
                ep["labels"] = [
                    lbl
                    for lbl in ep.get("labels", [])
                    if "istio" not in lbl and (keep_ns or "namespace.labels" not in lbl)
                ]
            docs.append(json.dumps(d))
        out_path.write_text("\n".join(docs) + "\n")
        return out_path

    doc = json.loads(run([*args, str(relabel(False))])[1])
    assert (doc["source"]["mesh"], doc["destination"]["mesh"]) == ("unknown", "unknown")
    doc = json.loads(run([*args, str(relabel(True))])[1])
    assert (doc["source"]["mesh"], doc["destination"]["mesh"]) == ("none", "none")
