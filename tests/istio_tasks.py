"""Offline clusters for Istio's own task pages (issue 22), built from the sample manifests those pages
apply (``../shared/data/istio-samples``, Istio 1.30.3, unchanged).

A ``Cluster`` holds the objects after each page's ``kubectl apply`` commands, cumulatively: the sample
files as written (``kubectl apply -n NS -f FILE`` puts every namespaced object in NS), the policies the
pages write inline, and the Pods that each Deployment's ReplicaSet creates, as sidecar injection
writes them in a namespace labelled ``istio-injection=enabled`` (``istio-proxy`` container, the
``sidecar.istio.io/status`` annotation, ``security.istio.io/tlsMode`` label), running and ready, with
a pod IP. The cluster base (istio-system with istiod and its mesh config, kube-system with
cilium-config and kube-dns) is the bundled ``sidecar-s0-baseline`` demo's; the ingress gateway pod
and Service are as ``istioctl install`` creates them.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "data" / "istio-samples" / "samples"
BASE = REPO / "kubectl_meshdoctor" / "demos" / "sidecar-s0-baseline"
GATEWAY = "istio-system/istio-ingressgateway"
GATEWAY_ADDRESS = "192.0.2.80"  # the browser's Host: the ingress gateway's external address
CLUSTER_NAMESPACED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
SIDECAR_STATUS = json.dumps({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "revision": "default"})

_INGRESS: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "istio-ingressgateway",
            "namespace": "istio-system",
            "labels": {"istio": "ingressgateway"},
        },
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": "istio-ingressgateway", "istio": "ingressgateway"},
            "ports": [
                {"name": "status-port", "port": 15021, "targetPort": 15021},
                {"name": "http2", "port": 80, "targetPort": 8080},
                {"name": "https", "port": 443, "targetPort": 8443},
            ],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": GATEWAY_ADDRESS}]}},
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "istio-ingressgateway-5d8f7c9b6-gw001",
            "namespace": "istio-system",
            "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway", "sidecar.istio.io/inject": "false"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "istio-ingressgateway-5d8f7c9b6", "controller": True}],
        },
        "spec": {
            "serviceAccountName": "istio-ingressgateway-service-account",
            "containers": [
                {
                    "name": "istio-proxy",
                    "args": ["proxy", "router"],
                    "ports": [{"containerPort": 15021}, {"containerPort": 8080}, {"containerPort": 8443}],
                }
            ],
        },
        "status": {"phase": "Running", "podIP": "10.244.0.80", "conditions": [{"type": "Ready", "status": "True"}]},
    },
]


def sample(rel: str) -> list[dict[str, Any]]:
    """The documents of a sample file, as written."""
    return [d for d in yaml.safe_load_all((SAMPLES / rel).read_text()) if isinstance(d, dict)]


def policy(text: str) -> list[dict[str, Any]]:
    """Objects a page writes inline (``kubectl apply -f - <<EOF``)."""
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


@dataclass
class Cluster:
    """The objects of one task, applied step by step (create or replace by kind/namespace/name)."""

    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    injected: set[str] = field(default_factory=set)
    _next_ip: int = 10

    def namespace(self, name: str, injection: bool = True) -> Cluster:
        labels = {"kubernetes.io/metadata.name": name} | ({"istio-injection": "enabled"} if injection else {})
        self._put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
        if injection:
            self.injected.add(name)
        return self

    def apply(self, docs: list[dict[str, Any]], namespace: str = "default") -> Cluster:
        """``kubectl apply -n namespace -f``: Deployments also get the Pods their ReplicaSet creates."""
        for doc in docs:
            doc = copy.deepcopy(doc)
            meta = doc.setdefault("metadata", {})
            if doc.get("kind") not in CLUSTER_NAMESPACED:
                meta["namespace"] = meta.get("namespace") or namespace
            self._put(doc)
            if doc.get("kind") == "Deployment":
                self._pods_of(doc)
        return self

    def delete(self, kind: str, namespace: str, name: str) -> Cluster:
        self.objects.pop((kind, namespace, name), None)
        return self

    def _put(self, doc: dict[str, Any]) -> None:
        meta = doc["metadata"]
        self.objects[(doc["kind"], meta.get("namespace") or "", meta["name"])] = doc

    def _pods_of(self, deploy: dict[str, Any]) -> None:
        ns, name = deploy["metadata"]["namespace"], deploy["metadata"]["name"]
        template = copy.deepcopy(deploy["spec"]["template"])
        labels = dict(template.get("metadata", {}).get("labels") or {})
        spec = template.get("spec") or {}
        annotations: dict[str, str] = {}
        if ns in self.injected:  # what the sidecar injector writes into the pod
            labels |= {"security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": labels.get("app", name)}
            annotations["sidecar.istio.io/status"] = SIDECAR_STATUS
            spec["initContainers"] = [{"name": "istio-init", "args": ["istio-iptables"]}]
            spec["containers"] = [*spec.get("containers", []), {"name": "istio-proxy", "args": ["proxy", "sidecar"]}]
        for i in range(int(deploy["spec"].get("replicas", 1))):
            self._next_ip += 1
            rs = f"{name}-7c9d8f6b5"
            self._put(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{rs}-p{i}x2k",
                        "namespace": ns,
                        "labels": labels | {"pod-template-hash": "7c9d8f6b5"},
                        "annotations": annotations,
                        "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "controller": True}],
                    },
                    "spec": spec,
                    "status": {
                        "phase": "Running",
                        "podIP": f"10.244.1.{self._next_ip}",
                        "conditions": [{"type": "Ready", "status": "True"}],
                    },
                }
            )
            self._put(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs,
                        "namespace": ns,
                        "ownerReferences": [{"kind": "Deployment", "name": name, "controller": True}],
                    },
                    "spec": {"replicas": 1, "selector": deploy["spec"]["selector"], "template": template},
                }
            )

    def pod_ip(self, namespace: str, app: str) -> str:
        pod = next(
            d
            for (kind, ns, _), d in sorted(self.objects.items())
            if kind == "Pod" and ns == namespace and d["metadata"]["labels"].get("app") == app
        )
        return str(pod["status"]["podIP"])

    def write(self, root: Path) -> Path:
        """A snapshot directory: the cluster base plus these objects."""
        root.mkdir(parents=True, exist_ok=True)
        for name in ("cluster.yaml", "istio-system.yaml", "kube-system.yaml"):
            shutil.copy(BASE / name, root / name)
        docs = _INGRESS + list(self.objects.values())
        (root / "task.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return root


def explain(root: Path, source: str, destination: str, *args: str) -> tuple[int, dict[str, Any]]:
    """``kubectl meshdoctor explain`` on the snapshot, as JSON, and its exit code."""
    result = CliRunner().invoke(cli, ["explain", source, destination, *args, "--from", str(root), "-o", "json"])
    assert result.stdout.strip().startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def first_break(doc: dict[str, Any]) -> dict[str, Any] | None:
    return next((h for h in doc["hops"] if h["decision"] in ("deny", "break")), None)


def hop(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in doc["hops"] if h["name"] == name)


def codes(doc: dict[str, Any]) -> set[str]:
    return {c["code"] for c in doc["causes"] if c["severity"] != "info"}


# --- the pages' clusters, shared by the tests and the README section "Istio's tasks, explained" ---

NET = "bookinfo/networking"


def bookinfo() -> Cluster:
    """The Bookinfo page: the application in an injected default namespace and its gateway."""
    return (
        Cluster()
        .namespace("default")
        .apply(sample("bookinfo/platform/kube/bookinfo.yaml"))
        .apply(sample(f"{NET}/bookinfo-gateway.yaml"))
    )


def with_versions() -> Cluster:
    """Bookinfo page, "Define the service versions": destination-rule-all.yaml."""
    return bookinfo().apply(sample(f"{NET}/destination-rule-all.yaml"))


def tcp_echo() -> Cluster:
    """Authorization for TCP traffic, "Before you begin": curl and tcp-echo in an injected foo."""
    return (
        Cluster().namespace("foo").apply(sample("curl/curl.yaml"), "foo").apply(sample("tcp-echo/tcp-echo.yaml"), "foo")
    )


def tcp_policy(action: str, operation: str) -> str:
    return f"""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: tcp-policy, namespace: foo}}
