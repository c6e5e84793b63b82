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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.sources.hubble import RelayError
from kubectl_meshdoctor.sources.kube import ApiStatus, KubeClient

RELAY_NAMESPACE = "kube-system"
RELAY_SERVICE = "hubble-relay"
# the kubernetes client runs one thread per websocket forward, named so; a connection reset by the
# API server (or anything between) ends it with an exception that Python would print to stderr
_LIBRARY_THREAD = "Kubernetes port forward proxy"
_previous_hook: Callable[[threading.ExceptHookArgs], object] | None = None
_opening = threading.Lock()  # one forward opened at a time: its new thread is the one that appeared


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
        t = self.target
        try:
            _silence_library_threads()  # before the library starts its thread: it may die at once
            with _opening:
                before = set(threading.enumerate())
                pf = _open_forward(self.client, t)
                proxies = [p for p in threading.enumerate() if p not in before and p.name.startswith(_LIBRARY_THREAD)]
            remote = pf.socket(t.port)
        except Exception:  # the gRPC client sees the closed connection and reports Relay unreachable
            conn.close()
            return
        # no new thread found: it started and already ended within portforward()
        _pump(conn, remote, self._stop, lambda: bool(proxies) and all(p.is_alive() for p in proxies))
        with contextlib.suppress(Exception):
            pf.close()


def _open_forward(client: KubeClient, t: Target) -> Any:
    """The client's websocket forward to ``t``: the request ``CoreV1Api`` would make (GET
    pods/NAME/portforward?ports=N, the kubeconfig's credentials), without importing ``CoreV1Api``,
    whose import builds every model class of the client (about 1 s of CPU, issue 21)."""
    from kubernetes.stream import ws_client

    portforward_call: Any = ws_client.portforward_call
    api = client._api
    query = [("ports", str(t.port))]
    method, url, headers, _body, _post = api.param_serialize(
        "GET",
        "/api/v1/namespaces/{namespace}/pods/{name}/portforward",
        path_params={"namespace": t.namespace, "name": t.pod},
        query_params=query,
        header_params={"Accept": "*/*"},
        auth_settings=["BearerToken"],
    )
    # query_params given as well: older clients read the ports from it rather than from the URL
    return portforward_call(api.configuration, method, url, headers=headers, query_params=query)


def _silence_library_threads() -> None:
    """The library's proxy thread dies on a reset connection: drop its exception (the forward then
    closes, and the gRPC client reports Relay unreachable as a gap). Installed once; every other
    thread's exception goes to the hook that was there before."""
    global _previous_hook
    with _opening:
        if threading.excepthook is not _drop_library_exceptions:
            _previous_hook = threading.excepthook
            threading.excepthook = _drop_library_exceptions


def _drop_library_exceptions(args: threading.ExceptHookArgs) -> None:
    if args.thread is not None and args.thread.name.startswith(_LIBRARY_THREAD):
        return
    (_previous_hook or threading.__excepthook__)(args)


def _pump(a: socket.socket, b: Any, stop: threading.Event, alive: Callable[[], bool] = lambda: True) -> None:
    """Copy bytes both ways until either side closes (``alive()`` false: the far side's thread is gone)."""
    try:
        while not stop.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.1)
            if not ready and not alive():
                return
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
