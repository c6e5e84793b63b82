"""Cilium's own connectivity test suite, reconstructed (issue 11 item 10).

``../shared/data/cilium-connectivity/manifests`` holds the policies of ``cilium connectivity test``
verbatim. The test deployment is rebuilt here from the suite's public description
(cilium-cli ``connectivity/check/deployment.go``, facts only): namespace ``cilium-test``;
Deployments ``client`` (labels name=client, kind=client), ``client2`` (+ other=client) and
``client3`` (+ other=client-other-node), echo servers ``echo-same-node`` (kind=echo, other=echo)
and ``echo-other-node`` (kind=echo, first=echo) with container port 8080 named ``http-8080``;
each pod runs as a service account named like its Deployment. The manifests are given as
Deployments only (no Pods), as a GitOps repository would hold them, and the policies are
applied in ``cilium-test`` (``kubectl apply -n``).

Each case is one test of the suite (``connectivity/builder/*.go``): its policies, the calls its
scenarios make (PodToPod: each client to each echo pod, GET / on 8080; PodToPodWithEndpoints:
/public, /private and /private with ``X-Very-Secret-Token: 42``) and the outcome its
expectation function gives. ICMP, world/CIDR/FQDN, host-firewall and ingress-controller tests are
out of scope (no TCP pod-to-pod call to reason about).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.explain import explain
from kubectl_meshdoctor.model.build import build_model
from kubectl_meshdoctor.raw import RawObject, RawSnapshot

MANIFESTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cilium-connectivity" / "manifests"
NS = "cilium-test"
# defaults of `cilium connectivity test` (README beside the manifests)
TEMPLATE = {
    "{{.ExternalCIDR}}": "1.0.0.0/8",
    "{{.ExternalIP}}": "1.1.1.1",
    "{{.ExternalOtherIP}}": "1.0.0.1",
    '{{trimSuffix .ExternalTarget "."}}': "one.one.one.one",
    "{{.ExternalTarget}}": "one.one.one.one.",
}


def _deployment(name: str, kind: str, labels: dict[str, str], port: bool) -> dict[str, Any]:
    pod_labels = {"name": name, "kind": kind, **labels}
    container: dict[str, Any] = {"name": name, "image": "test"}
    if port:
        container["ports"] = [{"name": "http-8080", "containerPort": 8080}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": {"name": name, "kind": kind}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"name": name, "kind": kind}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {"serviceAccountName": name, "containers": [container]},
            },
        },
    }


DEPLOYMENT = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
    _deployment("client", "client", {}, False),
    _deployment("client2", "client", {"other": "client"}, False),
    _deployment("client3", "client", {"other": "client-other-node"}, False),
    _deployment("echo-same-node", "echo", {"other": "echo"}, True),
    _deployment("echo-other-node", "echo", {"first": "echo"}, True),
]
LABELS = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in DEPLOYMENT[1:]}
CLIENTS = ("client", "client2", "client3")
ECHOS = ("echo-same-node", "echo-other-node")
SECRET = ("x-very-secret-token", "42")


@dataclass(frozen=True)
class Call:
    src: str
    dst: str
    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()


# outcome: "ok" | "egress-drop" | "ingress-drop" | "http-403"
Expect = Callable[[Call], str]


def pod_to_pod(sources: tuple[str, ...] = CLIENTS) -> list[Call]:
    return [Call(s, d) for s in sources for d in ECHOS]


def with_endpoints(method: str = "GET", dest: dict[str, str] | None = None) -> list[Call]:
    out = []
    for s in CLIENTS:
        for d in ECHOS:
            if dest and any(LABELS[d].get(k) != v for k, v in dest.items()):
                continue
            out += [Call(s, d, method, "/public"), Call(s, d, method, "/private")]
            out.append(Call(s, d, method, "/private", (SECRET,)))
    return out


def has(name: str, key: str, value: str) -> bool:
    return LABELS[name].get(key) == value


def echo_ingress_l7(c: Call) -> str:
    if has(c.src, "other", "client"):
        return "http-403" if c.path == "/private" and SECRET not in c.headers else "ok"
    return "ingress-drop"


def client_egress_l7_method(c: Call) -> str:
    if has(c.src, "other", "client"):
        return "ok" if has(c.dst, "other", "echo") else "http-403"
    return "egress-drop"


SUITE: list[tuple[str, list[str], list[Call], Expect]] = [
    ("no-policies", [], pod_to_pod(), lambda c: "ok"),
    ("allow-all-except-world", ["allow-all-except-world"], pod_to_pod(), lambda c: "ok"),
    ("all-ingress-deny", ["deny-all-ingress"], pod_to_pod(), lambda c: "ingress-drop"),
    ("all-ingress-deny-knp", ["deny-all-ingress-knp"], pod_to_pod(), lambda c: "ingress-drop"),
    ("all-egress-deny", ["deny-all-egress"], pod_to_pod(), lambda c: "egress-drop"),
    ("all-egress-deny-knp", ["deny-all-egress-knp"], pod_to_pod(), lambda c: "egress-drop"),
    ("all-entities-deny", ["deny-all-entities"], pod_to_pod(), lambda c: "egress-drop"),
    ("cluster-entity", ["allow-cluster-entity"], pod_to_pod(), lambda c: "ok"),
    (
        "echo-ingress",
        ["echo-ingress-from-other-client"],
        pod_to_pod(),
        lambda c: "ok" if has(c.src, "other", "client") else "ingress-drop",
    ),
    (
        "echo-ingress-knp",
        ["echo-ingress-from-other-client-knp"],
        pod_to_pod(),
        lambda c: "ok" if has(c.src, "other", "client") else "ingress-drop",
    ),
    ("client-egress", ["client-egress-to-echo"], pod_to_pod(), lambda c: "ok"),
    ("client-egress-knp", ["client-egress-to-echo-knp"], pod_to_pod(), lambda c: "ok"),
    ("client-egress-expression", ["client-egress-to-echo-expression"], pod_to_pod(), lambda c: "ok"),
    ("client-egress-expression-knp", ["client-egress-to-echo-expression-knp"], pod_to_pod(), lambda c: "ok"),
    (
        "client-egress-expression-port-range",
        ["client-egress-to-echo-expression-port-range"],
        pod_to_pod(),
        lambda c: "ok",
    ),
    (
        "client-egress-expression-knp-port-range",
        ["client-egress-to-echo-expression-knp-port-range"],
        pod_to_pod(),
        lambda c: "ok",
    ),
    (
        "client-with-service-account-egress-to-echo",
        ["client-with-service-account-egress-to-echo"],
        pod_to_pod(),
        lambda c: "ok",
    ),
    (
        "client-with-service-account-egress-to-echo-port-range",
        ["client-with-service-account-egress-to-echo-port-range"],
        pod_to_pod(),
        lambda c: "ok",
    ),
    (
        "client-egress-to-echo-service-account",
        ["client-egress-to-echo-service-account"],
        pod_to_pod(),
        lambda c: "ok" if c.dst == "echo-same-node" else "egress-drop",
    ),
    (
        "client-egress-to-echo-service-account-port-range",
        ["client-egress-to-echo-service-account-port-range"],
        pod_to_pod(),
        lambda c: "ok" if c.dst == "echo-same-node" else "egress-drop",
    ),
    (
        "client-egress-to-echo-deny",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-deny"],
        pod_to_pod(),
        lambda c: "egress-drop",
    ),
    (
        "client-egress-to-echo-deny-port-range",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-deny-port-range"],
        pod_to_pod(),
        lambda c: "egress-drop",
    ),
    (
        "client-ingress-to-echo-named-port-deny",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-named-port-deny"],
        pod_to_pod(("client", "client2")),
        lambda c: "ingress-drop" if c.src == "client" else "ok",
    ),
    (
        "client-egress-to-echo-expression-deny",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-expression-deny"],
        pod_to_pod(),
        lambda c: "egress-drop" if c.src == "client" else "ok",
    ),
    (
        "client-egress-to-echo-expression-deny-port-range",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-expression-deny-port-range"],
        pod_to_pod(),
        lambda c: "egress-drop" if c.src == "client" else "ok",
    ),
    (
        "client-with-service-account-egress-to-echo-deny",
        ["allow-all-egress", "allow-all-ingress", "client-with-service-account-egress-to-echo-deny"],
        pod_to_pod(),
        lambda c: "egress-drop" if c.src == "client" else "ok",
    ),
    (
        "client-egress-to-echo-service-account-deny",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-service-account-deny"],
        pod_to_pod(),
        lambda c: "egress-drop" if c.src == "client" and c.dst == "echo-same-node" else "ok",
    ),
    (
        "client-egress-to-echo-service-account-deny-port-range",
        ["allow-all-egress", "allow-all-ingress", "client-egress-to-echo-service-account-deny-port-range"],
        pod_to_pod(),
        lambda c: "egress-drop" if c.src == "client" and c.dst == "echo-same-node" else "ok",
    ),
    (
        "echo-ingress-from-other-client-deny",
        ["allow-all-egress", "allow-all-ingress", "echo-ingress-from-other-client-deny"],
        pod_to_pod(),
        lambda c: "ingress-drop" if has(c.src, "other", "client") else "ok",
    ),
    ("echo-ingress-l7", ["echo-ingress-l7-http"], with_endpoints(), echo_ingress_l7),
    ("echo-ingress-l7-named-port", ["echo-ingress-l7-http-named-port"], with_endpoints(), echo_ingress_l7),
    (
        "client-egress-l7-method",
        ["client-egress-only-dns", "client-egress-l7-http-method"],
        with_endpoints("POST", {"other": "echo"}) + with_endpoints("GET", {"first": "echo"}),
        client_egress_l7_method,
    ),
    (
        "client-egress-l7-method-port-range",
        ["client-egress-only-dns", "client-egress-l7-http-method-port-range"],
        with_endpoints("POST", {"other": "echo"}) + with_endpoints("GET", {"first": "echo"}),
        client_egress_l7_method,
    ),
    (
        "client-egress-l7",
        ["client-egress-only-dns", "client-egress-l7-http"],
        pod_to_pod(),
        lambda c: "ok" if has(c.src, "other", "client") else "egress-drop",
    ),
    (
        "client-egress-l7-port-range",
        ["client-egress-only-dns", "client-egress-l7-http-port-range"],
        pod_to_pod(),
        lambda c: "ok" if has(c.src, "other", "client") else "egress-drop",
    ),
    (
        "client-egress-l7-named-port",
        ["client-egress-only-dns", "client-egress-l7-http-named-port"],
        pod_to_pod(),
        lambda c: "ok" if has(c.src, "other", "client") else "egress-drop",
    ),
]


def load_policy(name: str) -> list[dict[str, Any]]:
    text = (MANIFESTS / f"{name}.yaml").read_text()
    for placeholder, value in TEMPLATE.items():
        text = text.replace(placeholder, value)
    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        doc["metadata"].setdefault("namespace", NS)  # `kubectl apply -n cilium-test`
    return docs


def outcome(policies: list[str], call: Call) -> tuple[str, str]:
    docs = copy.deepcopy(DEPLOYMENT) + [d for p in policies for d in load_policy(p)]
    model = build_model(RawSnapshot(objects=[RawObject(d, f"{d['kind']}/{d['metadata']['name']}") for d in docs]))
    query = Query(
        f"{NS}/{call.src}",
        f"{NS}/pod/{call.dst}-inferred",
        port=8080,
        method=call.method,
        path=call.path,
        headers=call.headers,
        no_flows=True,
    )
    d = explain(model, query)
    broken = next((h for h in d.hops if h.decision.value in ("deny", "break", "unknown")), None)
    summary = f"{d.verdict.value} {d.symptom.value} at {broken.hop.value if broken else '-'}: " + (
        broken.detail if broken else ""
    )
    if d.verdict.value == "allowed":
        return "ok", summary
    if d.verdict.value == "denied" and d.symptom.value == "http-403":
        return "http-403", summary
    if d.verdict.value == "denied" and broken is not None and broken.hop.value == "cilium-egress":
        return "egress-drop", summary
    if d.verdict.value == "denied" and broken is not None and broken.hop.value == "cilium-ingress":
        return "ingress-drop", summary
    return "other", summary


def test_deployment_is_inferred_from_templates() -> None:
    model = build_model(RawSnapshot(objects=[RawObject(d, "deployment.yaml") for d in copy.deepcopy(DEPLOYMENT)]))
    assert sorted(model.pods) == sorted(f"{NS}/{n}-inferred" for n in LABELS)
    assert model.pods[f"{NS}/echo-same-node-inferred"].named_port("http-8080") == 8080
    assert model.pods[f"{NS}/client2-inferred"].identity["io.cilium.k8s.policy.serviceaccount"] == "client2"


@pytest.mark.skipif(not MANIFESTS.is_dir(), reason="../shared/data/cilium-connectivity not beside the repo")
@pytest.mark.parametrize(("name", "policies", "calls", "expect"), SUITE, ids=[s[0] for s in SUITE])
def test_connectivity_suite(name: str, policies: list[str], calls: list[Call], expect: Expect) -> None:
    wrong = []
    for call in calls:
        want = expect(call)
        got, summary = outcome(policies, call)
        if got != want:
            wrong.append(f"{call}: suite expects {want}, we say {summary}")
    assert not wrong, "\n".join(wrong)
