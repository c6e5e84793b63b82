"""A read-only Kubernetes API server over one snapshot, on 127.0.0.1 (HTTP, bearer token).

Serves what a client of list/get needs: ``/version``, discovery (``/api``, ``/api/v1``,
``/apis``, ``/apis/G/V``), list (cluster-wide and per namespace) with ``limit``/``continue``
pagination, and get by name. List items carry no apiVersion/kind, as on a real server.
``forbidden`` resources answer 403 and ``missing_groups`` are not installed (404), to test
the gaps. Every request is recorded (method, path, query) so tests can assert that the
client never mutates and never asks for Secrets; anything but GET answers 405.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubectl_meshdoctor.playground.resources import BY_KIND, RESOURCES, Resource, group_of

TOKEN = "playground-token"


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    authorized: bool


@dataclass(slots=True)
class ApiConfig:
    forbidden: set[str] = field(default_factory=set)  # "authorizationpolicies.security.istio.io"
    missing_groups: set[str] = field(default_factory=set)  # e.g. {"security.istio.io"}
    missing_versions: set[str] = field(default_factory=set)  # e.g. {"discovery.k8s.io/v1"}
    forward: dict[str, tuple[str, int]] = field(default_factory=dict)  # "ns/pod" -> where its port-forward goes
    # "ciliumnetworkpolicies.cilium.io" (or "apis" for discovery) -> seconds between the bytes of its
    # answers (a slow server that trickles); inf: the request is accepted and never answered
    slow: dict[str, float] = field(default_factory=dict)


class ObjectStore:
    """Objects by (resource, namespace), in the order given; Endpoints derived when absent."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.by_resource: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in docs:
            res = BY_KIND.get((group_of(str(doc.get("apiVersion", ""))), str(doc.get("kind"))))
            if res is not None:
                self.by_resource[res.qualified].append(doc)
        if not self.by_resource.get("endpoints"):
            self.by_resource["endpoints"] = [_endpoints_of(s) for s in self.by_resource.get("endpointslices", [])]

    def items(self, res: Resource, namespace: str | None) -> list[dict[str, Any]]:
        docs = self.by_resource.get(res.qualified, [])
        if namespace is None:
            return docs
        return [d for d in docs if (d.get("metadata") or {}).get("namespace") == namespace]


def _endpoints_of(slice_doc: dict[str, Any]) -> dict[str, Any]:
    """The Endpoints object a cluster mirrors next to an EndpointSlice (for the fallback path)."""
    meta = slice_doc.get("metadata") or {}
    name = (meta.get("labels") or {}).get("kubernetes.io/service-name", meta.get("name"))
    addresses = []
    for ep in slice_doc.get("endpoints") or []:
        if ((ep or {}).get("conditions") or {}).get("ready", True):
            for ip in ep.get("addresses") or []:
                addresses.append({"ip": ip, "targetRef": ep.get("targetRef")})
    ports = [
        {"name": p.get("name"), "port": p.get("port"), "protocol": p.get("protocol", "TCP")}
        for p in slice_doc.get("ports") or []
    ]
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": meta.get("namespace")},
        "subsets": [{"addresses": addresses, "ports": ports}] if addresses else [],
    }


