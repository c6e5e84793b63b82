"""The resolved call: who calls whom, on which ports, and what each side is (B24 step 1-2)."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field

from kubectl_meshdoctor.diagnosis import app_protocol
from kubectl_meshdoctor.diagnosis.partial import Partial, SplitTarget
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision
from kubectl_meshdoctor.engines.istio_authz import AuthzResult
from kubectl_meshdoctor.engines.istio_mesh import spiffe, workload_mesh
from kubectl_meshdoctor.engines.istio_mtls import ClientTLS, EffectiveMTLS, client_tls
from kubectl_meshdoctor.engines.istio_routing import RouteOutcome
from kubectl_meshdoctor.engines.istio_waypoint import WaypointBinding, waypoint_for
from kubectl_meshdoctor.errors import DataError, UsageError
from kubectl_meshdoctor.findings.gateway_types import MeshRouteAnswer
from kubectl_meshdoctor.findings.types import Endpoint, Gap, Mesh, Request
from kubectl_meshdoctor.model.objects import Pod, Service, ServicePort
from kubectl_meshdoctor.model.refs import Target, resolve, services_for
from kubectl_meshdoctor.model.view import Model

HBONE_PORT = 15008


@dataclass(frozen=True, slots=True)
class Query:
    source: str
    destination: str
    namespace: str = "default"
    port: int | None = None
    protocol: str = "TCP"
    method: str = "GET"
    path: str = "/"
    since_seconds: float | None = None
    last: int | None = None
    no_flows: bool = False
    headers: tuple[tuple[str, str], ...] = ()  # HTTP request headers to reason about (routing matches)
    host: str | None = None  # the Host the client sends (a gateway SOURCE needs it)
    # internal: evaluate the server hops for this route destination ("ns/service", subset) of a split
    pin: tuple[str, str | None] | None = None
    app_protocol: str | None = None  # --app-protocol tcp|http|grpc; None = from the Service port (issue 22)
    # the question describes an HTTP request (--method/--path/-H given); programmatic callers assume so
    http_asked: bool = True
    any_request: bool = False  # neither --method nor --path given: flows-only input summarises every request
    via: str | None = None  # issue 20: world → this gateway (NS/gateway/NAME) → does it reach DESTINATION?


@dataclass(slots=True)
class Call:
    model: Model
    query: Query
    src: Target
    dst: Target
    client: Pod
    server: Pod | None
    servers: list[Pod]
    client_mesh: Mesh
    client_mesh_why: str
    server_mesh: Mesh
    server_mesh_why: str
    svc: Service | None
    svc_port: ServicePort | None
    port: int  # what the client dials (service port, or the pod port)
    target_port: int | None  # the pod port after service translation; None = unresolved
    port_problem: str | None
    tls: ClientTLS
    request: Request
    gaps: list[str] = field(default_factory=list)
    # filled by hops, read by cross-layer rules and evidence
    egress: CiliumDecision | None = None
    ingress: CiliumDecision | None = None
    ingress_at_target: CiliumDecision | None = None
    pa: EffectiveMTLS | None = None
    authz: AuthzResult | None = None
    route: RouteOutcome | None = None
    waypoint: WaypointBinding | None = None  # issue 11 §1: the call runs client → waypoint → server
    mesh_route: MeshRouteAnswer | None = None  # issue 20 §3: the GAMMA route the routing hop evaluated
    relay_pods: list[Pod] = field(default_factory=list)  # issue 20 §5: an egress gateway in the middle (its flows)
    # issue 17: shares of requests that fail by configuration (fault aborts, broken weighted destinations)
    partial: list[Partial] = field(default_factory=list)
    # the other destinations of a weighted split, each evaluated by its own walk (diagnosis/shares.py)
    split: list[SplitTarget] = field(default_factory=list)
    split_main: float = 100.0  # the share of requests that go to the destination this walk evaluates

    @property
    def wire_port(self) -> int:
        """B24.4: the on-wire port Cilium sees (15008 for HBONE)."""
        if self.tls.payload == "hbone":
            return HBONE_PORT
        return self.target_port if self.target_port is not None else self.port

    @property
    def app_protocol(self) -> tuple[str, str]:
        """(tcp|http|grpc, why) — what the client sends, as Istio's protocol selection sees it."""
        q = self.query
        return app_protocol.select(q.app_protocol, self.svc_port, q.http_asked, q.protocol)

    @property
    def http(self) -> bool:
        return self.app_protocol[0] != "tcp"

    def source_endpoint(self) -> Endpoint:
        pods = tuple(p.name for p in self.src.pods)
        ident = spiffe(self.model, self.client) if self.client_mesh is not Mesh.NONE else None
        return Endpoint(self.src.namespace, self.src.name, self.src.kind, pods, self.client_mesh, ident)

    def destination_endpoint(self) -> Endpoint:
        if self.dst.kind == "External":
            return Endpoint(
                "",
                self.dst.label,
                "External",
                (),
                Mesh.NONE,
                external=self.dst.label,
                port=self.port,
                target_port=self.target_port,
            )
        workload = self.server.workload_name if self.server is not None else self.dst.name
        pods = tuple(p.name for p in self.servers)
        ident = (
            spiffe(self.model, self.server) if self.server is not None and self.server_mesh is not Mesh.NONE else None
        )
        return Endpoint(
            self.dst.namespace,
            workload,
            self.dst.kind,
            pods,
            self.server_mesh,
            ident,
            self.svc.name if self.svc else None,
            self.port,
            self.target_port,
        )


