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
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from kubectl_meshdoctor.playground.handler import handler_for
from kubectl_meshdoctor.playground.objectstore import ObjectStore
from kubectl_meshdoctor.playground.resources import RESOURCES, SHORT_NAMES, Resource

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
    latency: float = 0.0  # seconds added to every answer (a slow API server, e.g. to see progress)
    anonymous_reads: bool = True  # requests without credentials may read (kubectl over http sends none)
    # "ciliumnetworkpolicies.cilium.io" (or "apis" for discovery) -> seconds between the bytes of its
    # answers (a slow server that trickles); inf: the request is accepted and never answered
    slow: dict[str, float] = field(default_factory=dict)
    # the n-th port-forward's connection is reset (TCP RST) after forward_resets[n % len] bytes from the
    # pod (0: not reset): an API server or load balancer that drops connections mid-stream
    forward_resets: tuple[int, ...] = ()


class _Server(ThreadingHTTPServer):
    # a real API server's listen backlog is the system's (Go listens with somaxconn); socketserver's
    # default of 5 dropped connections when a client opened its 8 at once, each then costing a SYN
    # retransmit (1 s) - time no real cluster would add
    request_queue_size = 128


class KubeApiServer:
    """Start with ``start()``; ``url`` is the base URL; ``requests`` what was received."""

    def __init__(self, docs: list[dict[str, Any]], config: ApiConfig | None = None) -> None:
        self.store = ObjectStore(docs)
        self.config = config or ApiConfig()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._forwards = 0

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

    def next_forward_reset(self) -> int:
        """Bytes after which the port-forward being opened is reset (0: never), from ``config.forward_resets``."""
        with self._lock:
            n, self._forwards = self._forwards, self._forwards + 1
        resets = self.config.forward_resets
        return resets[n % len(resets)] if resets else 0

    def apply(self, doc: dict[str, Any]) -> None:
        """Change the cluster while serving (tests of ``explain --watch``): create or replace."""
        with self._lock:
            self.store.apply(doc)

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        with self._lock:
            return self.store.delete(api_version, kind, namespace, name)

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
            return status(404, "NotFound", f"the server could not find the requested resource ({path})")
        known = [r for r in RESOURCES if r.group == group and version in r.versions and self.served(r, version)]
        if not known:
            return status(404, "NotFound", f"the server could not find the requested resource ({path})")
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
                    **({"shortNames": list(SHORT_NAMES[r.qualified])} if r.qualified in SHORT_NAMES else {}),
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
            return status(404, "NotFound", f"the server could not find the requested resource ({rest[0]})")
        if res.qualified in self.config.forbidden:
            scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            verb = "get" if len(rest) == 2 else "list"
            return status(
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
                return status(404, "NotFound", f'{res.qualified} "{rest[1]}" not found')
            return 200, _as_version(found, api_version)
        if query.get("labelSelector"):
            items = [d for d in items if _selected(d, query["labelSelector"])]
        return 200, self.page(res, api_version, items, query)

    @staticmethod
    def page(res: Resource, api_version: str, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        start = int(base64.urlsafe_b64decode(query["continue"]).decode()) if query.get("continue") else 0
        limit = int(query.get("limit") or 0)
        end = start + limit if limit > 0 else len(items)
        # as a real list: items carry neither apiVersion nor kind (shallow copies: the answer is only serialised)
        chunk = [{k: v for k, v in doc.items() if k not in _TYPE_KEYS} for doc in items[start:end]]
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


_TYPE_KEYS = frozenset({"apiVersion", "kind"})


def _as_version(doc: dict[str, Any], api_version: str) -> dict[str, Any]:
    return {**doc, "apiVersion": api_version}  # a shallow copy: the answer is only serialised


def status(code: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
