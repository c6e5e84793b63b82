"""Manifests as people have them (issue 11 item 9): CRLF, typed lists, workloads without pods."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.model.build import build_model
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.decode import decode_documents

TWO_DOCS = (
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: red}\n---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: blue}\n"
)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (TWO_DOCS, ["red", "blue"]),
        (TWO_DOCS.replace("\n", "\r\n"), ["red", "blue"]),  # CRLF: '---\r' is still a separator
        ("\ufeff" + TWO_DOCS.replace("\n", "\r\n"), ["red", "blue"]),  # BOM
        ("apiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: red}\r\n", ["red"]),
    ],
)
def test_multi_document_line_endings(text: str, names: list[str]) -> None:
    objects, gaps = decode_documents(text, "ns.yaml")
    assert [o.doc["metadata"]["name"] for o in objects] == names
    assert gaps == []


@pytest.mark.parametrize(
    ("doc", "kinds"),
    [
        # typed list: items carry no kind, the list's kind names it
        ({"kind": "PodList", "items": [{"metadata": {"name": "a"}}]}, ["Pod"]),
        ({"kind": "NamespaceList", "apiVersion": "v1", "items": [{"metadata": {"name": "x"}}]}, ["Namespace"]),
        # an item's own kind wins; kind: List gives no kind to infer
        ({"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "s"}}]}, ["Service"]),
        ({"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "a"}}]}, ["Pod"]),
        # `kind` after `items` (as kubectl prints YAML) or missing altogether
        ({"items": [{"kind": "Pod", "metadata": {"name": "a"}}], "kind": "PodList"}, ["Pod"]),
        ({"apiVersion": "v1", "items": [{"kind": "Pod", "metadata": {"name": "a"}}]}, ["Pod"]),
    ],
)
def test_typed_lists(doc: dict[str, object], kinds: list[str]) -> None:
    objects, gaps = decode_documents(json.dumps(doc), "list.json")
    assert [o.doc["kind"] for o in objects] == kinds
    assert gaps == []


def test_kind_list_items_without_kind_stay_gaps() -> None:
    """Near miss: a generic `kind: List` says nothing about its items' kind."""
    objects, gaps = decode_documents(json.dumps({"kind": "List", "items": [{"metadata": {"name": "a"}}]}), "l.json")
    assert objects == []
    assert len(gaps) == 1 and "without kind" in gaps[0]


def _deploy(kind: str, name: str, template_spec: dict[str, object], **spec: object) -> dict[str, object]:
    template = {"metadata": {"labels": {"app": name}}, "spec": template_spec}
    if kind == "CronJob":
        body: dict[str, object] = {"jobTemplate": {"spec": {"template": template}}}
    else:
        body = {"selector": {"matchLabels": {"app": name}}, "template": template}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "blue"}, "spec": body}


APP = {
    "serviceAccountName": "robot",
    "containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}],
}


def _model(*docs: dict[str, object]) -> object:
    from kubectl_meshdoctor.raw import RawObject

    return build_model(RawSnapshot(objects=[RawObject(d, "m.yaml:1") for d in docs]))


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"])
def test_each_workload_template_stands_for_its_pods(kind: str) -> None:
    m = _model(_deploy(kind, "web", APP))
    pods = list(m.pods.values())  # type: ignore[attr-defined]
    assert len(pods) == 1
    pod = pods[0]
    assert pod.inferred and pod.namespace == "blue"
    assert pod.labels == {"app": "web"}
    assert pod.service_account == "robot"
    assert pod.named_port("http") == 8080
    assert pod.node is None and pod.ip is None
    assert (pod.workload_kind, pod.workload_name) == (kind, "web")
    assert any("inferred from their pod templates" in w for w in m.warnings)  # type: ignore[attr-defined]


def test_host_network_template() -> None:
    m = _model(_deploy("DaemonSet", "agent", {**APP, "hostNetwork": True}))
    assert next(iter(m.pods.values())).host_network  # type: ignore[attr-defined]


