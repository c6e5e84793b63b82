"""A reference to an object dropped as invalid (issue 17 item 5): the answer says the object exists
and is invalid, with its field and reason, not "no workload ... did you mean"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: blue}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: blue}
spec:
  selector: {app: web}
  ports: [{port: PORT, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: blue, labels: {app: web}}
spec:
  containers: [{name: web, image: nginx, ports: [{containerPort: 8080}]}]
status: {podIP: 10.0.0.2, phase: Running}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: blue}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: nginx}]}
"""


def _write(tmp_path: Path, port: str = "99999", replicas: str = "-1") -> str:
    (tmp_path / "objects.yaml").write_text(OBJECTS.replace("PORT", port).replace("REPLICAS", replicas))
    return str(tmp_path)


@pytest.mark.parametrize(
    ("dest", "kind", "field"),
    [("blue/svc/web", "Service blue/web", "spec.ports[0].port"), ("blue/api", "Deployment blue/api", "spec.replicas")],
)
def test_reference_to_an_invalid_object_names_field_and_reason(
    tmp_path: Path, dest: str, kind: str, field: str
) -> None:
    result = CliRunner().invoke(cli, ["explain", "blue/web-1", dest, "--from", _write(tmp_path)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"{kind} exists but is invalid ({field}: Invalid value" in result.stderr
    assert "did you mean" not in result.stderr and "no workload" not in result.stderr


def test_reference_to_an_absent_object_still_suggests(tmp_path: Path) -> None:
    """Near miss: a name that exists nowhere keeps "no workload ... did you mean"."""
    result = CliRunner().invoke(cli, ["explain", "blue/web-1", "blue/apx", "--from", _write(tmp_path)])
    assert result.exit_code == 2 and "no workload, pod or service 'apx'" in result.stderr
    assert "exists but is invalid" not in result.stderr


def test_valid_objects_resolve(tmp_path: Path) -> None:
    """Near miss: the same objects with valid fields resolve and answer."""
    path = _write(tmp_path, port="80", replicas="1")
    result = CliRunner().invoke(cli, ["explain", "blue/web-1", "blue/svc/web", "--from", path, "-o", "json"])
    assert json.loads(result.stdout)["destination"]["service"] == "web"


def test_dns_name_of_an_invalid_service_says_it_is_invalid(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", "blue/web-1", "web.blue", "--from", _write(tmp_path), "-o", "json"])
    dns = next(h for h in json.loads(result.stdout)["hops"] if h["name"] == "dns")
    assert "Service blue/web exists but is invalid (spec.ports[0].port" in dns["detail"]