spec:
  selector: {{matchLabels: {{app: tcp-echo}}}}
  action: {action}
  rules:
  - to: [{{operation: {operation}}}]
"""


REVIEWS_V2 = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
"""
RATINGS_DELAY = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - fault:
      delay: {percentage: {value: 100}, fixedDelay: 2s}
    route:
    - destination: {host: ratings, subset: v1}
"""
REVIEWS_TIMEOUT = REVIEWS_V2 + "    timeout: 0.5s\n"


def request_timeouts(timeout: bool) -> Cluster:
    """Request timeouts: all-v1, reviews to v2, a 2s delay on ratings, then a 0.5s timeout on reviews."""
    cluster = with_versions().apply(sample(f"{NET}/virtual-service-all-v1.yaml"))
    cluster.apply(policy(REVIEWS_V2)).apply(policy(RATINGS_DELAY))
    return cluster.apply(policy(REVIEWS_TIMEOUT)) if timeout else cluster


# the steps the README runs: directory name -> the objects after that step
STEPS: dict[str, Callable[[], Cluster]] = {
    "bookinfo": bookinfo,
    "authz-tcp-allow-ports": lambda: tcp_echo().apply(policy(tcp_policy("ALLOW", '{ports: ["9000", "9001"]}'))),
    "request-timeouts": lambda: request_timeouts(timeout=True),
}


def write_steps(out: Path) -> list[Path]:
    return [build().write(out / name) for name, build in STEPS.items()]


if __name__ == "__main__":  # python -m tests.istio_tasks DIR: one snapshot directory per README step
    for folder in write_steps(Path(sys.argv[1] if len(sys.argv) > 1 else "istio-tasks")):
        print(folder)
