"""Service port protocol declarations (Istio protocol selection) against Cilium's L7 parser.

Istio decides a port's protocol from `appProtocol`, else the port name's prefix (`http`, `http-web`,
`grpc`, `tcp-db`, ...), else it sniffs the first bytes (not possible for server-first protocols such
as MySQL). Cilium's HTTP rules make its proxy parse every connection on the port as HTTP. The two
disagree when a port declared as TCP/TLS/a database protocol carries Cilium HTTP rules: Cilium
breaks what Istio forwards as opaque bytes. Ports of mesh workloads with no declaration at all are
reported as info (what istioctl's IST0118 says)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.pairs import is_istio_proxy, representatives
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.engines.cilium.peers import matching_port_rules
from kubectl_meshdoctor.findings.types import Cause, Mesh, ObjectRef, Severity
from kubectl_meshdoctor.model.objects import Pod, Service, ServicePort
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model

_HTTP = {"http", "http2", "grpc", "grpc-web", "h2c", "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss"}
_KNOWN = _HTTP | {"https", "tcp", "tls", "udp", "mongo", "mysql", "redis"}


def declared(sp: ServicePort) -> tuple[str | None, str]:
    """(protocol, where it was declared) for one Service port; (None, why) when Istio will sniff."""
    if sp.protocol == "UDP":
        return "udp", "spec.ports[].protocol UDP"
    if sp.app_protocol:
        return sp.app_protocol.lower(), f"appProtocol {sp.app_protocol}"
    name = (sp.name or "").lower()
    prefix = name.split("-", 1)[0]
    if prefix in _KNOWN or name.startswith("grpc-web"):
        return ("grpc-web" if name.startswith("grpc-web") else prefix), f"port name {sp.name!r}"
    return None, f"port name {sp.name!r} has no protocol prefix and no appProtocol" if sp.name else "unnamed port"


def _l7_ref(model: Model, pod: Pod, port: int) -> ObjectRef | None:
    for rule in selecting_rules(model, pod):
        for entry in rule.ingress:
            if not any(pr.l7 == "http" for pr in entry.to_ports):
                continue  # none of its port rules can be an HTTP one, whichever match
            for pr in matching_port_rules(entry, port, "TCP", pod):
                if pr.l7 == "http":
                    return rule.policy.with_rule(f"{entry.path}.{pr.path}.rules.http")
    return None


def _port_findings(model: Model, pod: Pod, mesh: Mesh, svc: Service, i: int, sp: ServicePort) -> list[Cause]:
    protocol, how = declared(sp)
    target = sp.target_port if isinstance(sp.target_port, int) else pod.named_port(sp.target_port)
    l7 = _l7_ref(model, pod, target) if target is not None else None
    if not (l7 is not None and protocol is not None and protocol not in _HTTP) and not (
        protocol is None and mesh is not Mesh.NONE and sp.protocol == "TCP"
    ):
        return []  # nothing to say of this port (the two findings below, their conditions)
    ref = svc.ref().with_rule(f"spec.ports[{i}]")
    where = f"{svc.namespace}/{svc.name}:{sp.port}"
    if l7 is not None and protocol is not None and protocol not in _HTTP:
        what = (
            f"Service port {where} is declared {protocol} ({how}) but {l7.key()} puts Cilium's HTTP parser on "
            f"target port {target}: Istio forwards the bytes as {protocol}, Cilium expects HTTP and drops or "
            "resets what it cannot parse"
        )
        fix = f"drop rules.http from {l7.key()} (enforce at L4), or declare the port http (name http-..., appProtocol)"
        return [Cause("protocol-declaration", (ref, l7), {"what": what, "fix_hint": fix})]
    if protocol is None and mesh is not Mesh.NONE and sp.protocol == "TCP":
        what = (
            f"Service port {where} of a mesh workload declares no protocol ({how}): Istio sniffs it, which "
            "adds latency and fails for server-first protocols (MySQL, SMTP)"
            + (f"; Cilium's HTTP rules ({l7.key()}) assume HTTP" if l7 is not None else "")
        )
        fix = f"name the port <protocol>[-suffix] (e.g. http-web, tcp-db) or set appProtocol on {where}"
        return [Cause("protocol-declaration", (ref,), {"what": what, "fix_hint": fix}, severity=Severity.INFO)]
    return []


def _protocols(model: Model) -> list[Cause]:
    out: list[Cause] = []
    seen: set[tuple[str, int]] = set()
    for pod in representatives(model):
        if is_istio_proxy(pod):  # Istio's own ports (HBONE 15008, health) need no declaration
            continue
        mesh = model.pod_mesh(pod)[0]
        for svc in services_for(model, [pod]):
            for i, sp in enumerate(svc.ports):
                key = (f"{svc.namespace}/{svc.name}", sp.port)
                if key not in seen:
                    seen.add(key)
                    out.extend(_port_findings(model, pod, mesh, svc, i, sp))
    return out


PROTOCOLS = Check(
    "mesh.ProtocolDeclaration",
    "Service port protocol declarations vs Istio protocol sniffing and Cilium's HTTP parser",
    ("Service", "Pod", "Namespace", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"),
    _protocols,
)
