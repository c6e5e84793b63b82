"""Issue 20 §5 live: Nodes and CiliumEgressGatewayPolicies are read through the API server (the real
kubernetes client against the playground) and give the answer `--from` gives; a Node list the user may
not read makes the exit unknown, never a confident answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.playground.kubeapi import ApiConfig
from kubectl_meshdoctor.playground.main import start, write_kubeconfig
from kubectl_meshdoctor.sources.snapshot import read_snapshot

SCENARIO = Path(__file__).parent / "scenarios" / "egress-cilium-egress-gateway"
ASK = ["explain", "blue/batch", "198.51.100.7", "--port", "443", "--no-flows", "-o", "json"]
Env = Callable[[frozenset[str]], dict[str, str]]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A playground API server over the scenario, one per set of forbidden resources."""
    stops: list[Callable[[], None]] = []
    envs: dict[frozenset[str], dict[str, str]] = {}

    def env(forbidden: frozenset[str] = frozenset()) -> dict[str, str]:
        if forbidden not in envs:
            pg = start(read_snapshot(str(SCENARIO)), api_config=ApiConfig(set(forbidden)))
            stops.append(pg.stop)
            assert pg.api is not None
            config = write_kubeconfig(tmp_path_factory.mktemp("kubeconfig") / "config", pg.api.url)
            envs[forbidden] = {"KUBECONFIG": str(config), "HUBBLE_SERVER": ""}
        return envs[forbidden]

    yield env
    for stop in stops:
        stop()


def _answer(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, args, env=env or {})
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def _same(doc: Any) -> Any:
    """What may differ between live and offline: origins, and the offline-only gaps about the folder."""
    if isinstance(doc, dict):
        return {k: _same(v) for k, v in doc.items() if k not in ("origin", "gaps", "warnings", "evidence")}
    if isinstance(doc, list):
        return [_same(v) for v in doc]
    return doc


def test_live_reads_nodes_and_egress_gateway_policies_like_offline(live: Env) -> None:
    code_off, offline = _answer([*ASK, "--from", str(SCENARIO)])
    code_live, online = _answer([*ASK, "-n", "blue"], live(frozenset()))
    assert (code_off, code_live) == (1, 1)
    assert [c["code"] for c in online["causes"]] == ["cilium-egress-gateway-unusable"]
    assert _same(online) == _same(offline)


def test_nodes_forbidden_live_leave_the_exit_unknown(live: Env) -> None:
    code, doc = _answer([*ASK, "-n", "blue"], live(frozenset({"nodes"})))
    assert code == 3 and doc["verdict"] == "unknown"
    hop = next(h for h in doc["hops"] if h["name"] == "cilium-egress")
    assert "nodes" in hop["detail"] and "403" in hop["detail"]
