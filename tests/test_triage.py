"""triage offline (issue 19): demos, the collapse and "objects say this works" scenarios, the real samples.

Expected counts are computed here from the flow files with a plain ``json.loads`` walk (failure:
verdict DROPPED/ERROR, an HTTP status >= 400, or a TCP RST), never taken from triage itself.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

ROOT = Path(__file__).resolve().parent
DEMOS = ROOT.parent / "kubectl_meshdoctor" / "demos"
SCENARIOS = ROOT / "scenarios"
SAMPLES = ROOT.parents[1] / "shared" / "data" / "hubble-samples"


def _invoke(args: list[str]) -> tuple[int, Any, str]:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def _triage(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = _invoke(["triage", *args, "-o", "json", "--top", "0"])
    assert "Traceback" not in err
    return code, json.loads(out)


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            obj = json.loads(line)
            if "flow" in obj or "verdict" in obj:
                out.append(obj.get("flow", obj))
    return out


def _failing(flow: dict[str, Any]) -> bool:
    code = ((flow.get("l7") or {}).get("http") or {}).get("code", 0)
    rst = (((flow.get("l4") or {}).get("TCP") or {}).get("flags") or {}).get("RST", False)
    return flow.get("verdict") in ("DROPPED", "ERROR") or code >= 400 or bool(rst)


def _redirect(flow: dict[str, Any]) -> bool:
    """A connection Cilium redirected to its L7 proxy (policy-verdict event, one per connection)."""
    return flow.get("verdict") == "REDIRECTED" and (flow.get("event_type") or {}).get("type") == 5


def _end(ep: dict[str, Any], ip: str) -> str:
    return f"{ep.get('namespace', '')}/{ep['pod_name']}" if ep.get("pod_name") else ip


def _oriented(flow: dict[str, Any]) -> tuple[str, str, int]:
    """(client, server, server port): replies and L7 responses run server -> client."""
    back = flow.get("is_reply") is True or (flow.get("l7") or {}).get("type") == "RESPONSE"
    tcp = (flow.get("l4") or {}).get("TCP") or (flow.get("l4") or {}).get("UDP") or {}
    src = _end(flow.get("source") or {}, flow["IP"]["source"])
    dst = _end(flow.get("destination") or {}, flow["IP"]["destination"])
    if back:
        return dst, src, tcp.get("source_port", 0)
    return src, dst, tcp.get("destination_port", 0)


def _calls(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for f in doc["findings"] for c in f["calls"]]


# --- bundled demos ----------------------------------------------------------------------------


def _demo_question(name: str) -> list[str]:
    text = (DEMOS / name / "DESCRIPTION").read_text()
    return shlex.split(text.split("try:")[-1].strip().splitlines()[0])[1:]  # after "explain"


def _from_envoy(flow: dict[str, Any]) -> bool:
    """The flow's client end is Cilium's Envoy (reserved identity ingress, no pod)."""
    back = flow.get("is_reply") is True or (flow.get("l7") or {}).get("type") == "RESPONSE"
    ep = (flow.get("destination") if back else flow.get("source")) or {}
    return not ep.get("pod_name") and (ep.get("identity") == 8 or "reserved:ingress" in ep.get("labels", []))


def _pair_flows(name: str, source: str, destination: str, which: Any) -> int:
    """Flows ``which`` selects between the pods of two NS/NAME references (pod names NAME-...); from
    ``world`` to an entry point Cilium serves: those Cilium's Envoy sent (the demo has one entry point)."""
    if source == "world":
        return sum(1 for flow in _lines(DEMOS / name / "flows.jsonl") if which(flow) and _from_envoy(flow))

    def pod_of(ref: str, end: str) -> bool:
        ns, _, name = ref.partition("/")
        return end.startswith(f"{ns}/{name}-")

    count = 0
    for flow in _lines(DEMOS / name / "flows.jsonl"):
        if which(flow):
            client, server, _ = _oriented(flow)
            count += pod_of(source, client) and pod_of(destination, server)
    return count


PROXY_BREAK = "cilium-l7-vs-istio-mtls"  # the proxy breaks every request: no failing flow, only redirects


def _own(call: dict[str, Any], asked: dict[str, Any]) -> bool:
    """Whether a listed call is the demo's own request: an L3/L4 failure (every request of the pair
    fails alike) or HTTP records of the asked method and path."""
    request = asked["request"]
    mine = [(r["method"], r["path"]) for r in call["requests"]]
    return not mine or (request["method"], request["path"]) in mine