def _ready(model: Model, svc: Service | None, pods: list[Pod]) -> list[Pod]:
    if svc is not None and svc.ready_pods is not None:
        return [p for p in pods if p.key() in svc.ready_pods]
    return [p for p in pods if p.ready]


def _ports(
    q: Query, svc: Service | None, server: Pod | None, by_service: bool = False
) -> tuple[ServicePort | None, int, int | None, str | None]:
    """Service port -> targetPort (named ports resolve on the pod); B17. A workload's --port may name
    the container port its Service targets; a Service (or its DNS name) is called on its own ports."""
    if svc is not None and svc.ports:
        sp: ServicePort | None
        if q.port is None:
            sp = svc.ports[0]
        else:
            sp = next((p for p in svc.ports if p.port == q.port), None)
            if sp is None:
                by_target = None if by_service else next((p for p in svc.ports if p.target_port == q.port), None)
                if by_target is None:
                    listed = ", ".join(str(p.port) for p in svc.ports)
                    return (
                        None,
                        q.port,
                        None,
                        (f"Service {svc.namespace}/{svc.name} does not expose port {q.port} (ports: {listed})"),
                    )
                sp = by_target
        if isinstance(sp.target_port, int):
            return sp, sp.port, sp.target_port, None
        if server is None:
            return sp, sp.port, None, None
        number = server.named_port(sp.target_port)
        if number is None:
            return (
                sp,
                sp.port,
                None,
                (
                    f"Service {svc.namespace}/{svc.name} port {sp.port} targets the named port {sp.target_port!r}, "
                    f"which pod {server.name} does not define"
                ),
            )
        return sp, sp.port, number, None
    if q.port is not None:
        return None, q.port, q.port, None
    app_ports = [p for p in server.ports if p.container not in ("istio-proxy", "istio-init")] if server else []
    if app_ports:
        return None, app_ports[0].port, app_ports[0].port, None
    return None, 80, 80, None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _dotted_quad_check(text: str, what: str) -> None:
    """``10.0.0.999`` is neither an IP address nor a name anyone would resolve: a typo, said as one."""
    if re.fullmatch(r"\d+(\.\d+){3}", text.strip()) and not _is_ip(text.strip()):
        raise UsageError(f"{what} {text!r} is not a valid IP address")


def resolve_call(model: Model, q: Query) -> Call:
    _dotted_quad_check(q.source, "SOURCE")
    _dotted_quad_check(q.destination, "DESTINATION")
    src = resolve(model, q.source, q.namespace, allow_external=False)
    if src.kind == "Service":
        raise UsageError(f"SOURCE {q.source!r} is a Service; name the client workload (e.g. NS/deploy/NAME)")
    if not src.pods:
        unread = next((g for g in model.gaps if isinstance(g, Gap) and g.concerns({"Pod"}, [src.namespace])), None)
        why = f" ({unread})" if unread else ""
        raise DataError(f"{src.label} has no pods in this view{why}: cannot tell who calls")
    dst = resolve(model, q.destination, q.namespace, allow_external=True)
    if dst.alias is not None and q.port is None and dst.alias.ports:
        q = dataclasses.replace(q, port=dst.alias.ports[0].port)  # the port the client uses with the alias
    client = src.pods[0]
    client_mesh, client_why = workload_mesh(model, src.pods)
    gaps: list[str] = []
    svc = dst.service
    explicit_pod = len(q.destination.split("/")) == 3 and q.destination.split("/")[1] in ("pod", "po", "pods")
    explicit_pod = explicit_pod or (dst.kind == "Pod" and _is_ip(q.destination))  # a pod IP bypasses Services
    if svc is None and dst.kind in ("Deployment", "StatefulSet", "DaemonSet", "Pod") and dst.pods and not explicit_pod:
        found = services_for(model, dst.pods)
        svc = found[0] if found else None
        if svc is not None:
            dst.dns_name = f"{svc.name}.{svc.namespace}"
    servers = _ready(model, svc, dst.pods) if dst.kind != "External" else []
    candidates = servers or dst.pods
    server = candidates[0] if candidates else None
    server_mesh, server_why = workload_mesh(model, dst.pods) if dst.pods else (Mesh.NONE, "outside the cluster")
    sp, port, target, problem = _ports(q, svc, server, by_service=dst.service is not None)
    if q.port is None and sp is None and not (server and server.ports) and dst.kind != "External":
        gaps.append(f"no --port given and {dst.label} has no Service or declared container port: assuming port 80")
    tls = client_tls(model, client_mesh, server, server_mesh, svc, port, client.namespace, client.labels)
    if q.method != "POST" and app_protocol.select(q.app_protocol, sp, q.http_asked, q.protocol)[0] == "grpc":
        q = dataclasses.replace(q, method="POST")  # every gRPC call is an HTTP/2 POST to /package.Service/Method
    alias_host = f"{dst.alias.name}.{dst.alias.namespace}" if dst.alias is not None else None
    host = q.host or alias_host or dst.dns_name or (server.ip if server is not None else dst.label)
    request = Request(q.protocol, q.method, q.path, host, dict(q.headers))
    waypoint = None
    if server_mesh is Mesh.AMBIENT and client_mesh is not Mesh.NONE and dst.kind != "External":
        waypoint = waypoint_for(model, dst.pods, None if explicit_pod else svc, dst.namespace)
    return Call(
        model,
        q,
        src,
        dst,
        client,
        server,
        servers,
        client_mesh,
        client_why,
        server_mesh,
        server_why,
        svc,
        sp,
        port,
        target,
        problem,
        tls,
        request,
        gaps,
        waypoint=waypoint,
    )
