"""A Hubble-Relay-compatible gRPC server (service ``observer.Observer``) over recorded flows.

GetFlows applies the request as Relay would (hubble-api.md §2): whitelist/blacklist with
FlowFilter AND/OR semantics and pod prefixes (the shared ``flowfilter`` code), since/until,
``number`` (last N, or first N with ``first``) and ``follow`` (history, then the stream stays
open until the client cancels). Like Relay it starts the stream with a NODE_CONNECTED
node-status event, and ``unavailable_nodes``/``lost_events`` inject the notices a degraded
Relay sends. Every GetFlowsRequest is recorded so tests can check what reached the server.
Optional TLS, with client-certificate verification when a client CA is given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import grpc

from kubectl_meshdoctor._proto import flow_pb2, observer_pb2, observer_pb2_grpc, relay_pb2
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher, in_window

VERSION = "1.19.4-meshdoctor-playground"


@dataclass(frozen=True, slots=True)
class RelayTLS:
    cert_pem: bytes
    key_pem: bytes
    client_ca_pem: bytes | None = None  # set: client certificates are required and verified


@dataclass(slots=True)
class RelayConfig:
    unavailable_nodes: list[str] = field(default_factory=list)
    lost_events: int = 0  # > 0: one LostEvent notice in every GetFlows stream


class _Observer(observer_pb2_grpc.ObserverServicer):
    def __init__(self, owner: RelayServer) -> None:
        self.owner = owner

    def GetFlows(self, request: Any, context: Any) -> Iterator[Any]:
        owner = self.owner
        owner.record(request)
        context.send_initial_metadata((("hubble-relay-version", VERSION),))
        nodes = owner.node_names()
        yield observer_pb2.GetFlowsResponse(
            node_status=relay_pb2.NodeStatusEvent(state_change=relay_pb2.NODE_CONNECTED, node_names=nodes)
        )
        if owner.config.unavailable_nodes:
            yield observer_pb2.GetFlowsResponse(
                node_status=relay_pb2.NodeStatusEvent(
                    state_change=relay_pb2.NODE_UNAVAILABLE,
                    node_names=owner.config.unavailable_nodes,
                    message="connection refused",
                )
            )
        if owner.config.lost_events:
            yield observer_pb2.GetFlowsResponse(
                lost_events=flow_pb2.LostEvent(
                    source=flow_pb2.HUBBLE_RING_BUFFER, num_events_lost=owner.config.lost_events
                )
            )
        for flow in select(owner.flows, request):
            yield observer_pb2.GetFlowsResponse(flow=flow, node_name=flow.node_name, time=flow.time)
        while request.follow and context.is_active() and not owner.stopping.is_set():
            time.sleep(0.05)

    def ServerStatus(self, request: Any, context: Any) -> Any:
        nodes = self.owner.node_names()
        return observer_pb2.ServerStatusResponse(
            num_flows=len(self.owner.flows),
            max_flows=4095 * max(len(nodes), 1),
            seen_flows=len(self.owner.flows),
            uptime_ns=int((time.monotonic() - self.owner.started) * 1e9),
            num_connected_nodes={"value": len(nodes)},
            num_unavailable_nodes={"value": len(self.owner.config.unavailable_nodes)},
            unavailable_nodes=self.owner.config.unavailable_nodes,
            version=VERSION,
        )

    def GetNodes(self, request: Any, context: Any) -> Any:
        nodes = [
            observer_pb2.Node(
                name=n,
                version=VERSION,
                state=relay_pb2.NODE_CONNECTED,
                num_flows=sum(1 for f in self.owner.flows if f.node_name == n),
            )
            for n in self.owner.node_names()
        ]
        nodes += [
            observer_pb2.Node(name=n, version=VERSION, state=relay_pb2.NODE_UNAVAILABLE)
            for n in self.owner.config.unavailable_nodes
        ]
        return observer_pb2.GetNodesResponse(nodes=nodes)


def select(flows: list[Any], request: Any) -> list[Any]:
    """What Relay returns for ``request`` (number applied after filtering, over all nodes)."""
    matcher = FlowMatcher(list(request.whitelist), list(request.blacklist))
    since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
    until = request.until.ToDatetime(tzinfo=UTC) if request.HasField("until") else None
    chosen = [f for f in flows if matcher(f) and in_window(f, since, until)]
    if request.number and since is None:
        chosen = chosen[: request.number] if request.first else chosen[-request.number :]
    elif request.follow and not request.number and since is None:
        chosen = []  # follow without number or since starts at the newest event
    return chosen


class RelayServer:
    """``start()`` binds 127.0.0.1 on a free port; ``address`` is HOST:PORT."""

    def __init__(self, flows: list[Any], config: RelayConfig | None = None, tls: RelayTLS | None = None) -> None:
        self.flows = sorted(flows, key=lambda f: (f.time.seconds, f.time.nanos))
        self.config = config or RelayConfig()
        self.requests: list[Any] = []
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        register: Any = observer_pb2_grpc.add_ObserverServicer_to_server
        register(_Observer(self), self._server)
        if tls is None:
            port = self._server.add_insecure_port("127.0.0.1:0")
        else:
            creds = grpc.ssl_server_credentials(
                [(tls.key_pem, tls.cert_pem)],
                root_certificates=tls.client_ca_pem,
                require_client_auth=tls.client_ca_pem is not None,
            )
            port = self._server.add_secure_port("127.0.0.1:0", creds)
        self.port = int(port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RelayServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.stop(grace=0.5).wait()

    def record(self, request: Any) -> None:
        copy = observer_pb2.GetFlowsRequest()
        copy.CopyFrom(request)
        with self._lock:
            self.requests.append(copy)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def node_names(self) -> list[str]:
        return sorted({f.node_name for f in self.flows if f.node_name})