def _deciding(answer: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    """The objects of the hop that denies or breaks the call (explain's ``by``)."""
    hop = next(h for h in answer["hops"] if h["decision"] in ("deny", "break"))
    return {(o["kind"], o.get("namespace"), o["name"]) for o in hop["by"]}


@pytest.mark.parametrize("demo", sorted(p.name for p in DEMOS.iterdir() if (p / "DESCRIPTION").is_file()))
def test_demo_failing_call_is_listed_with_explains_answer(demo: str) -> None:
    """Every demo's own call (its DESCRIPTION's ``try: explain ...``): when Hubble records its
    failure, triage lists the pair with explain's verdict and causes; when it cannot (an answer
    Istio's own proxy gives), the demo holds no such flow and triage says what it cannot see, naming
    the objects explain finds deciding; a call that works is not listed."""
    question = _demo_question(demo)
    source, destination = question[0], question[1]
    _, out, _ = _invoke(["explain", *question, "--demo", demo, "-o", "json"])
    asked = json.loads(out)
    tcode, doc = _triage("-A", "--demo", demo)
    flows = _lines(DEMOS / demo / "flows.jsonl")
    redirected = [c for c in _calls(doc) if c["signature"] == "redirected to Cilium's L7 proxy"]
    total = sum(_failing(f) for f in flows)
    assert doc["summary"]["failingFlows"] == total + sum(c["flows"] for c in redirected)
    assert tcode == (1 if doc["findings"] else 0)
    if total == 0 and not redirected:
        assert doc["findings"] == []  # a window without failures lists nothing
    for call in redirected:  # kept only where the objects say the proxy breaks the call
        assert call["explain"]["verdict"] == "broken" and PROXY_BREAK in [c["code"] for c in call["explain"]["causes"]]
    listed = [c for c in _calls(doc) if (c["source"], c["destination"]) == (source, destination)]
    seen = _pair_flows(demo, source, destination, _failing)
    if asked["verdict"] == "broken" and PROXY_BREAK in [c["code"] for c in asked["causes"]]:
        seen += _pair_flows(demo, source, destination, _redirect)
    assert sum(c["flows"] for c in listed) == seen
    own = [c for c in listed if _own(c, asked)]
    codes = [c["code"] for c in asked["causes"]]
    if asked["verdict"] not in ("denied", "broken"):
        assert own == []  # the demo's call works: nothing failing is listed for it
    elif own:  # Hubble records the failure: the pair, explain's verdict and causes
        for call in own:
            answer = call["explain"]
            assert (answer["verdict"], [c["code"] for c in answer["causes"]]) == (asked["verdict"], codes)
        finding = next(f for f in doc["findings"] if any(c in own for c in f["calls"]))
        assert finding["kind"] == "explained" and finding["code"] in codes
    else:
        # Hubble records nothing of this failure (an answer the client's sidecar, a waypoint or a
        # gateway gives itself): triage says so, naming the objects explain finds deciding
        unseen = {(u["kind"], u["namespace"], u["name"]) for u in doc["unseen"]}
        assert _deciding(asked) <= unseen, (asked["hops"], doc["unseen"])
        _, text, _ = _invoke(["triage", "-A", "--demo", demo])
        assert "not seen by Hubble" in text
        assert all(f"{kind} {ns}/{name}" in text for kind, ns, name in _deciding(asked))
    for call in listed:  # each listed call: explain's own answer to the request the flows show
        mine = call["explain"]
        request = mine["request"]
        args = [source, destination, "--port", str(mine["destination"]["port"]), "--method", request["method"],
                "--path", request["path"], "--demo", demo, "-o", "json"]  # fmt: skip
        args += ["--host", request["host"]] if source == "world" and request.get("host") else []
        _, out, _ = _invoke(["explain", *args])
        theirs = json.loads(out)
        assert mine["verdict"] == theirs["verdict"] and mine["verdict"] in ("denied", "broken")
        assert [c["code"] for c in mine["causes"]] == [c["code"] for c in theirs["causes"]]


def test_working_demo_lists_nothing() -> None:
    code, out, _ = _invoke(["triage", "-A", "--demo", "sidecar-s0-baseline"])
    assert code == 0 and "no failing flows" in out
    assert "not seen by Hubble" not in out  # no Istio object could answer a call itself


# --- scenarios: collapse, and failures the objects allow -----------------------------------------


def _expected_calls(folder: Path) -> Counter[tuple[str, str, int]]:
    got: Counter[tuple[str, str, int]] = Counter()
    for flow in _lines(folder / "flows.jsonl"):
        if _failing(flow):
            got[_oriented(flow)] += 1
    return got


def _call_key(call: dict[str, Any]) -> tuple[str, str, int]:
    src, dst = call["explain"]["source"], call["explain"]["destination"]
    return f"{src['namespace']}/{src['pods'][0]}", f"{dst['namespace']}/{dst['pods'][0]}", call["port"]


def test_one_policy_breaking_several_pairs_is_one_finding() -> None:
    folder = SCENARIOS / "triage-one-policy-many-pairs"
    code, doc = _triage("-A", "--from", str(folder))
    assert code == 1
    expected = _expected_calls(folder)
    assert doc["summary"]["failingFlows"] == sum(expected.values())
    assert {_call_key(c): c["flows"] for c in _calls(doc)} == dict(expected)
    first, second = doc["findings"]  # ranked by failing flows
    assert (first["code"], first["objects"][0]["name"], first["pairs"]) == ("cilium-policy-denied", "ledger-ingress", 3)
    assert {c["source"].split("/")[1].split("-")[0] for c in first["calls"]} == {"cart", "checkout", "frontend"}
    assert first["clients"] == 3 and first["flows"] == 13
    # the same code on another object is a finding of its own
    assert (second["code"], second["objects"][0]["name"], second["pairs"]) == (
        "cilium-policy-denied",
        "audit-ingress",
        1,
    )
    assert all(c["explain"]["verdict"] == "denied" for c in _calls(doc))


def test_failing_flows_the_objects_allow_are_their_own_findings() -> None:
    folder = SCENARIOS / "triage-failing-flows-objects-allow"
    code, doc = _triage("-A", "--from", str(folder))
    assert code == 1
    by_server = {f["calls"][0]["destination"].split("/")[1].split("-")[0]: f for f in doc["findings"]}
    catalog_f, search_f, admin_f = by_server["catalog"], by_server["search"], by_server["admin"]
    assert catalog_f["kind"] == search_f["kind"] == "objects-allow"
    assert catalog_f["code"] == search_f["code"] == "failing-call-objects-allow"
    assert "objects say this call works" in catalog_f["summary"]
    assert "answered HTTP 503 itself" in search_f["summary"]
    assert search_f["calls"][0]["requests"][0] == {"method": "GET", "path": "/q", "status": 503, "flows": 3}
    assert (admin_f["kind"], admin_f["code"]) == ("explained", "cilium-policy-denied")
    assert {_call_key(c): c["flows"] for c in _calls(doc)} == dict(_expected_calls(folder))


def test_flows_cilium_envoy_sent_are_explained_through_the_entry_point_that_routes_there(tmp_path: Path) -> None:
    """Cilium's Envoy (identity ingress, no pod) at one end: the north-south call behind the flows is
    asked (explain's own answer, a runnable 'see' line); several entry points that fit are named, none
    picked; a backend no Cilium-served entry point routes to (its only Ingress is nginx's), or a host
    none serves, stays unexplained with that reason."""
    folder = str(SCENARIOS / "triage-cilium-envoy-backends")
    code, doc = _triage("-A", "--from", folder)
    flows = _lines(SCENARIOS / "triage-cilium-envoy-backends" / "flows.jsonl")
    assert code == 1 and doc["summary"]["failingFlows"] == sum(_failing(f) for f in flows) == 8
    calls = {(c["source"], c["destination"]): (f, c) for f in doc["findings"] for c in f["calls"]}
    finding, web = calls[("world", "shop/ingress/storefront")]
    assert web["flows"] == sum(1 for f in flows if _from_envoy(f) and f["destination"]["pod_name"].startswith("web-"))
    assert (finding["kind"], finding["code"], finding["verdict"]) == (
        "explained",
        "cilium-ingress-backend-denied",
        "denied",
    )
    assert "inferred from Ingress shop/storefront spec.rules[0].http.paths[0]" in web["note"]
    _, out, _ = _invoke(["explain", "world", "shop/ingress/storefront", "--host", "shop.example.com", "--from", folder,
                         "-o", "json"])  # fmt: skip
    theirs = json.loads(out)
    assert [c["code"] for c in web["explain"]["causes"]] == [c["code"] for c in theirs["causes"]]
    # the outside client's 503 from Envoy (host shop.example.com): the same call from its address, same cause
    _, front = calls[("198.51.100.4", "shop/ingress/storefront")]
    assert front in finding["calls"] and front["explain"]["request"]["host"] == "shop.example.com"
    search_f, search = calls[("10.244.1.77", "shop/search")]
    assert search_f["kind"] == "unexplained" and search["explain"] is None
    assert "edge/gateway/public, shop/ingress/storefront" in search["error"] and "which one" in search["error"]
    assert search["asked"].startswith("explain world edge/gateway/public")
    admin_f, admin = calls[("10.244.1.77", "shop/admin")]
    assert admin_f["kind"] == "unexplained" and "no entry point Cilium serves" in admin["error"]
    _, stray = calls[("198.51.100.5", "10.244.1.77")]
    assert "no entry point Cilium serves" in stray["error"] and "unknown.example.org" in stray["error"]
    _, text, _ = _invoke(["triage", "-A", "--from", folder])
    sees = [line.split("see", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("see ")]
    assert len(sees) == 2  # the unexplained ones with no call to ask have no 'see' line
    for see in sees:
        args = shlex.split(see.removeprefix("kubectl meshdoctor "))
        assert args[:2] == ["explain", "world"] and json.loads(_invoke([*args, "-o", "json"])[1])["verdict"] == "denied"
    # near miss: a clusterwide policy denies world at the entry, so Envoy would never call web: not explained
    source = SCENARIOS / "triage-cilium-envoy-backends"
    for name in ("objects.yaml", "flows.jsonl"):
        (tmp_path / name).write_text((source / name).read_text())
    deny = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "no-world"},
            "spec": {"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}]}}  # fmt: skip
    (tmp_path / "deny.yaml").write_text(yaml.safe_dump(deny))
    _, doc = _triage("-A", "--from", str(tmp_path))
    web_f, web = {(c["source"], c["destination"]): (f, c) for f in doc["findings"] for c in f["calls"]}[
        ("10.244.1.77", "shop/web")
    ]
    assert web_f["kind"] == "unexplained" and "denies the request at its own policy" in web["error"]


def test_answers_istio_gives_itself_are_named_not_invented() -> None:
    """Istio's own 403/503 leave no failing flow (red -> green shows only FORWARDED TCP): triage
    lists no call and names the objects that can answer, in scope; explain decides each call."""
    folder = str(SCENARIOS / "triage-istio-answers-unseen")
    code, doc = _triage("-A", "--from", folder)
    assert (code, doc["findings"], doc["summary"]["failingFlows"]) == (0, [], 0)
    names = [(u["kind"], u["namespace"], u["name"]) for u in doc["unseen"]]
    assert names == [("VirtualService", "blue", "echo"), ("VirtualService", "blue", "web"),
                     ("AuthorizationPolicy", "green", "deny-red"), ("Service", "blue", "down")]  # fmt: skip
    assert "fault aborts" in doc["unseen"][0]["answers"] and "403" in doc["unseen"][2]["answers"]
    assert "no healthy upstream" in doc["unseen"][3]["answers"]  # no ready endpoint behind blue/down
    # -n red: the client-side VirtualService exported to red; not blue/echo (exportTo ".", the near
    # miss), not green's AuthorizationPolicy nor blue/down (server side, another namespace)
    _, doc = _triage("-n", "red", "--from", folder)
    assert [u["name"] for u in doc["unseen"]] == ["web"]
    _, doc = _triage("-n", "green", "--from", folder)
    assert [u["name"] for u in doc["unseen"]] == ["web", "deny-red"]
    _, doc = _triage("-n", "blue", "--from", folder)
    assert [u["name"] for u in doc["unseen"]] == ["echo", "web", "down"]
    _, out, _ = _invoke(["triage", "-n", "red", "--from", folder])
    assert "no failing flows" in out and "not seen by Hubble" in out and "VirtualService blue/web:" in out
    _, md, _ = _invoke(["triage", "-A", "--from", folder, "-o", "markdown"])
    assert "### Not seen by Hubble" in md and "`AuthorizationPolicy green/deny-red`" in md
    _, out, _ = _invoke(["explain", "red/client", "green/svc/api", "--from", folder, "-o", "json"])
    assert json.loads(out)["verdict"] == "denied"  # what Hubble shows forwarded, Istio denies


def test_mesh_routes_istio_applies_are_named_where_they_apply() -> None:
    """GAMMA routes: a producer route (beside its Service) routes every mesh client, a consumer
    route only its own namespace's clients; neither leaves a failing flow when it answers 404."""
    folder = str(SCENARIOS / "gamma-mesh-routes")
    for namespace, names in (("web", ["echo-producer", "echo-consumer"]), ("shop", ["echo-producer"]),
                             ("plain", ["echo-producer"])):  # fmt: skip
        code, doc = _triage("-n", namespace, "--from", folder)
        assert (code, doc["findings"]) == (0, [])
        assert [u["name"] for u in doc["unseen"] if u["kind"] == "HTTPRoute"] == names, namespace
        assert all("GAMMA" in u["answers"] for u in doc["unseen"] if u["kind"] == "HTTPRoute")


def test_namespace_scope_and_unknown_namespace() -> None:
    folder = str(SCENARIOS / "triage-one-policy-many-pairs")
    _, doc = _triage("-n", "web", "--from", folder)
    assert [c["source"].split("-")[0] for c in _calls(doc)] == ["web/frontend"]
    _, doc = _triage("-n", "payments", "--from", folder)
    assert doc["summary"]["calls"] == 4
    code, _, err = _invoke(["triage", "-n", "paymnts", "--from", folder])
    assert code == 2 and "did you mean payments" in err and "Traceback" not in err


def test_since_counts_back_from_the_newest_flow() -> None:
    from datetime import datetime

    path = SCENARIOS / "triage-one-policy-many-pairs" / "flows.jsonl"
    flows = _lines(path)

    def when(flow: dict[str, Any]) -> float:
        return datetime.fromisoformat(flow["time"].replace("Z", "+00:00")).timestamp()

    newest = max(when(f) for f in flows)
    expected = sum(1 for f in flows if _failing(f) and when(f) >= newest - 2.5)
    _, doc = _triage("-A", "--from", str(path.parent), "--since", "2500ms")
    assert 0 < doc["summary"]["failingFlows"] == expected < sum(_failing(f) for f in flows)


def test_yaml_equals_json_and_markdown_has_the_graph() -> None:
    folder = str(SCENARIOS / "triage-one-policy-many-pairs")
    _, as_json = _triage("-A", "--from", folder)
    code, out, _ = _invoke(["triage", "-A", "--from", folder, "-o", "yaml", "--top", "0"])
    assert code == 1 and yaml.safe_load(out) == as_json
    code, md, _ = _invoke(["triage", "-A", "--from", folder, "-o", "markdown"])
    assert code == 1 and "```mermaid" in md and "flowchart LR" in md
    assert md.count("linkStyle") == 4  # one coloured edge per failing call
    assert md.count("stroke:#cf222e") == 3  # the three pairs of finding 1 share its colour


def test_follow_needs_a_live_cluster() -> None:
    code, _, err = _invoke(["triage", "-A", "--demo", "sidecar-s1-l4-policy", "-f"])
    assert code == 2 and err.strip().count("\n") == 0 and "--follow needs a live cluster" in err


# --- the real recorded flows (flows only) ---------------------------------------------------------

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"Hubble samples not found at {SAMPLES}")


@needs_samples
def test_recorded_samples_groups_and_counts_match_the_flows() -> None:
    files = sorted((SAMPLES / "cilium-hubble-otel").glob("*.json"))
    expected: Counter[tuple[str, str, int, str]] = Counter()
    for path in files:
        for flow in _lines(path):
            if _failing(flow):
                code = ((flow.get("l7") or {}).get("http") or {}).get("code", 0)
                expected[(*_oriented(flow), f"HTTP {code}")] += 1
    assert expected, "the samples hold HTTP 503s"
    code, doc = _triage("-A", "--from", str(SAMPLES / "cilium-hubble-otel"))
    assert code == 3  # flows only: found, none explained by objects
    assert doc["summary"]["failingFlows"] == sum(expected.values())
    got: Counter[tuple[str, str, int, str]] = Counter()
    for call in _calls(doc):
        assert call["explain"]["verdict"] == "unknown"
        assert any("no Kubernetes objects" in g for g in call["explain"]["gaps"])
        # the group's flows are exactly the file's failing flows between its client pods and its server
        dst = call["explain"]["destination"]
        servers = {f"{dst['namespace']}/{p}" for p in dst["pods"]} | {call["destination"]}
        per_pod = {k: n for k, n in expected.items() if k[0] in call["clientPods"] and k[1] in servers
                   and k[2] == call["port"] and k[3] == call["signature"]}  # fmt: skip
        assert sum(per_pod.values()) == call["flows"], call["source"]
        got.update(per_pod)
    assert got == expected
    assert all(f["kind"] == "unexplained" for f in doc["findings"])


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("netshoot-5c7f9d8b6d-k2xqz", "netshoot"),  # Deployment: -<template hash>-<suffix>
        ("node-local-dns-r99x7", "node-local-dns"),  # DaemonSet: -<suffix>
        ("web-0", "web"),  # StatefulSet: -<ordinal>
        ("my-pod", "my-pod"),  # a bare pod keeps its name
    ],
)
def test_flow_only_pods_are_named_by_their_workload(pod: str, workload: str) -> None:
    from kubectl_meshdoctor.diagnosis.triage_groups import workload_of

    assert workload_of(pod) == workload


