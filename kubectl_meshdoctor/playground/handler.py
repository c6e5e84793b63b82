"""The HTTP side of the playground API server: credentials, read-only verbs, slow answers, the
websocket port-forward; what to answer comes from ``KubeApiServer.answer``."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from kubectl_meshdoctor.playground.kubeapi import KubeApiServer


def handler_for(server: KubeApiServer) -> type[BaseHTTPRequestHandler]:
    from kubectl_meshdoctor.playground.kubeapi import TOKEN, Request, status

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK between them

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
            header = self.headers.get("Authorization")
            authorized = header == f"Bearer {TOKEN}"
            # kubectl (client-go) sends no credentials over plain http: like an API server with
            # anonymous reads allowed, a request without any credentials may read (loopback only);
            # a wrong token is still 401. ``authorized`` records whether the token came along.
            anonymous = header is None and server.config.anonymous_reads
            server.record(Request(self.command, split.path, query, authorized))
            if server.config.latency:
                time.sleep(server.config.latency)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            allowed = authorized or anonymous
            if self.command == "GET" and allowed and self.headers.get("Upgrade", "").lower() == "websocket":
                self._port_forward(split.path, query)
            elif self.command != "GET":
                self._reply(*status(405, "MethodNotAllowed", f"{self.command} is not allowed: read-only playground"))
            elif not allowed:
                self._reply(*status(401, "Unauthorized", "Unauthorized"))
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
                self._reply(*status(404, "NotFound", f"no port-forward target at {path}"))
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
            wsforward.serve(self.connection, int(query["ports"]), backend, server.next_forward_reset())

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle
        do_PATCH = _handle
        do_DELETE = _handle

    return Handler