class KubeApiServer:
    """Start with ``start()``; ``url`` is the base URL; ``requests`` what was received."""

    def __init__(self, docs: list[dict[str, Any]], config: ApiConfig | None = None) -> None:
        self.store = ObjectStore(docs)
        self.config = config or ApiConfig()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> KubeApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="kubeapi", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def record(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def slowness(self, path: str) -> float:
        """Seconds between answer bytes for ``path`` (0: answer at once), from ``config.slow``."""
        parts = [p for p in path.split("/") if p]
        for name, delay in self.config.slow.items():
            plural, _, group = name.partition(".")
            if parts == [name] or (
                len(parts) >= 3
                and parts[-1] == plural
                and (parts[1] == group if parts[0] == "apis" else not group and parts[0] == "api")
            ):
                return delay
        return 0.0

    # --- routing ----------------------------------------------------------------------

    def served(self, res: Resource, version: str) -> bool:
        return (
            res.group not in self.config.missing_groups and f"{res.group}/{version}" not in self.config.missing_versions
        )

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = [p for p in path.split("/") if p]
        if parts == ["version"]:
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-meshdoctor-playground"}
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if parts == ["apis"]:
            return 200, self.group_list()
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return _status(404, "NotFound", f"the server could not find the requested resource ({path})")
        known = [r for r in RESOURCES if r.group == group and version in r.versions and self.served(r, version)]
        if not known:
            return _status(404, "NotFound", f"the server could not find the requested resource ({path})")
        if not rest:
            return 200, self.resource_list(group, version, known)
        return self.objects(group, version, known, rest, query)

    def group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for r in RESOURCES:
            if r.group:
                for v in r.versions:
                    if self.served(r, v) and v not in groups.setdefault(r.group, []):
                        groups[r.group].append(v)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                    "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                }
                for g, vs in groups.items()
                if vs
            ],
        }

    @staticmethod
    def resource_list(group: str, version: str, known: list[Resource]) -> dict[str, Any]:
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [
                {
                    "name": r.plural,
                    "singularName": r.kind.lower(),
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get", "list", "watch"],
                }
                for r in known
            ],
        }

    def objects(
        self, group: str, version: str, known: list[Resource], rest: list[str], query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces":  # GET /api/v1/namespaces/NAME
            rest = ["namespaces", rest[1]]
        res = next((r for r in known if r.plural == rest[0]), None)
        if res is None or len(rest) > 2 or (namespace is not None and not res.namespaced):
            return _status(404, "NotFound", f"the server could not find the requested resource ({rest[0]})")
        if res.qualified in self.config.forbidden:
            scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            verb = "get" if len(rest) == 2 else "list"
            return _status(
                403,
                "Forbidden",
                f'{res.qualified} is forbidden: User "playground" cannot {verb} '
                f'resource "{res.plural}" in API group "{res.group}"{scope}',
            )
        api_version = f"{group}/{version}" if group else version
        items = self.store.items(res, namespace)
        if len(rest) == 2:
            found = next((d for d in items if (d.get("metadata") or {}).get("name") == rest[1]), None)
            if found is None:
                return _status(404, "NotFound", f'{res.qualified} "{rest[1]}" not found')
            return 200, _as_version(found, api_version)
        if query.get("labelSelector"):
            items = [d for d in items if _selected(d, query["labelSelector"])]
        return 200, self.page(res, api_version, items, query)

    @staticmethod
    def page(res: Resource, api_version: str, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        start = int(base64.urlsafe_b64decode(query["continue"]).decode()) if query.get("continue") else 0
        limit = int(query.get("limit") or 0)
        end = start + limit if limit > 0 else len(items)
        chunk = []
        for doc in items[start:end]:
            item = _as_version(doc, api_version)
            item.pop("apiVersion", None)  # as a real list: items carry neither apiVersion nor kind
            item.pop("kind", None)
            chunk.append(item)
        meta: dict[str, Any] = {"resourceVersion": "1000"}
        if end < len(items):
            meta["continue"] = base64.urlsafe_b64encode(str(end).encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        return {"kind": f"{res.kind}List", "apiVersion": api_version, "metadata": meta, "items": chunk}


def _selected(doc: dict[str, Any], selector: str) -> bool:
    """Equality-based label selectors (``a=b,c==d,e!=f``), what a client of this server sends."""
    labels = (doc.get("metadata") or {}).get("labels") or {}
    for req in filter(None, (r.strip() for r in selector.split(","))):
        key, op, value = req.partition("!=") if "!=" in req else req.replace("==", "=").partition("=")
        if (labels.get(key.strip()) == value.strip()) == (op == "!="):
            return False
    return True


def _as_version(doc: dict[str, Any], api_version: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["apiVersion"] = api_version
    return out


def _status(code: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _handler_for(server: KubeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            server.record(Request(self.command, split.path, query, authorized))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.command == "GET" and authorized and self.headers.get("Upgrade", "").lower() == "websocket":
                self._port_forward(split.path, query)
            elif self.command != "GET":
                self._reply(*_status(405, "MethodNotAllowed", f"{self.command} is not allowed: read-only playground"))
            elif not authorized:
                self._reply(*_status(401, "Unauthorized", "Unauthorized"))
            elif server.slowness(split.path):
                self._trickle(server.slowness(split.path), *server.answer(split.path, query))
            else:
                self._reply(*server.answer(split.path, query))

        def _trickle(self, delay: float, code: int, body: dict[str, Any]) -> None:
            """Headers at once, then one byte every ``delay`` seconds (never, when infinite), until
            the client hangs up: a server a per-read socket timeout never catches."""
            self.close_connection = True
            if delay == float("inf"):
                while self.connection.recv(1):  # b"": the client closed
                    pass
                return
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.flush()
            try:
                for i in range(len(data)):
                    time.sleep(delay)
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
            except OSError:  # the client gave up: what the slow server is there to test
                return

        def _port_forward(self, path: str, query: dict[str, str]) -> None:
            from kubectl_meshdoctor.playground import wsforward

            parts = [p for p in path.split("/") if p]
            backend = None
            if len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[4::2] == ["pods", "portforward"]:
                backend = server.config.forward.get(f"{parts[3]}/{parts[5]}")
            if backend is None or not query.get("ports", "").isdigit():
                self._reply(*_status(404, "NotFound", f"no port-forward target at {path}"))
                return
            offered = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",")]
            protocol = "v4.channel.k8s.io" if "v4.channel.k8s.io" in offered else offered[0]
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", wsforward.accept_key(self.headers.get("Sec-WebSocket-Key", "")))
            self.send_header("Sec-WebSocket-Protocol", protocol)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            wsforward.serve(self.connection, int(query["ports"]), backend)

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle
        do_PATCH = _handle
        do_DELETE = _handle

    return Handler
