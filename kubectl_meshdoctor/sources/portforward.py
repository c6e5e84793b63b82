"""Port-forward to Service ``kube-system/hubble-relay`` through the Kubernetes API.

What ``cilium hubble port-forward`` / ``kubectl port-forward service/hubble-relay`` do
(hubble-api.md §1.6): read the Service, pick a running pod it selects, resolve the
Service's first port to the pod's container port, and forward a local 127.0.0.1 port to it
through the API server (the kubernetes client's websocket port-forward). Every accepted
local connection opens its own forward, like kubectl. The user needs ``get`` on services
and pods and ``create``/``get`` on ``pods/portforward`` (see deploy/rbac.yaml).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.sources.hubble import RelayError
from kubectl_meshdoctor.sources.kube import ApiStatus, KubeClient

RELAY_NAMESPACE = "kube-system"
RELAY_SERVICE = "hubble-relay"


@dataclass(frozen=True, slots=True)
class Target:
    namespace: str
    pod: str
    port: int


def relay_target(client: KubeClient, namespace: str = RELAY_NAMESPACE, service: str = RELAY_SERVICE) -> Target:
    """Service -> (a running pod, the container port behind the Service's first port)."""
    where = f"Service {namespace}/{service}"
    try:
        svc = client.get(f"/api/v1/namespaces/{namespace}/services/{service}")
    except ApiStatus as err:
        if err.code == 404:
            raise RelayError(
                f"{where} not found: is Hubble Relay enabled? (or pass --hubble-server HOST:PORT)"
            ) from None
        raise RelayError(f"cannot read {where}: {err}") from None
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or []
    selector = spec.get("selector") or {}
    if not ports or not selector:
        raise RelayError(f"{where} has no ports or no selector: cannot port-forward")
    target = ports[0].get("targetPort", ports[0].get("port"))
    label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    try:
        pods = client.get(f"/api/v1/namespaces/{namespace}/pods", [("labelSelector", label_selector)])
    except ApiStatus as err:
        raise RelayError(f"cannot list the pods of {where}: {err}") from None
    running = [p for p in pods.get("items") or [] if (p.get("status") or {}).get("phase") == "Running"]
    if not running:
        raise RelayError(f"{where} has no running pod")
    pod = running[0]
    return Target(namespace, str(pod["metadata"]["name"]), _container_port(pod, target))


def _container_port(pod: dict[str, Any], target: Any) -> int:
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    raise RelayError(f"pod {pod['metadata']['name']} has no port named {target!r}")


class PortForward:
    """A local listener on 127.0.0.1 forwarding to ``target`` through the API server."""

    def __init__(self, client: KubeClient, target: Target) -> None:
        self.client = client
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="port-forward", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> PortForward:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="port-forward-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        from kubernetes.client import CoreV1Api
        from kubernetes.stream import portforward

        t = self.target
        try:
            core = CoreV1Api(self.client._api)
            pf = portforward(core.connect_get_namespaced_pod_portforward, t.pod, t.namespace, ports=str(t.port))
            remote = pf.socket(t.port)
        except Exception:  # the gRPC client sees the closed connection and reports Relay unreachable
            conn.close()
            return
        _pump(conn, remote, self._stop)
        with contextlib.suppress(Exception):
            pf.close()


def _pump(a: socket.socket, b: Any, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes."""
    try:
        while not stop.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.5)
            for src in ready:
                data = src.recv(65536)
                if not data:
                    return
                (b if src is a else a).sendall(data)
    except OSError:
        return
    finally:
        with contextlib.suppress(OSError):
            a.close()
        with contextlib.suppress(OSError):
            b.close()
