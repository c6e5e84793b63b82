"""YAML read and written as Kubernetes clients do (issue 17 items 2 and 6): plain scalars by the
YAML 1.2 core schema, and every fix / ``-o yaml`` document written by the YAML library, so a regex
path or a string that looks like a number survives a round trip through ``kubectl apply`` and our
own ``--what-if``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.sources.decode import decode_yaml


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: [1.2.3.4, 2001:db8::]", ["1.2.3.4", "2001:db8::"]),
        ("a: [fe80::, '::1']", ["fe80::", "::1"]),
        ("a: 1:20", "1:20"),  # YAML 1.1 sexagesimal 80
        ("a: yes", "yes"),  # YAML 1.1 boolean
        ("a: off", "off"),
        ("a: 2001-12-14", "2001-12-14"),  # YAML 1.1 timestamp
        ("a: 1_000", "1_000"),
        ("a: 0b101", "0b101"),
        ("a: 0777", 777),  # 1.2: decimal, not octal
        ("a: 0o17", 15),
        ("a: 0x1F", 31),
        ("a: 1e3", 1000.0),  # 1.2 float without a dot
        ("a: true", True),
        ("a: ~", None),
        ("a:", None),
        ("a: {x: [1, b]}", {"x": [1, "b"]}),
    ],
)
def test_plain_scalars_read_as_yaml_1_2_core(text: str, value: object) -> None:
    assert yamlcore.load(text) == {"a": value}


@pytest.mark.parametrize("value", ["80", "yes", "on", "1:20", "0o17", "1e3", "2001-12-14", "null", "", "~", "-1"])
def test_strings_that_look_like_other_types_are_quoted_on_write(value: str) -> None:
    text = yamlcore.dump({"v": value})
    assert yamlcore.load(text) == {"v": value} and yaml.safe_load(text) == {"v": value}


def test_service_entry_with_ipv6_range_in_a_flow_list_is_read(tmp_path: Path) -> None:
    """Fires: ``[1.2.3.4, 2001:db8::]`` is two strings, as kubectl reads it. Near miss: in block
    context ``2001:db8::`` is a mapping key for every YAML reader: one line naming file and line."""
    text = (
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: red}\n"
        "spec:\n  hosts: [ext.example.com]\n  addresses: [1.2.3.4, 2001:db8::]\n"
        "  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n"
    )
    (objects, gaps) = decode_yaml(text, "se.yaml")
    assert objects[0].doc["spec"]["addresses"] == ["1.2.3.4", "2001:db8::"] and not gaps
    (tmp_path / "se.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["check", "--from", str(tmp_path), "-o", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["findings"] == []
    (tmp_path / "se.yaml").write_text(text.replace("[1.2.3.4, 2001:db8::]", "2001:db8::"))
    bad = CliRunner().invoke(cli, ["check", "--from", str(tmp_path)])
    assert bad.exit_code == 2 and "se.yaml:6" in bad.stderr and "Traceback" not in bad.stderr


DEMO = ["explain", "red/netshoot", "blue/httpbin", "--demo", "sidecar-s3-authn-disable"]


@pytest.mark.parametrize("path", ["/index.html", "/a|b", "/x?y=1", '/q"uote'])
def test_fix_yaml_with_a_regex_path_is_valid_and_resolves_the_call(tmp_path: Path, path: str) -> None:
    """The Cilium L7 fix holds the path as a regex (``/index\\.html``): the YAML is valid, holds
    that exact regex, and fed back through --what-if the call is allowed."""
    fix = CliRunner().invoke(cli, [*DEMO, "--path", path, "--fix-yaml"])
    doc = yaml.safe_load(fix.stdout)
    rule = doc["spec"]["ingress"][0]["toPorts"][0]["rules"]["http"][0]
    assert re.fullmatch(rule["path"], path) and not re.fullmatch(rule["path"], path + "x")
    (tmp_path / "fix.yaml").write_text(fix.stdout)
    after = CliRunner().invoke(cli, [*DEMO, "--path", path, "--what-if", str(tmp_path / "fix.yaml"), "-o", "json"])
    assert json.loads(after.stdout)["verdict"] == "allowed"


def test_markdown_and_yaml_outputs_hold_the_same_fix_as_fix_yaml() -> None:
    args = [*DEMO, "--path", "/a|b.html"]
    fix = yaml.safe_load(CliRunner().invoke(cli, [*args, "--fix-yaml"]).stdout)
    as_yaml = yaml.safe_load(CliRunner().invoke(cli, [*args, "-o", "yaml"]).stdout)
    as_json = json.loads(CliRunner().invoke(cli, [*args, "-o", "json"]).stdout)
    assert as_yaml == as_json
    assert [yaml.safe_load(c["fixYaml"]) for c in as_yaml["causes"] if "fixYaml" in c] == [fix]
    markdown = CliRunner().invoke(cli, [*args, "-o", "markdown"]).stdout
    blocks = re.findall(r"```yaml\n(.*?)\n```", markdown, re.DOTALL)
    assert [yaml.safe_load(b) for b in blocks] == [fix]