def test_byte_prefilter_keeps_every_failure_however_it_is_written(tmp_path: Path) -> None:
    """Verdicts by name or number (protojson accepts both), spaced or not, HTTP codes, RST flags:
    the prefilter never drops a line the failure filters select (compared with a full decode)."""
    from kubectl_meshdoctor._proto import flow_pb2
    from kubectl_meshdoctor.sources.flow_window import Window
    from kubectl_meshdoctor.sources.flowfiles import file_flow
    from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
    from kubectl_meshdoctor.sources.flowjson import read_flow_file
    from kubectl_meshdoctor.sources.flowlite import KeptReader
    from kubectl_meshdoctor.sources.triage_flows import failure_filters, read_failures

    base = {
        "time": "2026-11-20T10:00:00Z",
        "IP": {"source": "10.0.0.1", "destination": "10.0.0.2"},
        "source": {"namespace": "a", "pod_name": "c-1"},
        "destination": {"namespace": "b", "pod_name": "s-1"},
    }
    variants = [
        {"verdict": "DROPPED"},
        {"verdict": 2},
        {"verdict": 3},
        {"verdict": "FORWARDED"},
        {"verdict": 1},
        {"verdict": "FORWARDED", "l4": {"TCP": {"flags": {"RST": True}}}},
        {"verdict": "FORWARDED", "l4": {"TCP": {"flags": {"SYN": True}}}},
        {"verdict": "FORWARDED", "l7": {"type": "RESPONSE", "http": {"code": 503}}},
        {"verdict": "FORWARDED", "l7": {"type": "RESPONSE", "http": {"code": 200}}},
        {"verdict": "REDIRECTED", "event_type": {"type": 5}},
        {"verdict": 5, "event_type": {"type": 5}},
    ]
    lines = []
    for i, extra in enumerate(variants):
        flow = {**base, **extra}
        text = json.dumps({"flow": flow}, separators=(",", ":") if i % 2 else (", ", ": "))
        lines.append(text)
    path = tmp_path / "flows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    match = FlowMatcher(failure_filters(None))
    expected = [f for f in read_flow_file(path).flows if match(f)]
    got: list[Any] = []
    kept = KeptReader()

    def out(_: Any, keep: flow_pb2.Flow | bytes) -> None:
        got.append(keep if isinstance(keep, flow_pb2.Flow) else kept.parse(keep))

    read_failures([file_flow(path, path.name)], None, Window(), out)
    assert len(expected) == 7 and got == expected


@pytest.mark.parametrize(
    "demo",
    [
        "sidecar-s3-authn-disable",
        "sidecar-s2-l7-policy",
        "ambient-a1-l4-port80",
        "cilium-ingress-backend-no-ingress",
        "cilium-gateway-istio-strict",
    ],
)
def test_each_see_line_reproduces_its_finding_on_the_same_input(demo: str) -> None:
    """The "see" line is a command to paste: it names the input triage read and gives the same verdict."""
    result = CliRunner().invoke(cli, ["triage", "-A", "--demo", demo])
    heads = [line for line in result.stdout.splitlines() if line.startswith("#")]
    sees = [line.split("see", 1)[1].strip() for line in result.stdout.splitlines() if line.strip().startswith("see ")]
    assert heads and len(sees) == len(heads)
    for head, see in zip(heads, sees, strict=True):
        assert see.endswith(f"--demo {demo}")
        args = shlex.split(see.removeprefix("kubectl meshdoctor "))
        doc = json.loads(CliRunner().invoke(cli, [*args, "-o", "json"]).stdout)
        assert f"; {doc['verdict']}]" in head, (head, see, doc["verdict"])
