"""Multi-cluster input (issue 21): N clusters under clusters/<name>/, references NAME@CLUSTER, and
ClusterMesh semantics (semantics-multicluster.md M4, M5). Each folder of tests/scenarios_mc/ is read
with --from like a user's snapshot; case.yaml follows tests/scenarios/ (plus hop_cluster, unknown_hop,
gap, warning, and summary / summary_absent / fix: text in a cause's summary or fix)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).parent / "scenarios_mc"
DEMOS = ROOT / "kubectl_meshdoctor" / "demos_mc"
EXIT = {"allowed": 0, "denied": 1, "broken": 1, "unknown": 3}


def _cases() -> list[Any]:
    params = []
    for folder in sorted(p for p in SCENARIOS.iterdir() if (p / "case.yaml").is_file()):
        for case in yaml.safe_load((folder / "case.yaml").read_text())["cases"]:
            params.append(pytest.param(folder, case, id=f"{folder.name}/{case['name']}"))
    return params


def explain(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["explain", *args, "-o", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    doc = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.exit_code, doc, result.stderr


def _ref(ref: dict[str, Any]) -> str:
    text = f"{ref['kind']} {ref['namespace']}/{ref['name']}" if ref.get("namespace") else f"{ref['kind']} {ref['name']}"
    return f"{text} {ref['rule']}" if ref.get("rule") else text


@pytest.mark.parametrize(("folder", "case"), _cases())
def test_scenario(folder: Path, case: dict[str, Any]) -> None:
    q, want = case["query"], case["expect"]
    args = [q["source"], q["destination"], "--from", str(folder)]
    if q.get("port") is not None:
        args += ["--port", str(q["port"])]
    if q.get("no_flows"):
        args.append("--no-flows")
    code, doc, err = explain(*args)
    assert doc, err
    assert doc["verdict"] == want["verdict"], json.dumps(doc, indent=1)
    assert code == EXIT[want["verdict"]]
    broken = next((h for h in doc["hops"] if h["decision"] in ("deny", "break")), None)
    if "hop" in want:
        assert (broken["name"] if broken else None) == want["hop"], doc["hops"]
    if "symptom" in want:
        assert doc["symptom"] == want["symptom"]
    if "causes" in want:
        assert {c["code"] for c in doc["causes"]} == set(want["causes"])
    if "by" in want:
        assert broken is not None
        assert {_ref(r).split(" spec")[0] for r in broken["by"]} == set(want["by"])
    if "unknown_hop" in want:
        assert next(h["name"] for h in doc["hops"] if h["decision"] == "unknown") == want["unknown_hop"]
    for hop, cluster in (want.get("hop_cluster") or {}).items():
        assert next(h["cluster"] for h in doc["hops"] if h["name"] == hop) == cluster
    if "evidence_verdicts" in want:
        assert doc["evidence"]["verdicts"] == want["evidence_verdicts"], doc["evidence"]
    if "gap" in want:
        assert any(want["gap"] in g for g in doc["gaps"]), doc["gaps"]
    if "summary" in want:
        assert any(want["summary"] in c["summary"] for c in doc["causes"]), [c["summary"] for c in doc["causes"]]
    if "summary_absent" in want:
        assert not any(want["summary_absent"] in c["summary"] for c in doc["causes"]), doc["causes"]
    if "fix" in want:
        assert any(want["fix"] in c["fix"] for c in doc["causes"]), [c["fix"] for c in doc["causes"]]
    if "warning" in want:
        found = [w for w in doc["warnings"] if want["warning"] and want["warning"] in w]
        assert bool(found) == bool(want["warning"]), doc["warnings"]
    assert doc["source"]["cluster"] == q["source"].rsplit("@", 1)[1]
    assert doc["destination"]["cluster"] == want.get("destination_cluster", q["destination"].rsplit("@", 1)[1])


def test_local_cluster_demo_names_the_rule_and_flows_agree() -> None:
    code, doc, _ = explain(
        "shop/frontend@east", "shop/cart@west", "--port", "8080", "--demo", "clustermesh-local-cluster-selector"
    )
    assert (code, doc["verdict"], doc["symptom"]) == (1, "denied", "timeout")
    first = doc["causes"][0]
    assert first["code"] == "clustermesh-policy-local-cluster"
    assert "CiliumNetworkPolicy shop/cart-ingress spec.ingress[0]" in first["summary"]
    assert "values: [east]" in first["fix"]
    # the generic fix admits the peer with its cluster (a selector without it would stay local-only)
    denied = next(c for c in doc["causes"] if c["code"] == "cilium-policy-denied")
    assert "k8s:io.cilium.k8s.policy.cluster: east" in denied["fix"]
    assert doc["evidence"]["dropReasons"] == {"POLICY_DENIED": 3}
    assert doc["evidence"]["agrees"] is True


def test_local_cluster_demo_near_misses() -> None:
    demo = ("--demo", "clustermesh-local-cluster-selector", "--port", "8080")
    code, doc, _ = explain("shop/frontend@west", "shop/cart@west", *demo)  # the same call within one cluster
    assert (code, doc["verdict"]) == (0, "allowed")
    code, doc, _ = explain("shop/frontend@east", "shop/checkout@west", *demo)  # the selector names the clusters
    assert (code, doc["verdict"]) == (0, "allowed")
    assert doc["evidence"]["verdicts"] == {"FORWARDED": 6}


def test_global_service_demo_and_its_near_miss() -> None:
    demo = ("--demo", "clustermesh-global-service-missing")
    code, doc, _ = explain("shop/frontend@east", "shop/svc/catalog@west", *demo)
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "dns-failure")
    assert doc["causes"][0]["code"] == "clustermesh-global-service-missing"
    assert "not in east" in doc["causes"][0]["summary"]
    assert doc["destination"]["workload"] == "catalog" and doc["destination"]["cluster"] == "west"
    code, doc, _ = explain("shop/frontend@east", "shop/svc/reviews@west", *demo)
    assert (code, doc["verdict"]) == (0, "allowed")
    assert doc["destination"]["pods"] == ["reviews-5f7b6c9d8-h3j5m"]


def _lines(args: list[str]) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["explain", *args])
    return result.exit_code, result.stderr.strip().splitlines()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["shop/frontend", "shop/cart@west"], "names no cluster and the input holds 2: east, west"),
        (
            ["shop/frontend@eest", "shop/cart@west"],
            "no cluster 'eest' in the input (clusters: east, west); did you mean",
        ),
        (["shop/frontend@east", "shop/cart@east"], "not in cluster east; did you mean shop/cart@west?"),
        (["shop/frontend@east", "shop/carts@west"], "did you mean shop/cart"),
        (["shop/frontend@", "shop/cart@west"], "use NS/NAME@CLUSTER"),
    ],
)
def test_bad_references_are_one_line_and_exit_2(args: list[str], needle: str) -> None:
    code, lines = _lines([*args, "--demo", "clustermesh-local-cluster-selector"])
    assert code == 2
    assert len(lines) == 1 and needle in lines[0], lines


def test_one_cluster_directory_stays_readable_alone() -> None:
    west = DEMOS / "clustermesh-local-cluster-selector" / "clusters" / "west"
    code, alone, _ = explain("shop/frontend", "shop/cart", "--port", "8080", "--from", str(west))
    assert (code, alone["verdict"]) == (0, "allowed")
    assert "cluster" not in alone["source"] and all("cluster" not in h for h in alone["hops"])
    # the same call named in the N-cluster input is the same answer, plus the cluster fields
    code, within, _ = explain("shop/frontend@west", "shop/cart@west", "--port", "8080", "--from", str(west.parents[1]))
    assert within["source"].pop("cluster") == within["destination"].pop("cluster") == "west"
    for hop in within["hops"]:
        assert hop.pop("cluster") == "west"
    for doc in (alone, within):
        for key in ("warnings", "evidence"):
            doc.pop(key)
        for hop in doc["hops"]:
            for ref in hop["by"]:
                ref.pop("origin", None)
        for cause in doc["causes"]:
            for ref in cause.get("objects", []):
                ref.pop("origin", None)
    assert alone == within


def test_cluster_named_by_directory_when_cilium_config_is_silent(tmp_path: Path) -> None:
    for name in ("a", "b"):
        d = tmp_path / "clusters" / name
        d.mkdir(parents=True)
        (d / "pods.yaml").write_text(
            f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{name}, namespace: x, labels: {{app: p{name}}}}}\n"
            f"spec: {{containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\n"
            f"status: {{podIP: 10.9.0.{ord(name)}, conditions: [{{type: Ready, status: 'True'}}]}}\n"
        )
    code, doc, _ = explain("x/pa@a", "x/pb@b", "--from", str(tmp_path))
    assert doc["source"]["cluster"] == "a" and doc["destination"]["cluster"] == "b"
    assert any("taken to carry cluster label 'a'" in w for w in doc["warnings"])
    # no policy anywhere: allowed whatever policy-default-local-cluster is
    assert (code, doc["verdict"]) == (0, "allowed")


def test_multicluster_demos_are_listed_and_their_try_line_runs() -> None:
    import shlex

    result = CliRunner().invoke(cli, ["demo", "-o", "json"])
    listed = {d["name"]: d["description"] for d in json.loads(result.output)}
    for demo in sorted(p.name for p in DEMOS.iterdir() if p.is_dir()):
        line = listed[demo].split("try: explain ", 1)[1]
        code, doc, _ = explain(*shlex.split(line), "--demo", demo)
        assert (code, doc["verdict"]) in ((1, "denied"), (1, "broken")), demo


@pytest.mark.parametrize("command", [["triage"], ["flows", "shop/frontend", "shop/cart"]])
def test_other_commands_refuse_multicluster_input_in_one_line(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--demo", "clustermesh-local-cluster-selector"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds several clusters" in lines[0], lines


def test_eastwest_demo_drops_15443_at_the_gateway_of_the_server_cluster() -> None:
    code, doc, _ = explain(
        "shop/frontend@east", "shop/svc/cart@west", "--demo", "clustermesh-istio-eastwest-port-dropped"
    )
    assert (code, doc["verdict"], doc["symptom"]) == (1, "denied", "http-503")
    broken = next(h for h in doc["hops"] if h["decision"] == "deny")
    assert (broken["name"], broken["cluster"]) == ("cilium-ingress", "west")
    assert broken["leg"] == "world → istio-system/istio-eastwestgateway@west"
    assert "TCP/15443" in broken["detail"]
    assert [r["name"] for r in broken["by"]] == ["eastwest-ingress"]
    assert doc["source"]["identity"] == "spiffe://cluster.local/ns/shop/sa/default"
    # the leg the gateway opens to the server is not reached
    assert [h["decision"] for h in doc["hops"] if h.get("leg", "").endswith("cart-7f6d5b9c8-p4m7z@west")] == [
        "skip",
        "skip",
        "skip",
    ]


def _two_cluster_kubeconfig(path: Path, urls: dict[str, str]) -> Path:
    from kubectl_meshdoctor.playground.main import write_contexts

    return write_contexts(path, urls, "shop")


@pytest.mark.parametrize(
    ("demo", "query"),
    [
        ("clustermesh-local-cluster-selector", ["shop/frontend@east", "shop/cart@west", "--port", "8080"]),
        ("clustermesh-local-cluster-selector", ["shop/frontend@east", "shop/checkout@west", "--port", "8080"]),
        ("clustermesh-global-service-missing", ["shop/frontend@east", "shop/svc/catalog@west"]),
        ("clustermesh-istio-eastwest-port-dropped", ["shop/frontend@east", "shop/svc/cart@west"]),
    ],
)
def test_live_two_contexts_equal_offline(tmp_path: Path, demo: str, query: list[str]) -> None:
    """One playground (API server + Relay behind kube-system/hubble-relay) per cluster, one kubeconfig
    with a context per cluster: `--context east,west` answers as `--from` the same clusters."""
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    mesh = read_mc_demo(demo)
    served = {name: start(raw, with_relay_service=True) for name, raw in mesh.clusters.items()}
    try:
        urls = {name: pg.api.url for name, pg in served.items() if pg.api is not None}
        kubeconfig = _two_cluster_kubeconfig(tmp_path / "config", urls)
        live_code, live, err = explain(*query, "--kubeconfig", str(kubeconfig), "--context", "east,west")
        assert live, err
    finally:
        for pg in served.values():
            pg.stop()
    import shutil

    # the same objects and flows offline; mesh.yaml (roots of trust, networks) is not something live reads
    shutil.copytree(DEMOS / demo / "clusters", tmp_path / "snap" / "clusters")
    code, offline, _ = explain(*query, "--from", str(tmp_path / "snap"))
    assert live_code == code
    for key in ("verdict", "symptom", "source", "destination"):
        assert live[key] == offline[key], key
    assert [c["code"] for c in live["causes"]] == [c["code"] for c in offline["causes"]]
    assert [(h["name"], h["decision"], h.get("cluster")) for h in live["hops"]] == [
        (h["name"], h["decision"], h.get("cluster")) for h in offline["hops"]
    ]
    assert live["evidence"]["verdicts"] == offline["evidence"]["verdicts"]


def test_live_context_that_does_not_answer_is_named(tmp_path: Path) -> None:
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    mesh = read_mc_demo("clustermesh-local-cluster-selector")
    pg = start(mesh.clusters["east"], with_relay_service=True)
    try:
        assert pg.api is not None
        kubeconfig = _two_cluster_kubeconfig(tmp_path / "config", {"east": pg.api.url, "west": "https://127.0.0.1:9"})
        args = ["explain", "shop/frontend@east", "shop/cart@west", "--kubeconfig", str(kubeconfig)]
        result = CliRunner().invoke(cli, [*args, "--context", "east,west", "--request-timeout", "2s"])
    finally:
        pg.stop()
    assert result.exit_code == 3, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cluster west could not be read" in lines[0], lines


def test_snapshot_of_two_contexts_reads_back_as_the_live_answer(tmp_path: Path) -> None:
    """`snapshot --context east,west` writes clusters/<cilium name>/ and mesh.yaml; --from reads it back."""
    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mc_demo

    mesh = read_mc_demo("clustermesh-local-cluster-selector")
    served = {name: start(raw, with_relay_service=True) for name, raw in mesh.clusters.items()}
    query = ["shop/frontend@east", "shop/cart@west", "--port", "8080"]
    try:
        urls = {f"kind-{name}": pg.api.url for name, pg in served.items() if pg.api is not None}
        kubeconfig = str(_two_cluster_kubeconfig(tmp_path / "config", urls))
        out = tmp_path / "snap"
        args = ["snapshot", "-o", str(out), "--kubeconfig", kubeconfig, "--context", "kind-east,kind-west"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        live_code, live, _ = explain(*query, "--kubeconfig", kubeconfig, "--context", "kind-east,kind-west")
    finally:
        for pg in served.values():
            pg.stop()
    assert sorted(p.name for p in (out / "clusters").iterdir()) == ["east", "west"]  # the cilium cluster-names
    assert "context: kind-west" in (out / "mesh.yaml").read_text()
    code, offline, _ = explain(*query, "--from", str(out))
    assert (code, offline["verdict"]) == (live_code, live["verdict"]) == (1, "denied")
    assert [c["code"] for c in offline["causes"]] == [c["code"] for c in live["causes"]]
    assert offline["evidence"]["verdicts"] == live["evidence"]["verdicts"] == {"DROPPED": 3, "FORWARDED": 3}


def _check(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["check", *args, "-o", "json"])
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def test_check_names_selectors_that_stopped_matching_remote_peers() -> None:
    code, doc = _check("--demo", "clustermesh-local-cluster-selector")
    hits = [f for f in doc["findings"] if f["code"] == "clustermesh-policy-local-cluster"]
    assert code == 1
    # cart-ingress names no cluster; checkout-ingress (the near miss) names both
    assert [o["name"] for f in hits for o in f["objects"]] == ["cart-ingress"]


def test_check_global_services_across_clusters() -> None:
    code, doc = _check("--demo", "clustermesh-global-service-missing")
    codes = [(f["code"], f.get("cluster"), f["objects"][0]["name"]) for f in doc["findings"]]
    # catalog is missing in east (a warning: it may be intended); reviews has no pod in east but is
    # served by west's backends as a global Service, so its no-endpoints is not a problem
    assert codes == [("clustermesh-global-service-missing", None, "catalog")]
    assert code == 0


def _two_clusters(root: Path, ids: tuple[str, str], ips: tuple[str, str]) -> None:
    for name, cid, ip in zip(("a", "b"), ids, ips, strict=True):
        d = root / "clusters" / name
        d.mkdir(parents=True)
        (d / "objects.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\n"
            f'data: {{cluster-name: {name}, cluster-id: "{cid}"}}\n---\n'
            f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{name}, namespace: x, labels: {{app: p}}}}\n"
            f"spec: {{containers: [{{name: c}}]}}\nstatus: {{podIP: {ip}}}\n"
        )


def test_check_mesh_identity_and_pod_ips(tmp_path: Path) -> None:
    """MB4: duplicate cluster ID and overlapping pod IPs (clustermesh-misconfigured)."""
    _two_clusters(tmp_path, ("7", "7"), ("10.0.0.7", "10.0.0.7"))
    code, doc = _check("--from", str(tmp_path))
    reasons = [f["summary"] for f in doc["findings"] if f["code"] == "clustermesh-misconfigured"]
    assert any("share cluster-id 7" in r for r in reasons), reasons
    assert any("pod IP 10.0.0.7 is used in several clusters" in r for r in reasons), reasons
    assert code == 1


def test_check_mesh_identity_near_miss_distinct_ids_and_pod_ips(tmp_path: Path) -> None:
    """MB4 near miss: the same two clusters with their own IDs and pod IPs are not misconfigured."""
    _two_clusters(tmp_path, ("7", "8"), ("10.0.0.7", "10.1.0.7"))
    _, doc = _check("--from", str(tmp_path))
    assert [f["summary"] for f in doc["findings"] if f["code"] == "clustermesh-misconfigured"] == []


def test_check_unknown_namespace_in_every_cluster_is_exit_2() -> None:
    result = CliRunner().invoke(cli, ["check", "-n", "nope", "--demo", "clustermesh-local-cluster-selector"])
    assert result.exit_code == 2
    assert "not found in any cluster (east, west)" in result.stderr


@pytest.mark.parametrize("path", ["/ledger", "/billing"])
def test_world_through_a_gateway_of_one_cluster_answers_as_that_cluster_alone(tmp_path: Path, path: str) -> None:
    """SOURCE world names no cluster: it enters through the destination's cluster (issue 20's walk)."""
    import shutil

    demo = ROOT / "kubectl_meshdoctor" / "demos" / "gateway-api-refgrant-missing"
    shutil.copytree(demo, tmp_path / "clusters" / "edge")
    other = tmp_path / "clusters" / "other"
    other.mkdir()
    (other / "pods.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c}]}\n"
    )
    ask = ["--host", "shop.example.com", "--path", path]
    code, doc, err = explain("world", "edge/gateway/web@edge", *ask, "--from", str(tmp_path))
    alone_code, alone, _ = explain("world", "edge/gateway/web", *ask, "--demo", "gateway-api-refgrant-missing")
    assert doc, err
    assert (code, doc["verdict"], doc["symptom"]) == (alone_code, alone["verdict"], alone["symptom"])
    assert [c["code"] for c in doc["causes"]] == [c["code"] for c in alone["causes"]]
    assert doc["destination"]["cluster"] == "edge"


def test_objects_a_cluster_could_not_give_make_its_hops_unknown_named(tmp_path: Path) -> None:
    """west's policies file cannot be read (a Helm template): west's ingress hop is unknown, and the gap
    names the cluster. (Gaps are kept per namespace: east's hops in a namespace of the same name are
    unknown too — conservative, never a wrong allowed.)"""
    import shutil

    shutil.copytree(SCENARIOS / "mc-local-default-off", tmp_path / "snap")
    west = tmp_path / "snap" / "clusters" / "west"
    (west / "policies.yaml").write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: {{ .Values.name }}\n"
        "  namespace: app\nspec:\n  endpointSelector: {{ toYaml .Values.selector }}\n"
    )
    code, doc, err = explain("app/client@east", "app/server@west", "--port", "8080", "--from", str(tmp_path / "snap"))
    assert doc, err
    assert (code, doc["verdict"]) == (3, "unknown")
    hops = {h["name"]: h for h in doc["hops"]}
    assert hops["cilium-ingress"]["decision"] == "unknown"
    assert any(g.startswith("cluster west: ") for g in hops["cilium-ingress"]["gaps"]), hops["cilium-ingress"]
    assert "cluster west: " in " ".join(doc["gaps"]) and "cluster east: " not in " ".join(doc["gaps"])


SCRAPER = "monitoring/pod/scraper-node-a1"
LIVE_SCENARIOS = [
    ("mc-policy-asymmetric", ["shop/frontend@east", "shop/cart@west", "--port", "8080"]),  # MB3 ingress side
    ("mc-policy-asymmetric", ["shop/batch@east", "shop/ledger@west", "--port", "9090"]),  # MB3 egress side
    ("mc-policy-asymmetric", ["shop/frontend@west", "shop/cart@east", "--port", "8080"]),  # MB3 near miss
    ("mc-istio-authz-gateway-ip", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB16 gateway address
    ("mc-istio-authz-gateway-ip", ["shop/frontend@east", "shop/svc/cart@east"]),  # MB16 near miss
    ("mc-istio-authz-gateway-ip", ["shop/frontend@east", "shop/svc/orders@west"]),  # MB16 namespaces
    ("mc-istio-cluster-local", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB13 stays local
    ("mc-istio-cluster-local", ["shop/frontend@east", "kube-system/svc/metrics@west"]),  # MB13 default
    ("mc-istio-cluster-local", ["shop/frontend@east", "shop/svc/reviews@west"]),  # MB13 near miss
    ("mc-istio-ambient", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB15 one network
    ("mc-istio-ambient", ["shop/frontend@east", "shop/svc/cart@north"]),  # MB15 old istiod
    ("mc-istio-ambient", ["shop/frontend@east", "shop/svc/cart@south"]),  # MB15 near miss
    ("mc-istio-locality", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB17 no failover
    ("mc-istio-locality", ["shop/frontend@east", "shop/svc/orders@west"]),  # MB17 failover
    ("mc-istio-locality", ["shop/frontend@east", "shop/svc/reviews@west"]),  # MB17 near miss
    ("mc-istio-network-mislabeled", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB9 client pod label
    ("mc-istio-network-mislabeled", ["shop/checkout@east", "shop/svc/orders@west"]),  # MB9 server pod label
    ("mc-istio-network-mislabeled", ["shop/checkout@east", "shop/svc/cart@west"]),  # MB9 near miss
    ("mc-istio-network-mislabeled", ["shop/checkout@east", "shop/svc/reviews@west"]),  # MB9 one of two pods
    ("mc-istio-plaintext-remote", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB12 PA DISABLE
    ("mc-istio-plaintext-remote", ["shop/frontend@east", "shop/svc/orders@west"]),  # MB12 near miss
    ("mc-istio-eastwest-gateways", ["shop/frontend@east", "shop/svc/cart@west"]),  # MB8 no gateway address
    ("mc-istio-eastwest-gateways", ["shop/frontend@east", "shop/svc/cart@south"]),  # MB10 15443 dropped
    ("mc-istio-eastwest-gateways", ["shop/frontend@east", "shop/svc/cart@north"]),  # MB8/MB10 near miss
    ("mc-remote-node-peer", ["monitoring/pod/scraper-node-a1@east", "monitoring/pod/exporter@west", "--port", "9100"]),
    (
        "mc-remote-node-peer",
        ["monitoring/pod/scraper-node-a1@east", "monitoring/pod/exporter-open@west", "--port", "9100"],
    ),
]


@pytest.mark.parametrize(("scenario", "query"), LIVE_SCENARIOS, ids=[f"{s}:{q[0]}->{q[1]}" for s, q in LIVE_SCENARIOS])
def test_live_scenario_equals_offline(tmp_path: Path, scenario: str, query: list[str]) -> None:
    """A scenario of tests/scenarios_mc/ served by one playground per cluster (`--context east,west`)
    answers as `--from` the same clusters (without mesh.yaml, which live does not read)."""
    import shutil

    from kubectl_meshdoctor.playground.main import start
    from kubectl_meshdoctor.sources.multicluster import read_mesh

    shutil.copytree(SCENARIOS / scenario / "clusters", tmp_path / "snap" / "clusters")
    mesh = read_mesh(str(tmp_path / "snap"))
    served = {name: start(raw, with_relay_service=True) for name, raw in mesh.clusters.items()}
    try:
        urls = {name: pg.api.url for name, pg in served.items() if pg.api is not None}
        kubeconfig = _two_cluster_kubeconfig(tmp_path / "config", urls)
        live_code, live, err = explain(*query, "--kubeconfig", str(kubeconfig), "--context", ",".join(urls))
        assert live, err
    finally:
        for pg in served.values():
            pg.stop()
    code, offline, _ = explain(*query, "--from", str(tmp_path / "snap"))
    assert live_code == code
    for key in ("verdict", "symptom", "source", "destination"):
        assert live[key] == offline[key], key
    assert [(c["code"], c["summary"], c["fix"]) for c in live["causes"]] == [
        (c["code"], c["summary"], c["fix"]) for c in offline["causes"]
    ]
    assert [(h["name"], h["decision"], h.get("cluster")) for h in live["hops"]] == [
        (h["name"], h["decision"], h.get("cluster")) for h in offline["hops"]
    ]
    assert live["warnings"] == offline["warnings"]


def test_mb16_distinct_trust_domains_let_principals_tell_clusters_apart(tmp_path: Path) -> None:
    """MB16 near miss: with a trust domain per cluster, a principal names its cluster (no warning);
    namespaces still name no trust domain (warning kept)."""
    import shutil

    snap = tmp_path / "snap"
    shutil.copytree(SCENARIOS / "mc-istio-authz-gateway-ip", snap)
    mesh = (snap / "mesh.yaml").read_text()
    mesh = mesh.replace("  network: net-east\n", "  network: net-east\n  trustDomain: east.local\n")
    (snap / "mesh.yaml").write_text(
        mesh.replace("  network: net-west\n", "  network: net-west\n  trustDomain: west.local\n")
    )
    west = snap / "clusters" / "west" / "objects.yaml"
    west.write_text(west.read_text().replace('principals: ["cluster.local/', 'principals: ["east.local/'))
    code, doc, err = explain("shop/frontend@east", "shop/svc/ledger@west", "--from", str(snap))
    assert (code, doc["verdict"]) == (0, "allowed"), err
    assert not [w for w in doc["warnings"] if "MB16" in w], doc["warnings"]
    code, doc, _ = explain("shop/frontend@east", "shop/svc/orders@west", "--from", str(snap))
    assert (code, doc["verdict"]) == (0, "allowed")
    assert [w for w in doc["warnings"] if "namespaces and service accounts name no trust domain" in w]


def test_mb18_near_miss_istio_reads_the_other_cluster(tmp_path: Path) -> None:
    """MB18 near miss: the same global Service once east's istiod reads west: no view mismatch."""
    import shutil

    snap = tmp_path / "snap"
    shutil.copytree(SCENARIOS / "mc-istio-view-mismatch", snap)
    mesh = (snap / "mesh.yaml").read_text()
    (snap / "mesh.yaml").write_text(mesh.replace("istioRemoteClusters: []", "istioRemoteClusters: [west]"))
    for source in ("shop/frontend@east", "shop/batch@east"):
        code, doc, err = explain(source, "shop/svc/cart@west", "--from", str(snap))
        assert doc, err
        assert "clustermesh-istio-view-mismatch" not in [c["code"] for c in doc["causes"]], doc["causes"]
    code, doc, _ = explain("shop/frontend@east", "shop/svc/cart@west", "--from", str(snap))
    assert (code, doc["verdict"]) == (0, "allowed")


