"""explain --what-if on N-cluster input (issue 21): each change names its cluster (annotation
meshdoctor.io/cluster, or --what-if-delete KIND/NS/NAME@CLUSTER); the same change in the other cluster
is a near miss that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

DEMO = ["--port", "8080", "--demo", "clustermesh-local-cluster-selector"]
CALL = ["shop/frontend@east", "shop/cart@west"]
FIX = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: cart-ingress
  namespace: shop
  {annotations}
spec:
  endpointSelector: {{matchLabels: {{app: cart}}}}
  ingress:
  - fromEndpoints:
    - matchLabels: {{app: frontend, io.cilium.k8s.policy.cluster: east}}
    toPorts: [{{ports: [{{port: "8080", protocol: TCP}}]}}]
"""


def _fix(tmp_path: Path, annotations: str) -> str:
    path = tmp_path / "fix.yaml"
    path.write_text(FIX.format(annotations=annotations))
    return str(path)


def _explain(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["explain", *CALL, *DEMO, *args, "-o", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}, result.stderr


def test_fix_in_the_servers_cluster_makes_the_call_work(tmp_path: Path) -> None:
    code, doc, err = _explain("--what-if", _fix(tmp_path, "annotations: {meshdoctor.io/cluster: west}"))
    assert doc, err
    assert (code, doc["verdict"]) == (0, "allowed")
    assert doc["whatIf"]["applied"] == ["replace CiliumNetworkPolicy shop/cart-ingress in cluster west"]
    assert doc["whatIf"]["before"]["verdict"] == "denied"
    assert "clustermesh-policy-local-cluster" in doc["whatIf"]["before"]["causes"]
    assert (doc["source"]["cluster"], doc["destination"]["cluster"]) == ("east", "west")


def test_same_fix_in_the_clients_cluster_changes_nothing(tmp_path: Path) -> None:
    """Near miss: east has no cart-ingress; the policy added there selects east's (absent) cart pods."""
    code, doc, err = _explain("--what-if", _fix(tmp_path, "annotations: {meshdoctor.io/cluster: east}"))
    assert doc, err
    assert doc["whatIf"]["applied"] == ["create CiliumNetworkPolicy shop/cart-ingress in cluster east"]
    assert (code, doc["verdict"]) == (1, "denied")


def test_delete_names_its_cluster() -> None:
    code, doc, err = _explain("--what-if-delete", "cnp/shop/cart-ingress@west")
    assert doc, err
    assert (code, doc["verdict"]) == (0, "allowed")
    code, _, err = _explain("--what-if-delete", "cnp/shop/cart-ingress@east")  # not in east: one line, exit 2
    assert code == 2 and "not found" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("annotations", "says"),
    [
        ("labels: {app: x}", "names no cluster (clusters: east, west); use the annotation meshdoctor.io/cluster"),
        ("annotations: {meshdoctor.io/cluster: north}", "names cluster 'north', not one of east, west"),
    ],
)
def test_change_without_a_known_cluster_is_a_usage_error(tmp_path: Path, annotations: str, says: str) -> None:
    code, doc, err = _explain("--what-if", _fix(tmp_path, annotations))
    assert code == 2 and not doc
    lines = err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines
