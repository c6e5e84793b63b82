"""Istio multi-network facts of one cluster (semantics-multicluster.md I2, I3, I4, I6): its network,
its east-west gateway (Service labelled with the network, its address and port 15443, its pods, the
AUTO_PASSTHROUGH Gateway that exposes services), DNS proxying, and its root of trust as the input
states it. Pure: reads the cluster's raw objects and model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.refs import pods_for_service

NETWORK_LABEL = "topology.istio.io/network"
GATEWAY_PORT_LABEL = "networking.istio.io/gatewayPort"
MTLS_PORT = 15443


@dataclass(frozen=True, slots=True)
class EastWest:
    """The east-west gateway of a network, as far as the input shows it; ``problem`` when unusable."""

    service: Service | None
    address: str | None
    port: int
    target_port: int
    pods: tuple[Pod, ...]
    passthrough: str | None  # "Gateway ns/name" exposing *.local with AUTO_PASSTHROUGH on the port
    problem: str | None
    keeps_source: bool = False  # externalTrafficPolicy: Local (the gateway sees the caller's address)


def network_of(cluster: Cluster) -> tuple[str | None, str]:
    """mesh.yaml ``network``, else the ``topology.istio.io/network`` label of istio-system (I2)."""
    net = cluster.istio.get("network")
    if net:
        return net, "mesh.yaml"
    ns = cluster.model.namespaces.get(cluster.model.istio.mesh.root_namespace)
    if ns is not None and ns.labels.get(NETWORK_LABEL):
        return ns.labels[NETWORK_LABEL], f"label {NETWORK_LABEL} on namespace {ns.name}"
    return None, "no network in mesh.yaml nor on the istio-system namespace"


def _docs(cluster: Cluster, kind: str) -> list[dict[str, Any]]:
    return [o.doc for o in cluster.raw.objects if o.doc.get("kind") == kind]


def _address(doc: dict[str, Any]) -> str | None:
    status = ((doc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    for entry in status:
        value = (entry or {}).get("ip") or (entry or {}).get("hostname")
        if value:
            return str(value)
    external = (doc.get("spec") or {}).get("externalIPs") or []
    return str(external[0]) if external else None


def _passthrough(cluster: Cluster, pods: list[Pod], port: int) -> str | None:
    for doc in _docs(cluster, "Gateway"):
        if not str(doc.get("apiVersion", "")).startswith("networking.istio.io/"):
            continue
        spec = doc.get("spec") or {}
        selector = spec.get("selector") or {}
        if not any(all(p.labels.get(k) == v for k, v in selector.items()) for p in pods):
            continue
        for server in spec.get("servers") or []:
            server = server or {}
            number = (server.get("port") or {}).get("number")
            mode = str((server.get("tls") or {}).get("mode", "")).upper()
            if number == port and mode == "AUTO_PASSTHROUGH":
                meta = doc.get("metadata") or {}
                return f"Gateway {meta.get('namespace') or 'default'}/{meta.get('name')}"
    return None


def east_west(cluster: Cluster, network: str) -> EastWest:
    """I4: the Service labelled ``topology.istio.io/network=<network>`` (port 15443 unless the
    ``networking.istio.io/gatewayPort`` label says otherwise), with an address, pods and an
    AUTO_PASSTHROUGH Gateway on that port. Without one, split-horizon EDS hands out remote pod IPs
    that are not routable (I4 case 4): the call fails."""
    for doc in _docs(cluster, "Service"):
        meta = doc.get("metadata") or {}
        labels = meta.get("labels") or {}
        if labels.get(NETWORK_LABEL) != network:
            continue
        svc = cluster.model.services.get(f"{meta.get('namespace') or 'default'}/{meta.get('name')}")
        if svc is None:
            continue
        port = int(str(labels.get(GATEWAY_PORT_LABEL) or MTLS_PORT))
        sp = next((p for p in svc.ports if p.port == port), None)
        if sp is None:
            return EastWest(
                svc, None, port, port, (), None, f"its Service {svc.namespace}/{svc.name} has no port {port}"
            )
        pods = pods_for_service(cluster.model, svc)
        target = (
            sp.target_port
            if isinstance(sp.target_port, int)
            else (pods[0].named_port(sp.target_port) if pods else None)
        )
        address = _address(doc)
        passthrough = _passthrough(cluster, pods, target or port)
        problem = None
        if address is None:
            problem = f"Service {svc.namespace}/{svc.name} has no external address (EXTERNAL-IP <pending>)"
        elif not [p for p in pods if p.ready]:
            problem = f"Service {svc.namespace}/{svc.name} selects no ready gateway pod"
        elif passthrough is None:
            problem = (
                f"no Gateway with tls.mode AUTO_PASSTHROUGH on port {port} selects its pods (expose-services.yaml)"
            )
        local = str((doc.get("spec") or {}).get("externalTrafficPolicy", "")) == "Local"
        return EastWest(svc, address, port, target or port, tuple(pods), passthrough, problem, local)
    return EastWest(None, None, MTLS_PORT, MTLS_PORT, (), None, f"no Service is labelled {NETWORK_LABEL}={network}")


def dns_capture(cluster: Cluster, pod: Pod) -> bool:
    """Istio DNS proxying (``ISTIO_META_DNS_CAPTURE``) in the mesh config or the pod's proxy config (I3)."""
    texts = [pod.annotations.get("proxy.istio.io/config", "")]
    for doc in _docs(cluster, "ConfigMap"):
        meta = doc.get("metadata") or {}
        if meta.get("name") == "istio":
            texts.append(str((doc.get("data") or {}).get("mesh", "")))
    return any('ISTIO_META_DNS_CAPTURE: "true"' in t or "ISTIO_META_DNS_CAPTURE: 'true'" in t for t in texts)