def test_mb3_check_names_policies_present_in_one_cluster_only() -> None:
    """MB3 in `check`: a policy whose copy is missing where the other cluster's default deny selects
    the same pods (cart-ingress: east only; batch-egress: west only). Near miss: web-ingress is in east
    only too, but nothing in west puts web under default deny, so its absence drops nothing."""
    code, doc = _check("--from", str(SCENARIOS / "mc-policy-asymmetric"))
    hits = [f for f in doc["findings"] if "clustermesh-policy-asymmetric" in f["summary"]]
    assert [(f["code"], f["severity"], f["objects"][0]["name"]) for f in hits] == [
        ("cilium-policy-denied", "warning", "cart-ingress"),
        ("cilium-policy-denied", "warning", "batch-egress"),
    ], hits
    assert "in cluster west as well" in hits[0]["fix"] and "in cluster east as well" in hits[1]["fix"]
    assert "cluster" not in hits[0]  # mesh-wide: the summary names both clusters
    assert code == 0


SHARED_DOCS = ROOT.parent / "shared" / "docs"


def _named_in_tests() -> set[str]:
    """Catalog ids (MBn, GBn) named by a scenario (its case.yaml or objects) or a test module under tests/."""
    tests = ROOT / "tests"
    files = [*tests.glob("scenarios*/*/**/*.yaml"), *tests.glob("test_*.py")]
    return {m for f in files for m in re.findall(r"\b[MG]B\d+\b", f.read_text("utf-8"))}


@pytest.mark.parametrize(
    ("doc", "family"), [("semantics-multicluster.md", "MB"), ("semantics-gateways.md", "GB")], ids=["MB", "GB"]
)
def test_every_failure_catalog_entry_is_named_by_a_test(doc: str, family: str) -> None:
    """Each entry of a semantics file's failure catalog (``**MBn.`` / ``**GBn.``) is named by a scenario
    or a test, so a new entry without a test fails here."""
    path = SHARED_DOCS / doc
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared)")
    entries = re.findall(rf"^\*\*({family}\d+)\.", path.read_text("utf-8"), re.MULTILINE)
    assert len(entries) >= 20, entries
    assert sorted(set(entries) - _named_in_tests(), key=lambda e: int(e[2:])) == []
