"""What the client's payload is (issue 22): raw TCP, HTTP or gRPC. Istio selects the protocol of a
Service port from ``appProtocol``, else from the port name's prefix (``http-web``, ``tcp``,
``grpc``); an undeclared port is sniffed, so the payload itself decides. The answer says which
protocol it assumed and why: routing, authorization fields and the symptom depend on it."""

from __future__ import annotations

from kubectl_meshdoctor.model.objects import ServicePort

APP_PROTOCOLS = ("tcp", "http", "grpc")

# Istio's protocol names (and Kubernetes' standard appProtocol values) -> what the sidecar parses
_ISTIO = {
    "http": "http",
    "http2": "http",
    "h2c": "http",
    "kubernetes.io/h2c": "http",
    "kubernetes.io/ws": "http",
    "grpc": "grpc",
    "grpc-web": "grpc",
    "https": "tcp",  # TLS the sidecar passes through: opaque bytes to Envoy
    "kubernetes.io/wss": "tcp",
    "tls": "tcp",
    "tcp": "tcp",
    "mongo": "tcp",
    "mysql": "tcp",
    "redis": "tcp",
}


def declared(sp: ServicePort | None) -> tuple[str, str] | None:
    """The protocol a Service port declares to Istio and where, or None (Istio sniffs the payload)."""
    if sp is None:
        return None
    if sp.app_protocol:
        proto = _ISTIO.get(sp.app_protocol.lower())
        if proto is not None:
            return proto, f"Service port {sp.port} appProtocol: {sp.app_protocol}"
    name = (sp.name or "").lower()
    for prefix, proto in sorted(_ISTIO.items(), key=lambda kv: -len(kv[0])):
        if "/" not in prefix and (name == prefix or name.startswith(prefix + "-")):
            return proto, f"Service port {sp.port} name {sp.name!r}"
    return None


def select(explicit: str | None, sp: ServicePort | None, http_asked: bool, transport: str) -> tuple[str, str]:
    """(tcp|http|grpc, why): --app-protocol, else the Service port's declaration, else HTTP when the
    question names a method, path or header, else plain TCP."""
    if explicit:
        why = "--app-protocol"
        if explicit.lower() == "grpc":
            why += "; a gRPC call is POST /package.Service/Method: give its path with --path"
        return explicit.lower(), why
    if transport != "TCP":
        return "tcp", f"{transport} transport (no HTTP)"
    found = declared(sp)
    if found is not None:
        return found[0], f"declared by {found[1]}"
    if http_asked:
        return (
            "http",
            "no port declares a protocol; --method/--path/-H/--host describe an HTTP request (Istio sniffs it)",
        )
    return (
        "tcp",
        "nothing declares HTTP and no --method/--path/-H/--host was given; --app-protocol http asks about HTTP",
    )
