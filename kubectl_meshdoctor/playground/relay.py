"""A Hubble-Relay-compatible gRPC server (service ``observer.Observer``) over recorded flows.

GetFlows applies the request as Relay would (hubble-api.md §2): whitelist/blacklist with
FlowFilter AND/OR semantics and pod prefixes (the shared ``flowfilter`` code), since/until,
``number`` (last N, or first N with ``first``) and ``follow`` (history, then the stream stays
open until the client cancels). Like Relay it starts the stream with a NODE_CONNECTED
node-status event, and ``unavailable_nodes``/``lost_events`` inject the notices a degraded
Relay sends. Every GetFlowsRequest is recorded so tests can check what reached the server, with the number
of flows sent for it. Optional TLS, with client-certificate verification when a client CA is given.

Flows are held as serialized ``GetFlowsResponse`` bytes in time order (a million flows fit in a
few hundred MB) with an index by pod of both ends, so a request naming pods (the pair an
explain asks for) reads only those pods' flows instead of scanning them all, and flows go on
the wire without being parsed and serialized again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc

from kubectl_meshdoctor._proto import flow_pb2, observer_pb2, observer_pb2_grpc, relay_pb2
from kubectl_meshdoctor.playground.flowstore import FlowStore, select, select_positions
from kubectl_meshdoctor.playground.health import health_handler
from kubectl_meshdoctor.sources.flowfilter import FlowMatcher

__all__ = ["FlowStore", "RelayConfig", "RelayServer", "RelayTLS", "select", "select_positions"]

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
    flow_interval: float = 0.0  # > 0: GetFlows sends one flow per interval (a Relay that trickles)


class _Observer(observer_pb2_grpc.ObserverServicer):
    def __init__(self, owner: RelayServer) -> None:
        self.owner = owner

    def GetFlows(self, request: Any, context: Any) -> Iterator[Any]:
        owner = self.owner
        record = owner.record(request)
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
        store = owner.store
        seen = len(store)
        interval = owner.config.flow_interval
        for i in select_positions(store, request):
            if interval and (owner.stopping.wait(interval) or not context.is_active()):
                return
            record.sent += 1
            yield store.blobs[i]  # already serialized: see _serialize
        matcher = FlowMatcher(list(request.whitelist), list(request.blacklist))
        while request.follow and context.is_active() and not owner.stopping.is_set():
            if len(store) > seen:  # flows added while following (add_flows), in time order
                upto = len(store)
                for i in range(seen, upto):
                    if matcher(store.flow(i)):
                        record.sent += 1
                        yield store.blobs[i]
                seen = upto
            time.sleep(0.05)

    def ServerStatus(self, request: Any, context: Any) -> Any:
        context.send_initial_metadata((("hubble-relay-version", VERSION),))
        nodes = self.owner.node_names()
        return observer_pb2.ServerStatusResponse(
            num_flows=len(self.owner.store),
            max_flows=4095 * max(len(nodes), 1),
            seen_flows=len(self.owner.store),
            uptime_ns=int((time.monotonic() - self.owner.started) * 1e9),
            num_connected_nodes={"value": len(nodes)},
            num_unavailable_nodes={"value": len(self.owner.config.unavailable_nodes)},
            unavailable_nodes=self.owner.config.unavailable_nodes,
            version=VERSION,
        )

    def GetNodes(self, request: Any, context: Any) -> Any:
        counts = self.owner.store.nodes
        nodes = [
            observer_pb2.Node(name=n, version=VERSION, state=relay_pb2.NODE_CONNECTED, num_flows=counts[n])
            for n in self.owner.node_names()
        ]
        nodes += [
            observer_pb2.Node(name=n, version=VERSION, state=relay_pb2.NODE_UNAVAILABLE)
            for n in self.owner.config.unavailable_nodes
        ]
        return observer_pb2.GetNodesResponse(nodes=nodes)


def _serialize(resp: Any) -> bytes:
    return resp if isinstance(resp, bytes) else bytes(resp.SerializeToString())


def _register(servicer: _Observer, server: Any) -> None:
    """The generated registration, except that GetFlows may yield pre-serialized bytes."""
    pb = observer_pb2
    handlers = {
        name: make(getattr(servicer, name), request_deserializer=req.FromString, response_serializer=_serialize)
        for name, make, req in (
            ("GetFlows", grpc.unary_stream_rpc_method_handler, pb.GetFlowsRequest),
            ("GetNodes", grpc.unary_unary_rpc_method_handler, pb.GetNodesRequest),
            ("GetNamespaces", grpc.unary_unary_rpc_method_handler, pb.GetNamespacesRequest),
            ("ServerStatus", grpc.unary_unary_rpc_method_handler, pb.ServerStatusRequest),
        )
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("observer.Observer", handlers),))
    server.add_generic_rpc_handlers((health_handler(),))


@dataclass(slots=True)
class Received:
    """One GetFlows call: the request as received and how many flows were sent for it."""

    request: Any
    sent: int = 0


class RelayServer:
    """``start()`` binds 127.0.0.1 on a free port; ``address`` is HOST:PORT.

    ``flows``: messages, or a ``FlowStore`` (bulk data); ``requests`` holds every GetFlowsRequest
    received, ``received`` the same with the number of flows sent for each.
    """

    def __init__(
        self, flows: list[Any] | FlowStore, config: RelayConfig | None = None, tls: RelayTLS | None = None
    ) -> None:
        self.store = flows if isinstance(flows, FlowStore) else FlowStore(flows)
        self.store.freeze()
        self.config = config or RelayConfig()
        self.received: list[Received] = []
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        _register(_Observer(self), self._server)
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
    def flows(self) -> list[Any]:
        """Every flow as a message, in time order (parses them all: for small stores and tests)."""
        return self.store.messages()

    @property
    def requests(self) -> list[Any]:
        with self._lock:
            return [r.request for r in self.received]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RelayServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.stop(grace=0.5).wait()

    def record(self, request: Any) -> Received:
        copy = observer_pb2.GetFlowsRequest()
        copy.CopyFrom(request)
        entry = Received(copy)
        with self._lock:
            self.received.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def add_flows(self, flows: Iterable[Any]) -> None:
        """Flows that happen while serving (tests of ``explain --watch``); following streams get them."""
        with self._lock:
            for flow in flows:
                self.store.add(flow)
            self.store.freeze()

    def node_names(self) -> list[str]:
        return sorted(self.store.nodes)
