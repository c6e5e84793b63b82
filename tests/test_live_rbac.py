"""deploy/rbac.yaml grants exactly what the live reader uses, and every request it made is covered."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubectl_meshdoctor.sources.kube import CONFIGMAPS, ENDPOINTS, KINDS
from tests.test_live_explain import run

RBAC = Path(__file__).resolve().parent.parent / "deploy" / "rbac.yaml"


def _rules(kind: str) -> set[tuple[str, str, str, str | None]]:
    """(group, resource, verb, resourceName) granted by the documents of this kind."""
    out: set[tuple[str, str, str, str | None]] = set()
    for doc in yaml.safe_load_all(RBAC.read_text()):
        if doc["kind"] != kind:
            continue
        for rule in doc["rules"]:
            names = rule.get("resourceNames") or [None]
            for g in rule["apiGroups"]:
                for r in rule["resources"]:
                    for v in rule["verbs"]:
                        for n in names:
                            out.add((g, r, v, n))
    return out


def test_cluster_role_lists_exactly_the_reader_kinds() -> None:
    granted = _rules("ClusterRole")
    lists = {(g, r) for g, r, v, _ in granted if v == "list"}
    assert lists == {(k.group, k.plural) for k in (*KINDS, ENDPOINTS)}
    gets = {(g, r, n) for g, r, v, n in granted if v == "get"}
    assert gets == {("", "configmaps", name) for _, name in CONFIGMAPS}
    assert not [r for r in granted if r[1] == "secrets" or r[2] not in ("get", "list")]


def _needed(path: str, query: dict[str, str]) -> tuple[str, str, str] | None:
    parts = [p for p in path.split("/") if p]
    if parts in (["api"], ["apis"], ["version"]) or (len(parts) <= 3 and parts[0] == "apis"):
        return None  # discovery: system:discovery
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    return (group, rest[0], "get" if len(rest) == 2 else "list")


def test_every_request_of_a_snapshot_is_granted(playground, tmp_path) -> None:
    pg = playground("sidecar-s2-l7-policy")
    code, _, err = run(["snapshot", "-o", str(tmp_path / "s"), "--hubble-server", pg.relay.address], pg.env())
    assert code == 0, err
    run(["explain", "red/netshoot", "blue/httpbin"], pg.env())  # port-forward path: reads the Service
    granted = {(g, r, v) for g, r, v, _ in _rules("ClusterRole") | _rules("Role")}
    needed = {n for req in pg.api.requests if (n := _needed(req.path, req.query)) is not None}
    assert needed and needed <= granted, needed - granted
