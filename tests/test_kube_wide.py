"""Live reads of many namespaces (sources/kube_wide.py): one cluster-wide page per namespaced kind
first, per-namespace lists for the kinds that do not fit one page; the same objects either way.
Against the playground Kubernetes API (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_meshdoctor.playground.kubeapi import KubeApiServer
from kubectl_meshdoctor.playground.main import write_kubeconfig
from kubectl_meshdoctor.sources.kube import PAGE_SIZE
from kubectl_meshdoctor.sources.live import LiveOptions, LiveSource

NAMESPACES = [f"ns-{i:02d}" for i in range(12)]


def _docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in NAMESPACES
    ]
    pods_each = 3 * PAGE_SIZE // len(NAMESPACES) + 5  # more pages of pods than 12 namespaces / 4: per namespace
    for ns in NAMESPACES:
        for i in range(pods_each):
            docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p-{i}", "namespace": ns,
                         "labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]},
                         "status": {"podIP": f"10.1.{NAMESPACES.index(ns)}.{i % 250}"}})  # fmt: skip
        for i in range(PAGE_SIZE // len(NAMESPACES) + 5):  # two pages of Services: read cluster-wide
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s-{i}", "namespace": ns},
                         "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}})  # fmt: skip
    for ns in (NAMESPACES[1], NAMESPACES[9]):
        meta = {"name": "p", "namespace": ns}
        spec: dict[str, Any] = {"endpointSelector": {}, "ingress": [{}]}
        docs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": spec})
    return docs


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeApiServer, Path]]:
    server = KubeApiServer(_docs()).start()
    try:
        yield server, write_kubeconfig(tmp_path_factory.mktemp("wide") / "kubeconfig", server.url)
    finally:
        server.stop()


def _read(api: tuple[KubeApiServer, Path], namespaces: list[str], wide: bool) -> tuple[set[tuple[str, str, str]], int]:
    server, kubeconfig = api
    server.clear()
    with LiveSource(LiveOptions(kubeconfig=str(kubeconfig), progress=False)) as live:
        raw = live.objects(namespaces, wide=wide)
    got = {(o.doc["kind"], o.doc["metadata"].get("namespace", ""), o.doc["metadata"]["name"]) for o in raw.objects}
    assert not [g for g in raw.gaps if not isinstance(g, str)]
    return got, len([r for r in server.requests if "/namespaces/" in r.path or r.query.get("limit")])


def test_many_namespaces_read_the_same_objects_with_fewer_lists(api: tuple[KubeApiServer, Path]) -> None:
    asked = NAMESPACES[:10]  # two namespaces not asked: their objects stay out
    each, per_ns_lists = _read(api, asked, wide=False)
    wide, wide_lists = _read(api, asked, wide=True)
    assert wide == each
    assert ("CiliumNetworkPolicy", "ns-09", "p") in wide and ("Service", "ns-11", "s-0") not in wide
    assert ("Service", "ns-00", "s-0") in wide and ("Service", "ns-09", f"s-{PAGE_SIZE // len(NAMESPACES) + 4}") in wide
    assert sum(1 for k, _, _ in wide if k == "Pod") == 10 * (3 * PAGE_SIZE // len(NAMESPACES) + 5)
    assert wide_lists < per_ns_lists / 3


def test_few_namespaces_are_listed_per_namespace(api: tuple[KubeApiServer, Path]) -> None:
    """Below kube_wide.WIDE_FROM namespaces nothing is asked cluster-wide (the near miss)."""
    _, _ = _read(api, NAMESPACES[:2], wide=True)
    server, _ = api
    assert not [
        r for r in server.requests if r.query.get("limit") and "/namespaces/" not in r.path and r.path.endswith("pods")
    ]


def test_a_kind_refused_cluster_wide_is_listed_per_namespace_beside_its_namesake(tmp_path: Path) -> None:
    """Two kinds are called Gateway (Istio's, Gateway API's): Gateway API's read cluster-wide must not
    stand for Istio's, which the server refuses (403): each namespace's refusal is a gap naming it."""
    from kubectl_meshdoctor.findings.types import Gap
    from kubectl_meshdoctor.playground.kubeapi import ApiConfig

    meta = {"name": "g", "namespace": "ns-03"}
    listener = {"name": "http", "port": 80, "protocol": "HTTP"}
    gateway = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": meta,
               "spec": {"gatewayClassName": "c", "listeners": [listener]}}  # fmt: skip
    docs = [*_docs(), gateway]
    server = KubeApiServer(docs, ApiConfig(forbidden={"gateways.networking.istio.io"})).start()
    try:
        config = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        with LiveSource(LiveOptions(kubeconfig=str(config), progress=False)) as live:
            raw = live.objects(NAMESPACES[:10], wide=True)
    finally:
        server.stop()
    assert ("Gateway", "ns-03", "g") in {(o.doc["kind"], o.doc["metadata"].get("namespace"), o.doc["metadata"]["name"])
                                         for o in raw.objects}  # fmt: skip
    refused = [g for g in raw.gaps if isinstance(g, Gap) and "gateways.networking.istio.io" in g]
    assert len(refused) == 10 and all("403" in g and g.kinds == {"Gateway"} for g in refused)
    assert {g.namespace for g in refused} == set(NAMESPACES[:10])
