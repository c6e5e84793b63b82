"""Synthetic clusters for scripts/bench: namespaces, deployments/pods/services, CNPs, KNPs,
AuthorizationPolicies and PeerAuthentications with realistic selectors, and the pair's flows.

The explained pair is ns-0000/client -> ns-0001/server:80 (targetPort 8080). A CNP in ns-0001
allows it from ns-0000 with an L7 rule (GET /api/.*), so every engine has work to do.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Size:
    name: str
    namespaces: int
    pods: int
    cnps: int
    knps: int
    aps: int
    pas: int


SIZES = {
    "S": Size("S", 20, 200, 50, 4, 2, 1),
    "M": Size("M", 200, 5_000, 1_000, 200, 100, 50),
    "L": Size("L", 2_000, 50_000, 10_000, 2_000, 1_000, 500),
}
APPS = ("web", "api", "db", "cache", "worker")


def _ns(i: int) -> str:
    return f"ns-{i:04d}"


def _meta(name: str, ns: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"uid-{ns}-{name}", "creationTimestamp": "2026-11-20T09:00:00Z"}
    if ns:
        meta["namespace"] = ns
    meta.update(extra)
    return meta


def generate(size: Size, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    items: list[dict[str, Any]] = []
    per_ns = max(1, size.pods // size.namespaces)
    teams = [f"team-{i % 50}" for i in range(size.namespaces)]
    for n in range(size.namespaces):
        ns = _ns(n)
        labels = {"kubernetes.io/metadata.name": ns, "team": teams[n], "env": ("prod", "staging", "dev")[n % 3]}
        if n % 4 == 0:
            labels["istio-injection"] = "enabled"
        items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, labels=labels)})
        deployments = [("client", "server")[n]] if n < 2 else [APPS[k % len(APPS)] for k in range(min(5, per_ns))]
        for k, app in enumerate(deployments):
            replicas = max(1, per_ns // len(deployments))
            selector = {"app": app}
            items.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": _meta(app, ns, labels=selector),
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": selector},
                        "template": {
                            "metadata": {"labels": selector},
                            "spec": {"containers": [{"name": app, "ports": [{"containerPort": 8080, "name": "http"}]}]},
                        },
                    },
                }
            )
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": _meta(app, ns),
                    "spec": {
                        "selector": selector,
                        "clusterIP": f"10.96.{n % 250}.{k + 1}",
                        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                    },
                }
            )
            for r in range(replicas):
                pod = f"{app}-5d9f8c7b6-{r:05d}"
                ip = f"10.{(n // 250) % 250}.{n % 250}.{(k * replicas + r) % 250 + 2}"
                containers = [{"name": app, "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]}]
                if n % 4 == 0:
                    containers.append(
                        {"name": "istio-proxy", "ports": [{"containerPort": 15090, "name": "http-envoy-prom"}]}
                    )
                items.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": _meta(
                            pod,
                            ns,
                            labels={**selector, "pod-template-hash": "5d9f8c7b6", "version": "v1"},
                            ownerReferences=[{"kind": "ReplicaSet", "name": f"{app}-5d9f8c7b6"}],
                        ),
                        "spec": {"nodeName": f"node-{n % 100}", "serviceAccountName": app, "containers": containers},
                        "status": {
                            "phase": "Running",
                            "podIP": ip,
                            "conditions": [{"type": "Ready", "status": "True"}],
                        },
                    }
                )
    for c in range(size.cnps):
        n = c % size.namespaces
        ns = _ns(n)
        app = APPS[c % len(APPS)] if n >= 2 else ("server" if n == 1 else "client")
        peers = sorted({_ns(rnd.randrange(size.namespaces)) for _ in range(3)} | ({_ns(0)} if n == 1 else set()))
        rule: dict[str, Any] = {
            "endpointSelector": {"matchLabels": {"app": app}},
            "ingress": [
                {
                    "fromEndpoints": [
                        {
                            "matchExpressions": [
                                {"key": "io.kubernetes.pod.namespace", "operator": "In", "values": peers}
                            ]
                        }
                    ],
                    "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}],
                },
                {
                    "fromEndpoints": [
                        {"matchLabels": {"io.cilium.k8s.namespace.labels.team": teams[(c * 7) % size.namespaces]}}
                    ],
                },
            ],
        }
        if n == 1 and c < size.namespaces:
            rule["ingress"][0]["toPorts"][0]["rules"] = {"http": [{"method": "GET", "path": "/api/.*"}]}
        items.append(
            {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "metadata": _meta(f"cnp-{c:05d}", ns),
                "specs": [rule],
            }
        )
    for k in range(size.knps):
        ns = _ns(2 + k % max(1, size.namespaces - 2))
        items.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": _meta(f"knp-{k:05d}", ns),
                "spec": {
                    "podSelector": {"matchLabels": {"app": APPS[k % len(APPS)]}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {"matchLabels": {"team": teams[k % len(teams)]}},
                                    "podSelector": {"matchLabels": {"app": "web"}},
                                }
                            ],
                            "ports": [{"port": 8080, "protocol": "TCP"}],
                        }
                    ],
                },
            }
        )
    for k in range(size.aps):
        ns = _ns(4 * (k % max(1, size.namespaces // 4)))
        items.append(
            {
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": _meta(f"ap-{k:05d}", ns),
                "spec": {
                    "selector": {"matchLabels": {"app": APPS[k % len(APPS)]}},
                    "action": "ALLOW",
                    "rules": [
                        {
                            "from": [{"source": {"namespaces": [_ns(rnd.randrange(size.namespaces))]}}],
                            "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}],
                        }
                    ],
                },
            }
        )
    for k in range(size.pas):
        ns = _ns(4 * (k % max(1, size.namespaces // 4)))
        items.append(
            {
                "apiVersion": "security.istio.io/v1",
                "kind": "PeerAuthentication",
                "metadata": _meta(f"pa-{k:05d}", ns),
                "spec": {"mtls": {"mode": "PERMISSIVE"}},
            }
        )
    items.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("cilium-config", "kube-system"),
            "data": {
                "enable-policy": "default",
                "kube-proxy-replacement": "true",
                "bpf-lb-sock-hostns-only": "true",
                "cni-exclusive": "false",
            },
        }
    )
    return items


def pair_flow(i: int, client_ip: str, server_ip: str, client_pod: str, server_pod: str) -> dict[str, Any]:
    t = f"2026-11-20T10:{(i // 60) % 60:02d}:{i % 60:02d}.{i:06d}Z"
    return {
        "flow": {
            "time": t,
            "verdict": "REDIRECTED" if i % 4 == 0 else "FORWARDED",
            "IP": {"source": client_ip, "destination": server_ip, "ipVersion": "IPv4"},
            "l4": {"TCP": {"source_port": 40000 + i % 20000, "destination_port": 8080, "flags": {"SYN": True}}},
            "source": {"identity": 30001, "namespace": "ns-0000", "pod_name": client_pod, "labels": ["k8s:app=client"]},
            "destination": {
                "identity": 30002,
                "namespace": "ns-0001",
                "pod_name": server_pod,
                "labels": ["k8s:app=server"],
            },
            "Type": "L3_L4",
            "node_name": "node-1",
            "event_type": {"type": 5 if i % 4 == 0 else 4},
            "traffic_direction": "INGRESS",
            "is_reply": False,
            "Summary": "TCP Flags: SYN",
        },
        "node_name": "node-1",
        "time": t,
    }


def write_snapshot(size: Size, root: Path, pair_flows: int = 2_000, noise_flows: int = 2_000) -> Path:
    """kubectl-get-style JSON lists (one per kind family) and a flows.jsonl."""
    root.mkdir(parents=True, exist_ok=True)
    items = generate(size)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    for kind, group in by_kind.items():
        (root / f"{kind.lower()}s.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": group}))
    client = next(i for i in items if i["kind"] == "Pod" and i["metadata"]["namespace"] == "ns-0000")
    server = next(i for i in items if i["kind"] == "Pod" and i["metadata"]["namespace"] == "ns-0001")
    lines = [
        json.dumps(
            pair_flow(
                i,
                client["status"]["podIP"],
                server["status"]["podIP"],
                client["metadata"]["name"],
                server["metadata"]["name"],
            )
        )
        for i in range(pair_flows)
    ]
    noise_pod = next(i for i in items if i["kind"] == "Pod" and i["metadata"]["namespace"] == "ns-0002")
    for i in range(noise_flows):
        doc = pair_flow(
            i,
            noise_pod["status"]["podIP"],
            server["status"]["podIP"],
            noise_pod["metadata"]["name"],
            server["metadata"]["name"],
        )
        doc["flow"]["source"]["namespace"] = "ns-0002"
        lines.append(json.dumps(doc))
    (root / "flows.jsonl").write_text("\n".join(lines) + "\n")
    return root
