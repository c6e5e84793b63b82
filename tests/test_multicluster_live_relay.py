"""Live explain across clusters reads each cluster's Relay while its lists run (issue 21, Performance):
what the flows say, and a Relay that is not there, come out as when the Relay was asked after the lists."""

from __future__ import annotations

from pathlib import Path

from tests.test_multicluster import _two_cluster_kubeconfig, explain

DEMO = "clustermesh-local-cluster-selector"
QUERY = ["shop/frontend@east", "shop/cart@west", "--port", "8080"]


def _live(tmp_path: Path, west_relay: bool) -> tuple[int, dict[str, object], str]:
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    mesh = read_mc_demo(DEMO)
    served = {
        "east": start(mesh.clusters["east"], with_relay_service=True),
        "west": start(mesh.clusters["west"], with_relay_service=west_relay),
    }
    try:
        urls = {name: pg.api.url for name, pg in served.items() if pg.api is not None}
        config = str(_two_cluster_kubeconfig(tmp_path / "config", urls))
        return explain(*QUERY, "--kubeconfig", config, "--context", "east,west", "--request-timeout", "5s")
    finally:
        for pg in served.values():
            pg.stop()


def test_flows_of_every_cluster_come_with_its_objects(tmp_path: Path) -> None:
    code, doc, err = _live(tmp_path, west_relay=True)
    _, offline, _ = explain(*QUERY, "--demo", DEMO)
    assert doc, err
    assert (code, doc["verdict"]) == (1, "denied")
    assert doc["evidence"]["verdicts"] == offline["evidence"]["verdicts"] == {"DROPPED": 3, "FORWARDED": 3}


def test_a_cluster_without_its_relay_keeps_its_objects_and_says_so(tmp_path: Path) -> None:
    """west serves no Service kube-system/hubble-relay: its objects still decide the verdict (the same
    denied); the warning says west's Relay could not be reached, and east's flows (the client side's
    FORWARDED, not west's DROPPED) are still there."""
    code, doc, err = _live(tmp_path, west_relay=False)
    assert doc, err
    assert (code, doc["verdict"]) == (1, "denied")
    relay = [w for w in doc["warnings"] if "hubble-relay not found" in w]
    assert relay, doc["warnings"]
    assert all(w.startswith("Hubble flows not checked: context west: ") for w in relay), relay
    assert doc["evidence"]["verdicts"] == {"FORWARDED": 3}, doc["evidence"]
