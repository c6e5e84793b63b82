"""-o markdown for explain and matrix (contract §1): parsed, not compared as text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

NODE = re.compile(r'^  (\w+)(\["(?P<a>[^"]*)"\]|\(\["(?P<b>[^"]*)"\]\))$')
EDGE = re.compile(r"^  (\w+) (-->|-\.->)(\|\"[^\"]*\"\|)? (\w+)$")
CLASS = re.compile(r"^  class ([\w,]+) (\w+)$")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block; fails on an unclosed fence."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^(`{3,})(\w*)$", lines[i])
        if m:
            end = next(j for j in range(i + 1, len(lines)) if lines[j] == m.group(1))
            blocks.append((m.group(2), "\n".join(lines[i + 1 : end])))
            i = end
        i += 1
    return blocks


def parse_mermaid(body: str) -> tuple[dict[str, str], list[tuple[str, str, str]], dict[str, set[str]]]:
    lines = body.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    classes: dict[str, set[str]] = {}
    for line in lines[1:]:
        if m := NODE.match(line):
            nodes[m.group(1)] = m.group("a") or m.group("b")
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(4)))
        elif m := CLASS.match(line):
            classes.setdefault(m.group(2), set()).update(m.group(1).split(","))
        else:
            assert re.match(r"^  (classDef \w+ [\w#:,.-]+|linkStyle [\d,]+ [\w#:,.-]+)$", line), line
    for a, _, b in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges, classes


def sections(text: str) -> list[str]:
    return re.findall(r"^#{2,4} (.+)$", text, re.M)


@pytest.mark.parametrize(
    ("demo", "path", "verdict", "code", "hop"),
    [
        ("sidecar-s2-l7-policy", "/ip", "broken", "cilium-l7-vs-istio-mtls", "Cilium L7 proxy"),
        ("sidecar-s3-authn-disable", "/deny", "denied", "cilium-l7-denied", "Cilium L7 proxy"),
        ("sidecar-s0-baseline", "/ip", "allowed", None, None),
    ],
)
def test_explain_markdown(demo: str, path: str, verdict: str, code: str | None, hop: str | None) -> None:
    args = ["explain", "red/netshoot", "blue/httpbin", "--path", path, "--demo", demo]
    exit_md, md = invoke(*args, "-o", "markdown")
    exit_json, js = invoke(*args, "-o", "json")
    doc = json.loads(js)
    assert exit_md == exit_json and doc["verdict"] == verdict
    heads = sections(md)
    assert heads[0].split(":")[0].endswith(verdict.upper()) and "red/netshoot → blue/httpbin:80" in heads[0]
    assert {"Path", "Hops", "Evidence"} <= set(heads)
    summary = dict(re.findall(r"^\| (\w[\w -]*) \| (.+) \|$", md, re.M))
    assert summary["Verdict"] == f"**{verdict}**" and f"`{doc['symptom']}`" in summary["Symptom"]
    assert f"{doc['evidence']['flows']} flows" in summary["Evidence"]
    blocks = fenced_blocks(md)
    (mermaid,) = [b for lang, b in blocks if lang == "mermaid"]
    nodes, edges, classes = parse_mermaid(mermaid)
    chain = [edges[0][0]] + [b for _, _, b in edges]  # one path client -> hops -> server, in order
    assert chain[0] == "client" and chain[-1] == "server" and len(chain) == len(doc["hops"]) + 2
    assert [a for a, _, _ in edges] == chain[:-1]
    for node, h in zip(chain[1:-1], doc["hops"], strict=True):
        assert nodes[node].split("<br/>")[1] == h["decision"].upper()
    if hop is None:
        assert "broken" not in classes and all(kind == "-->" for _, kind, _ in edges)
        assert "### Causes" not in md
        return
    (broken,) = classes["broken"]
    assert nodes[broken].startswith(hop) and "Breaking hop" in summary and hop in summary["Breaking hop"]
    after = chain.index(broken)
    assert all(kind == "-.->" for _, kind, _ in edges[after:])  # not reached: dashed
    assert f"`{code}`" in heads[heads.index("Causes") + 1]
    cause = next(c for c in doc["causes"] if c["code"] == code)
    for obj in cause["objects"]:
        assert f"-n {obj['namespace']} {obj['name']} -o yaml" in md
    yamls = [yaml.safe_load(b) for lang, b in blocks if lang == "yaml"]
    if cause.get("fixYaml"):
        assert yaml.safe_load(cause["fixYaml"]) in yamls


def test_matrix_markdown() -> None:
    args = ["matrix", "-n", "red,blue,green", "--demo", "sidecar-s2-l7-policy", "--path", "/ip"]
    exit_md, md = invoke(*args, "-o", "markdown")
    exit_json, js = invoke(*args, "-o", "json")
    cells = json.loads(js)["cells"]
    failing = [c for c in cells if c["verdict"] != "allowed"]
    assert exit_md == exit_json == 1
    assert sections(md)[0].endswith(f"{len(failing)} of {len(cells)} calls fail")
    rows = [r for r in re.findall(r"^\| (\S+) \| .+ \|$", md, re.M)]
    assert {c["source"] for c in cells} <= set(rows)
    (mermaid,) = [b for lang, b in fenced_blocks(md) if lang == "mermaid"]
    nodes, edges, _ = parse_mermaid(mermaid)
    names = {label: node for node, label in nodes.items()}
    assert {(names[c["source"]], names[c["destination"]]) for c in cells} == {(a, b) for a, _, b in edges}
    styled = re.search(r"linkStyle ([\d,]+) ", mermaid)
    assert styled and len(styled.group(1).split(",")) == len(failing)
    failing_table = md[md.index("### Failing calls") :]
    for c in failing:
        assert f"| {c['source']} | {c['destination']} | {c['verdict']} |" in failing_table


def test_markdown_escapes_labels_and_cells() -> None:
    from kubectl_meshdoctor.render.markdown import cell, fenced, mermaid_label

    assert cell("a|b\nc") == "a\\|b c"
    assert '"' not in mermaid_label('x"]; click') and "<" not in mermaid_label("<script>")
    assert fenced("```\ninner\n```")[0] == "````"


def test_markdown_names_the_legs_of_a_call_through_a_waypoint() -> None:
    args = ["explain", "red/netshoot", "blue/httpbin", "--path", "/deny", "--demo", "ambient-w1-waypoint"]
    _, md = invoke(*args, "-o", "markdown")
    _, js = invoke(*args, "-o", "json")
    legs = list(dict.fromkeys(h["leg"] for h in json.loads(js)["hops"] if h.get("leg")))
    assert len(legs) >= 2
    for leg in legs:
        assert f"| **{leg}** | | |" in md
    (mermaid,) = [b for lang, b in fenced_blocks(md) if lang == "mermaid"]
    parse_mermaid(mermaid)
    assert [line.split('"')[1] for line in mermaid.splitlines() if '-->|"' in line or '-.->|"' in line] == legs


DEMOS = sorted(p.name for p in (Path(__file__).parent.parent / "kubectl_meshdoctor" / "demos").iterdir() if p.is_dir())


@pytest.mark.parametrize("demo", DEMOS)
def test_markdown_evidence_says_what_json_says(demo: str) -> None:
    """The incident report never claims a contradiction (or agreement) that text and JSON call inconclusive."""
    from tests.test_live_explain import _try_args

    args = ["explain", *_try_args(demo), "--demo", demo]  # the demo's own question
    _, md = invoke(*args, "-o", "markdown")
    _, js = invoke(*args, "-o", "json")
    agrees = json.loads(js)["evidence"]["agrees"]
    summary = dict(re.findall(r"^\| (\w[\w -]*) \| (.+) \|$", md, re.M))
    assert ("CONTRADICTS" in summary["Evidence"]) == (agrees is False)
    assert ("agrees with the objects" in summary["Evidence"]) == (agrees is True)
    assert md.count("CONTRADICTS") == (2 if agrees is False else 0)
