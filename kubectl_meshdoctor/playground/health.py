"""The gRPC health service of the playground Relay (``grpc.health.v1.Health``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc

# grpc.health.v1.Health, as `hubble status` asks for it (hubble-api.md §1.4): Check with service
# "hubble.server.Observer". The two messages are one field each, so they are encoded by hand
# (no grpcio-health-checking dependency): HealthCheckRequest{1: string service},
# HealthCheckResponse{1: enum status}, SERVING = 1.
HEALTHY_SERVICES = frozenset({"", "hubble.server.Observer", "observer.Observer"})
SERVING = 1


def _health_service(data: bytes) -> str:
    """The ``service`` field of a serialized HealthCheckRequest."""
    i = 0
    while i < len(data):
        tag, i = _varint(data, i)
        if tag & 7 == 2:
            size, i = _varint(data, i)
            if tag >> 3 == 1:
                return data[i : i + size].decode("utf-8", "replace")
            i += size
        elif tag & 7 == 0:
            _, i = _varint(data, i)
        else:
            break
    return ""


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(data):
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, i


def health_handler() -> Any:
    def check(request: bytes, context: Any) -> bytes:
        service = _health_service(request)
        if service not in HEALTHY_SERVICES:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {service!r}")
        return bytes([0x08, SERVING])

    def watch(request: bytes, context: Any) -> Iterator[bytes]:
        yield check(request, context)
        while context.is_active():
            time.sleep(0.5)

    return grpc.method_handlers_generic_handler(
        "grpc.health.v1.Health",
        {
            "Check": grpc.unary_unary_rpc_method_handler(check),
            "Watch": grpc.unary_stream_rpc_method_handler(watch),
        },
    )
