"""The human answer: verdict line, hop table, causes with fix, evidence; plain when not a TTY."""

from __future__ import annotations

from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.render.text import clean


def test_s2_text_answer_has_every_part() -> None:
    result = CliRunner().invoke(
        cli, ["explain", "red/netshoot", "blue/httpbin", "--path", "/ip", "--demo", "sidecar-s2-l7-policy"]
    )
    out = result.output
    assert result.exit_code == 1
    first = out.splitlines()[0]
    assert first.startswith("✗ BROKEN") and "red/netshoot → blue/httpbin:80" in first and "HTTP 503" in first
    for hop in (
        "client egress (Cilium)",
        "server ingress L3/L4",
        "Cilium L7 proxy",
        "server sidecar/ztunnel",
    ):
        assert hop in out
    assert "BREAK" in out and "specs[0].ingress[0].toPorts[0].rules.http" in out
    assert "cause  cilium-l7-vs-istio-mtls (error)" in out
    assert "kind: PeerAuthentication" in out
    assert "hubble" in out and "(agrees)" in out
    assert "\x1b[" not in out  # not a TTY: no colour codes
    assert all(line == line.rstrip() for line in out.splitlines())


def test_allowed_answer_exits_zero() -> None:
    result = CliRunner().invoke(cli, ["explain", "red/netshoot", "red/httpbin", "--demo", "sidecar-s2-l7-policy"])
    assert result.exit_code == 0
    assert result.output.startswith("✓ ALLOWED")


def test_control_characters_are_made_visible() -> None:
    assert clean("evil\x1b[31mred\r") == "evil^[[31mred^M"


def test_yaml_is_the_same_document_as_json() -> None:
    import json

    import yaml

    args = ["explain", "green/netshoot", "blue/httpbin", "--demo", "sidecar-s1-l4-policy"]
    as_json = json.loads(CliRunner().invoke(cli, [*args, "-o", "json"]).output)
    as_yaml = yaml.safe_load(CliRunner().invoke(cli, [*args, "-o", "yaml"]).output)
    assert as_json == as_yaml
    assert as_json["apiVersion"] == "meshdoctor/v1"
