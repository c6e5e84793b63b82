"""Bad input gets one clear line on stderr and the right exit code, never a traceback."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

GOOD = """\
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
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_clean_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def explain_json(tmp_path: Path) -> tuple[int, dict, str]:
    code, out, err = run("explain", "red/client", "red/server", "--from", str(tmp_path), "-o", "json")
    return code, json.loads(out) if out.startswith("{") else {}, err


def left_out(doc: dict, name: str) -> str:
    (gap,) = [g for g in doc["gaps"] if name in g and "file left out" in g]
    return gap


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n  labels: {}\n")
    code, out, err = run("explain", "red/client", "red/server", "--from", str(tmp_path))
    assert code == 2  # nothing readable at all
    line = one_clean_line(err)
    assert "bad.yaml:" in line and "malformed YAML" in line
    assert line.split("bad.yaml:")[1].split(":")[0].isdigit()
    assert out == ""
    # beside readable files it is left out with a gap naming it; a Pod may be missing: unknown
    (tmp_path / "good.yaml").write_text(GOOD)
    code, doc, err = explain_json(tmp_path)
    assert code == 3 and doc["verdict"] == "unknown" and err == ""
    gap = left_out(doc, "bad.yaml:")
    assert "malformed YAML" in gap and "(Pod)" in gap


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "objs.json").write_text('{\n  "kind": "List",\n  "items": [\n    {oops}\n  ]\n}\n')
    code, _, err = run("explain", "red/client", "red/server", "--from", str(tmp_path))
    assert code == 2
    assert "objs.json:4" in one_clean_line(err)
    (tmp_path / "good.yaml").write_text(GOOD)
    code, doc, _ = explain_json(tmp_path)
    assert code == 3 and "objs.json:4" in left_out(doc, "objs.json")


HELM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-settings\n  namespace: red\ndata: {{ .Values.settings }}\n"
)


