"""Destinations and sources by address (issue 10 §3): ClusterIPs, pod IPs, every cluster DNS form,
headless names, and names no Service answers (a DNS failure, never a success)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMO = "sidecar-s2-l7-policy"
DEMO_DIR = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "demos" / DEMO


def explain(*args: str, demo: str = DEMO) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["explain", *args, "--demo", demo, "-o", "json"])
    doc = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.exit_code, doc, result.stderr


def _yaml_value(path: Path, key: str) -> str:
    line = next(line for line in path.read_text().splitlines() if line.strip().startswith(f"{key}:"))
    return line.split(":", 1)[1].strip()


def _essentials(doc: dict[str, Any]) -> tuple[Any, ...]:
    return (
        doc["verdict"],
        doc["symptom"],
        [c["code"] for c in doc["causes"]],
        doc["destination"]["namespace"],
        doc["destination"]["service"],
        doc["destination"]["pods"],
    )


BY_NAME = explain("red/netshoot", "blue/httpbin", "--path", "/ip")


@pytest.mark.parametrize(
    "destination",
    ["httpbin.blue", "httpbin.blue.svc", "httpbin.blue.svc.cluster.local", "httpbin.blue.svc.cluster.local."],
)
def test_every_cluster_dns_form_is_the_service(destination: str) -> None:
    code, doc, _ = explain("red/netshoot", destination, "--path", "/ip")
    assert (code, _essentials(doc)) == (BY_NAME[0], _essentials(BY_NAME[1]))
    assert doc["verdict"] == "broken"


def test_the_cluster_ip_is_the_service_not_an_outside_address() -> None:
    cluster_ip = _yaml_value(DEMO_DIR / "blue.yaml", "clusterIP")
    code, doc, _ = explain("red/netshoot", cluster_ip, "--path", "/ip")
    assert (code, _essentials(doc)) == (BY_NAME[0], _essentials(BY_NAME[1]))
    dns = next(h for h in doc["hops"] if h["name"] == "dns")
    assert dns["decision"] == "skip"  # an IP: nothing to resolve


def test_a_pod_ip_is_that_pod_as_destination_and_as_source() -> None:
    server_ip = BY_NAME[1]["destination"]["pods"][0]
    _, pod_doc, _ = explain("red/netshoot", f"blue/pod/{server_ip}", "--path", "/ip")
    ip = _yaml_value(DEMO_DIR / "blue.yaml", "podIP")
    code, doc, err = explain("red/netshoot", ip, "--path", "/ip")
    assert doc, err
    assert doc["destination"]["namespace"] == "blue" and doc["destination"]["pods"] == [server_ip]
    client_ip = _yaml_value(DEMO_DIR / "red.yaml", "podIP")
    code, doc, err = explain(client_ip, "blue/httpbin", "--path", "/ip")
    assert (code, doc["verdict"], doc["source"]["namespace"]) == (1, "broken", "red"), err
    assert pod_doc["verdict"] == "broken"


def test_a_source_ip_no_pod_has_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["explain", "10.9.9.9", "blue/httpbin", "--demo", DEMO])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no pod in this view has IP 10.9.9.9" in result.stderr


@pytest.mark.parametrize("destination", ["httpbn.blue", "httpbn.blue.svc.cluster.local", "httpbin.bleu.svc"])
def test_a_cluster_name_no_service_answers_is_a_dns_failure(destination: str) -> None:
    code, doc, _ = explain("red/netshoot", destination)
    assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "dns-failure")
    [cause] = [c for c in doc["causes"] if c["code"] == "dns-name-unknown"]
    assert "did you mean httpbin.blue" in cause["summary"]
    dns = next(h for h in doc["hops"] if h["name"] == "dns")
    assert dns["decision"] == "break"


def test_a_typo_of_a_namespace_is_unknown_with_a_suggestion_not_allowed() -> None:
    """'bleu' is no namespace here: the cluster DNS has no such name, and an outside resolver was not
    asked, so the answer is unknown (exit 3) with the likely intended name, never a confident success."""
    code, doc, _ = explain("red/netshoot", "httpbin.bleu")
    assert (code, doc["verdict"]) == (3, "unknown")
    assert any(c["code"] == "dns-name-unknown" and "httpbin.blue" in c["summary"] for c in doc["causes"])


def test_an_outside_name_nothing_resembles_stays_external() -> None:
    code, doc, _ = explain("red/netshoot", "api.example.com")
    assert doc["destination"]["kind"] == "External" and code in (0, 1, 3)
    assert not any(c["code"] == "dns-name-unknown" for c in doc["causes"])


HEADLESS = """\
apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Service
metadata: {name: pg, namespace: db}
spec:
  clusterIP: None
  selector: {app: pg}
  ports: [{name: tcp-pg, port: 5432}]
---
apiVersion: v1
kind: Pod
metadata:
  name: pg-0
  namespace: db
  labels: {app: pg, statefulset.kubernetes.io/pod-name: pg-0}
spec: {hostname: pg-0, subdomain: pg, containers: [{name: pg, ports: [{containerPort: 5432}]}]}
status: {phase: Running, podIP: 10.0.3.10, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: pg-1
  namespace: db
  labels: {app: pg, statefulset.kubernetes.io/pod-name: pg-1}
spec: {hostname: pg-1, subdomain: pg, containers: [{name: pg, ports: [{containerPort: 5432}]}]}
status: {phase: Running, podIP: 10.0.3.11, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: app, labels: {app: client}}
spec: {containers: [{name: c}]}
status: {phase: Running, podIP: 10.0.1.5, conditions: [{type: Ready, status: "True"}]}
"""


@pytest.mark.parametrize(
    ("destination", "pods"),
    [("pg-1.pg.db.svc.cluster.local", ["pg-1"]), ("pg.db", ["pg-0", "pg-1"]), ("10.0.3.11", ["pg-1"])],
)
def test_headless_service_names_and_pod_ips(tmp_path: Path, destination: str, pods: list[str]) -> None:
    (tmp_path / "objects.yaml").write_text(HEADLESS)
    result = CliRunner().invoke(
        cli, ["explain", "app/client", destination, "--port", "5432", "--from", str(tmp_path), "-o", "json"]
    )
    doc = json.loads(result.stdout)
    assert doc["destination"]["namespace"] == "db" and doc["destination"]["pods"] == pods, doc["destination"]
    assert (result.exit_code, doc["verdict"]) == (0, "allowed")


def test_a_headless_name_for_a_pod_that_does_not_exist_is_a_dns_failure(tmp_path: Path) -> None:
    (tmp_path / "objects.yaml").write_text(HEADLESS)
    result = CliRunner().invoke(
        cli, ["explain", "app/client", "pg-7.pg.db.svc.cluster.local", "--port", "5432", "--from", str(tmp_path)]
    )
    assert result.exit_code == 1 and "dns-name-unknown" in result.stdout
