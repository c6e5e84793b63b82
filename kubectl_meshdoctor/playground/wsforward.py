"""The server side of the Kubernetes websocket port-forward (``pods/NAME/portforward``).

Enough of RFC 6455 and the ``v4.channel.k8s.io`` framing for the kubernetes client's
``portforward``: the handshake, then per port a data channel (0) and an error channel (1),
each opened with a frame carrying the port number; data frames are ``channel byte +
payload``. The playground maps the pod to a local address (its Relay), so the default
live path (port-forward to kube-system/hubble-relay) runs here without a cluster.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import select
import socket
import struct

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


def frame(payload: bytes, opcode: int = 2) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        return head + bytes([n]) + payload
    if n < 65536:
        return head + bytes([126]) + struct.pack("!H", n) + payload
    return head + bytes([127]) + struct.pack("!Q", n) + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    b1, b2 = _recv_exact(sock, 2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _recv_exact(sock, 8))[0]
    mask = _recv_exact(sock, 4) if b2 & 0x80 else b""
    data = _recv_exact(sock, n)
    if mask:
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
    return b1 & 0x0F, data


def serve(client: socket.socket, port: int, backend: tuple[str, int], reset_after: int = 0) -> None:
    """After the 101 answer: pump bytes between the websocket ``client`` and ``backend``.
    ``reset_after`` > 0: once that many bytes came from the backend, reset the client's connection
    (TCP RST mid-stream, as a dropped API-server or load-balancer connection does)."""
    client.sendall(frame(b"\x00" + struct.pack("<H", port)) + frame(b"\x01" + struct.pack("<H", port)))
    try:
        upstream = socket.create_connection(backend, timeout=5)
    except OSError as err:
        client.sendall(frame(b"\x01" + str(err).encode()) + frame(b"", opcode=8))
        return
    sent = 0
    try:
        while True:
            ready, _, _ = select.select([client, upstream], [], [], 30)
            if not ready:
                return
            if upstream in ready:
                data = upstream.recv(65536)
                if not data:
                    client.sendall(frame(b"", opcode=8))
                    return
                client.sendall(frame(b"\x00" + data))
                sent += len(data)
                if reset_after and sent >= reset_after:
                    _reset(client)
                    return
            if client in ready:
                opcode, data = read_frame(client)
                if opcode == 8:
                    return
                if opcode in (1, 2) and data[:1] == b"\x00" and len(data) > 1:
                    upstream.sendall(data[1:])
                elif opcode == 9:
                    client.sendall(frame(data, opcode=10))
    except (ConnectionError, OSError):
        return
    finally:
        with contextlib.suppress(OSError):
            upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