@pytest.mark.parametrize("archive", [False, True])
def test_a_helm_template_or_a_binary_is_left_out_with_a_gap(tmp_path: Path, archive: bool) -> None:
    """One unreadable file does not stop the run: the answer says which file it could not read, and
    is unknown only where that file could have mattered (a binary could hold any kind)."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.yaml").write_text(GOOD)
    (src / "chart.yaml").write_text(HELM)
    target = src
    if archive:
        target = tmp_path / "in.tar.gz"
        with tarfile.open(target, "w:gz") as tar:
            tar.add(src, arcname=".")
    code, out, err = run("explain", "red/client", "red/server", "--from", str(target), "-o", "json")
    doc = json.loads(out)
    assert err == "" and code == 0 and doc["verdict"] == "allowed"  # a ConfigMap is not on this call's path
    assert "(ConfigMap)" in left_out(doc, "chart.yaml:6")
    (src / "blob.yaml").write_bytes(bytes(range(256)) * 4)
    if archive:
        with tarfile.open(target, "w:gz") as tar:
            tar.add(src, arcname=".")
    code, out, err = run("explain", "red/client", "red/server", "--from", str(target), "-o", "json")
    doc = json.loads(out)
    assert err == "" and code == 3 and doc["verdict"] == "unknown"
    assert "not UTF-8" in left_out(doc, "blob.yaml") and "(any kind)" in left_out(doc, "blob.yaml")


def test_unknown_kind_is_skipped_and_listed_in_gaps(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        GOOD + "---\napiVersion: example.com/v1\nkind: Frobnicator\nmetadata: {name: x}\n"
    )
    code, out, _err = run("explain", "red/client", "red/server", "--from", str(tmp_path), "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "allowed"
    assert any("Frobnicator" in gap for gap in doc["gaps"])


@pytest.mark.parametrize("make", ["missing", "empty-dir", "empty-string", "not-a-snapshot"])
def test_missing_or_empty_from_is_one_clear_error(tmp_path: Path, make: str) -> None:
    target = {
        "missing": str(tmp_path / "nope"),
        "empty-dir": str(tmp_path),
        "empty-string": "",
        "not-a-snapshot": str(tmp_path / "notes.txt"),
    }[make]
    (tmp_path / "notes.txt").write_text("hello")
    if make == "empty-dir":
        (tmp_path / "notes.txt").unlink()
    code, out, err = run("explain", "red/client", "red/server", "--from", target)
    assert code == 2
    assert "error:" in one_clean_line(err)
    assert out == ""


def test_unknown_reference_suggests_close_names(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    code, _, err = run("explain", "red/cliend", "red/server", "--from", str(tmp_path))
    assert code == 2
    line = one_clean_line(err)
    assert "did you mean" in line and "red/client" in line


def test_unknown_namespace_and_bad_kind(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    code, _, err = run("explain", "rde/client", "red/server", "--from", str(tmp_path))
    assert code == 2 and "namespace 'rde' not found" in one_clean_line(err)
    code, _, err = run("explain", "red/bogus/client", "red/server", "--from", str(tmp_path))
    assert code == 2 and "unknown kind" in one_clean_line(err)


def test_unknown_demo_and_bad_flags() -> None:
    code, _, err = run("explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s2")
    assert code == 2 and "did you mean" in one_clean_line(err)
    code, _, err = run("explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s2-l7-policy", "--since", "5 min")
    assert code == 2 and "bad duration" in one_clean_line(err)
    code, _, _ = run("explain", "red/netshoot", "blue/httpbin", "--bogus")
    assert code == 2
    code, _, err = run("explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s2-l7-policy", "--from", "x")
    assert code == 2 and "cannot be combined" in one_clean_line(err)


def test_tar_gz_snapshot_equals_directory(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "objects.yaml").write_text(GOOD)
    archive = tmp_path / "snap.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(snap, arcname="snap")
    _, out_dir, _ = run("explain", "red/client", "red/server", "--from", str(snap), "-o", "json")
    _, out_tar, _ = run("explain", "red/client", "red/server", "--from", str(archive), "-o", "json")
    a, b = json.loads(out_dir), json.loads(out_tar)
    for doc in (a, b):
        for hop in doc["hops"]:
            for ref in hop["by"]:
                ref.pop("origin", None)
    assert a == b


def test_corrupt_archive_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "snap.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    code, _, err = run("explain", "red/client", "red/server", "--from", str(bad))
    assert code == 2 and "cannot read archive" in one_clean_line(err)


def test_source_without_pods_is_exit_3(tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text(
        GOOD + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: idle, namespace: red}\n"
        "spec: {selector: {matchLabels: {app: idle}}}\n"
    )
    code, _, err = run("explain", "red/idle", "red/server", "--from", str(tmp_path))
    assert code == 3 and "no pods" in one_clean_line(err)


def test_kind_list_and_multi_doc_load_the_same(tmp_path: Path) -> None:
    import yaml

    docs = [d for d in yaml.safe_load_all(GOOD)]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x.yaml").write_text(GOOD)
    (b / "x.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    outs = [json.loads(run("explain", "red/client", "red/server", "--from", str(d), "-o", "json")[1]) for d in (a, b)]
    assert outs[0]["verdict"] == outs[1]["verdict"] == "allowed"
    assert outs[0]["destination"]["pods"] == outs[1]["destination"]["pods"] == ["server-1"]


@pytest.mark.parametrize(
    ("name", "code"),
    [("cilium-config", 3), ("'{{ .Values.configName }}'", 3), ("app-settings", 0)],
)
def test_an_unreadable_file_that_may_hold_cilium_config_hides_it(tmp_path: Path, name: str, code: int) -> None:
    """cilium-config decides policy enforcement (enable-policy, default deny): a file that may hold it
    and cannot be read leaves every Cilium hop unknown, never a green resting on the defaults."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.yaml").write_text(GOOD)
    (src / "config.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: kube-system\n"
        "data:\n  enable-policy: [always\n"
    )
    got, out, err = run("explain", "red/client", "red/server", "--from", str(src), "-o", "json")
    doc = json.loads(out)
    assert err == "" and got == code, doc["gaps"]
    assert "(ConfigMap)" in left_out(doc, "config.yaml")
    if code == 3:
        assert doc["verdict"] == "unknown"
        assert any(h["decision"] == "unknown" for h in doc["hops"] if h["name"] in ("cilium-egress", "cilium-ingress"))


@pytest.mark.parametrize("args", [["red/client", "10.0.0.999"], ["10.0.0.256", "red/server"]])
def test_a_dotted_quad_that_is_no_ip_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    """A mistyped address is not a DNS name to call (it would have answered ✓ as an outside host)."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.yaml").write_text(GOOD)
    code, out, err = run("explain", *args, "--from", str(src))
    assert (code, out) == (2, "")
    assert "is not a valid IP address" in one_clean_line(err)