def test_owned_replicaset_and_job_are_their_owner() -> None:
    rs = _deploy("ReplicaSet", "web-5d8f", APP)
    rs["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "web", "controller": True}]  # type: ignore[index]
    job = _deploy("Job", "nightly-123", APP)
    job["metadata"]["ownerReferences"] = [{"kind": "CronJob", "name": "nightly", "controller": True}]  # type: ignore[index]
    m = _model(_deploy("Deployment", "web", APP), rs, _deploy("CronJob", "nightly", APP), job)
    assert sorted(m.pods) == ["blue/nightly-inferred", "blue/web-inferred"]  # type: ignore[attr-defined]


def test_near_misses_no_inference() -> None:
    """Pods present (a live cluster or a snapshot): nothing is inferred; replicas 0 means no pod."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other", "namespace": "red"}, "spec": {}}
    m = _model(_deploy("Deployment", "web", APP), pod)
    assert sorted(m.pods) == ["red/other"]  # type: ignore[attr-defined]
    assert not any("inferred" in w for w in m.warnings)  # type: ignore[attr-defined]
    m0 = _model(_deploy("Deployment", "web", APP, replicas=0))
    assert m0.pods == {}  # type: ignore[attr-defined]
    assert any("replicas: 0" in w for w in m0.warnings)  # type: ignore[attr-defined]


GITOPS = """\
apiVersion: v1\r
kind: Namespace\r
metadata: {name: blue}\r
---\r
apiVersion: apps/v1\r
kind: Deployment\r
metadata: {name: client, namespace: blue}\r
spec:\r
  selector: {matchLabels: {app: client}}\r
  template:\r
    metadata: {labels: {app: client}}\r
    spec: {containers: [{name: app}]}\r
---\r
apiVersion: apps/v1\r
kind: Deployment\r
metadata: {name: web, namespace: blue}\r
spec:\r
  selector: {matchLabels: {app: web}}\r
  template:\r
    metadata: {labels: {app: web}}\r
    spec: {containers: [{name: app, ports: [{containerPort: 8080}]}]}\r
---\r
apiVersion: v1\r
kind: Service\r
metadata: {name: web, namespace: blue}\r
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\r
---\r
apiVersion: networking.k8s.io/v1\r
kind: NetworkPolicy\r
metadata: {name: web, namespace: blue}\r
spec:\r
  podSelector: {matchLabels: {app: web}}\r
  ingress: [{from: [{podSelector: {matchLabels: {app: other}}}]}]\r
"""


def test_gitops_repo_explain_says_pods_are_inferred(tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_bytes(GITOPS.encode())
    runner = CliRunner()
    result = runner.invoke(cli, ["explain", "blue/client", "blue/web", "--from", str(tmp_path), "-o", "json"])
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "denied" and result.exit_code == 1
    assert doc["destination"]["targetPort"] == 8080
    assert any("inferred from their pod templates" in w for w in doc["warnings"])
    text = runner.invoke(cli, ["explain", "blue/client", "blue/web", "--from", str(tmp_path)])
    assert "inferred from their pod templates" in " ".join(text.stdout.split())


DNS_EGRESS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: blue}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
          podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}]
  - to: [{podSelector: {matchLabels: {app: web}}}]
"""


@pytest.mark.parametrize(("dns_rule", "dns_decision"), [(True, "allow"), (False, "break")])
def test_gitops_repo_without_kube_dns(tmp_path: Path, dns_rule: bool, dns_decision: str) -> None:
    """kube-dns is not in a GitOps repo: its standard identity is assumed (and said), so an egress
    rule written for it allows DNS (fires) and a policy without one still blocks it (near miss)."""
    text = GITOPS.replace("\r\n", "\n") + (DNS_EGRESS if dns_rule else DNS_EGRESS.split("  - to: [{namespace")[0])
    (tmp_path / "all.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["explain", "blue/client", "web.blue", "--from", str(tmp_path), "-o", "json"])
    doc = json.loads(result.stdout)
    dns = next(h for h in doc["hops"] if h["name"] == "dns")
    assert dns["decision"] == dns_decision, dns
    assert "assumed k8s-app=kube-dns" in dns["detail"]
