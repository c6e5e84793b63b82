"""Fix texts are valid for the object as written (issue 10 §8): an "edit ... # add under PATH:" fix,
applied as told to the policy as it is (``spec`` or ``specs[i]``), makes Cilium accept the policy and
resolves the cause when re-evaluated through --what-if."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMOS = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos"
EDIT = re.compile(r"^kubectl (?:-n (\S+) )?edit (\S+) (\S+)\s+# add under (\S+):$")


def _explain(src: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["explain", *args, "--from", str(src), "--no-flows", "-o", "json"])
    assert result.stdout.startswith("{"), result.output
    return json.loads(result.stdout)


def _apply_edit(doc: dict[str, Any], path: str, entries: list[Any]) -> None:
    """Append the entries at PATH ("specs[0].ingress", "spec.egress") exactly as a user would."""
    node: Any = doc
    parts = path.split(".")
    for part in parts[:-1]:
        m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
        assert m, part
        node = node[m.group(1)]
        if m.group(2) is not None:
            node = node[int(m.group(2))]
    node.setdefault(parts[-1], []).extend(entries)


def _policy_docs(folder: Path) -> list[dict[str, Any]]:
    docs = []
    for f in sorted(folder.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]
    return docs


def _as_single_spec(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["spec"] = out.pop("specs")[0]
    return out


@pytest.mark.parametrize("form", ["specs", "spec"])
def test_cilium_policy_denied_fix_applies_to_the_policy_as_written(tmp_path: Path, form: str) -> None:
    folder = tmp_path / "snap"
    folder.mkdir()
    for f in (DEMOS / "sidecar-s1-l4-policy").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    if form == "spec":  # the same policy written with a single spec
        docs = _policy_docs(folder)
        policies = folder / "policies.yaml"
        kept = [d for d in yaml.safe_load_all(policies.read_text()) if isinstance(d, dict)]
        rewritten = [_as_single_spec(d) if "specs" in d else d for d in kept]
        policies.write_text(yaml.safe_dump_all(rewritten))
        assert docs
    before = _explain(folder, "green/netshoot", "blue/httpbin")
    assert before["verdict"] == "denied"
    [cause] = [c for c in before["causes"] if c["code"] == "cilium-policy-denied"]
    first, *body = cause["fix"].splitlines()
    match = EDIT.match(first.strip())
    assert match, first
    namespace, kind, name, path = match.groups()
    assert path.split(".")[0] == ("specs[0]" if form == "specs" else "spec")
    entries = yaml.safe_load("\n".join(line[2:] if line.startswith("  ") else line for line in body))
    [policy] = [
        d
        for d in _policy_docs(folder)
        if d.get("kind") == "CiliumNetworkPolicy" and d["metadata"]["name"] == name
        and d["metadata"]["namespace"] == namespace
    ]  # fmt: skip
    assert kind == "cnp"
    edited = copy.deepcopy(policy)
    _apply_edit(edited, path, entries)
    assert ("spec" in edited) != ("specs" in edited)  # Cilium rejects a policy with both
    change = tmp_path / "edited.yaml"
    change.write_text(yaml.safe_dump(edited))
    after = _explain(folder, "green/netshoot", "blue/httpbin", "--what-if", str(change))
    assert after["verdict"] == "allowed", after["hops"]
    assert "cilium-policy-denied" not in [c["code"] for c in after["causes"]]
