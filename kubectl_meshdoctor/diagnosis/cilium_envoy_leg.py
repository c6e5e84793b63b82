"""The leg behind Cilium's Gateway API Envoy (issue 20 §4; semantics-gateways.md C2-C4, GB12, GB13,
GB15): Cilium's Envoy is no pod; its upstream connection carries the reserved identity `ingress`
(8), so the backend's Cilium ingress policy must admit `ingress` on the target port (GB13), its L7
rules see that identity, and a backend whose Istio PeerAuthentication is STRICT resets the plaintext
connection (GB15: Cilium's Envoy holds no Istio certificate). The first policy point, world → the
ingress endpoint (policies selecting `reserved:ingress`, GB12), comes first, on the backend's port
(diagnosis/cilium_ingress_point.py)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.cilium_ingress_cidr import client_ip_causes
from kubectl_meshdoctor.diagnosis.cilium_ingress_point import world_to_ingress
from kubectl_meshdoctor.engines.cilium.decide import evaluate
from kubectl_meshdoctor.engines.istio_mtls import effective_pa
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, Mesh, Symptom, Verdict
from kubectl_meshdoctor.model.objects import Peer, Pod
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model

# part of the `cluster` entity: Cilium's external-lockdown example (endpointSelector {} + fromEntities
# [cluster]) keeps the Envoy → backend leg working (semantics-gateways.md C3)
INGRESS_PEER = Peer(
    labels={},
    reserved=frozenset({"ingress"}),
    entities=frozenset({"ingress", "cluster", "all"}),
    ip=None,
    name="Cilium's Envoy (reserved identity ingress)",
)


def _unknown(hop: Hop, label: str, gap: str) -> HopResult:
    return HopResult(hop, Decision.UNKNOWN, (), gap, Symptom.UNKNOWN, Verdict.UNKNOWN, gaps=(gap,), leg=label)


def _target_port(model: Model, b: BackendAnswer, pod: Pod) -> int | None:
    svc = model.services.get(f"{b.namespace}/{b.name}")
    sp = next((p for p in svc.ports if p.port == b.port), None) if svc is not None else None
    if sp is None:
        return None
    return sp.target_port if isinstance(sp.target_port, int) else pod.named_port(sp.target_port)


def cilium_envoy_leg(
    model: Model,
    gateway: str,
    b: BackendAnswer,
    method: str,
    path: str,
    client: str = "world",
    l4: bool = False,
    front: str | None = None,
) -> list[HopResult]:
    """``l4``: a TLS passthrough or TCP listener: Envoy forwards bytes, no HTTP request is known.
    ``front``: what Cilium's Envoy serves there ("Ingress NS/NAME"; default "Gateway NS/NAME")."""
    entry = front or f"Gateway {gateway}"
    label = f"Cilium's Envoy ({entry[0].lower() + entry[1:]}) → {b.namespace}/svc/{b.name}"
    svc = model.services.get(f"{b.namespace}/{b.name}")
    pods = [p for p in pods_for_service(model, svc) if p.ready] if svc is not None else []
    if not pods:
        return [_unknown(Hop.RESOLVE, label, f"no ready pod of Service {b.namespace}/{b.name} in this view")]
    pod = pods[0]
    port = _target_port(model, b, pod)
    if port is None:
        return [_unknown(Hop.RESOLVE, label, f"Service {b.namespace}/{b.name} port {b.port}: target port unknown")]
    out: list[HopResult] = []
    first = world_to_ingress(model, entry, client, port, method, path, f"{b.namespace}/{b.name}:{b.port}", l4)
    if first is not None:
        out.append(first)
        if first.decision is Decision.DENY:
            return out  # Envoy answers 403 itself: no upstream connection
    server = f"{pod.namespace}/{pod.name}"
    d = evaluate(model, pod, "ingress", INGRESS_PEER, port, "TCP")
    if d.decision is Decision.DENY:
        params = {"server": server, "port": str(port), "gateway": gateway, "entry": entry, "why": d.detail}
        cause = Cause("cilium-ingress-backend-denied", d.by or d.selecting, params)
        detail = f"{d.detail}: Cilium drops {INGRESS_PEER.name} → {server}:{port}; the gateway answers 503"
        causes = (cause, *client_ip_causes(model, pod, port, entry))  # GB14: CIDR rules never see the client
        return [
            *out,
            HopResult(
                Hop.CILIUM_INGRESS, Decision.DENY, d.by, detail, Symptom.HTTP_503, Verdict.DENIED, causes, leg=label
            ),
        ]
    out.append(HopResult(Hop.CILIUM_INGRESS, Decision.ALLOW, d.by, f"{d.detail} ({INGRESS_PEER.name})", leg=label))
    if l4 and (d.http_rules or d.l7_unadmitted):
        gap = f"Cilium's HTTP rules on {server}:{port} meet the bytes a TLS/TCP listener forwards: not evaluated"
        return [*out, _unknown(Hop.CILIUM_L7, label, gap)]
    if d.http_rules or d.l7_unadmitted:
        l7 = d.l7_for(method, path, None, {})
        if not l7.allowed:
            params = {
                "server": server,
                "port": str(port),
                "gateway": gateway,
                "entry": entry,
                "why": f"its HTTP rules do not admit {method} {path} from identity ingress",
            }
            cause = Cause("cilium-ingress-backend-denied", l7.by, params)
            detail = f"Cilium's HTTP rules on {server}:{port} do not admit {method} {path} from identity ingress → 403"
            return [
                *out,
                HopResult(
                    Hop.CILIUM_L7, Decision.DENY, l7.by, detail, Symptom.HTTP_403, Verdict.DENIED, (cause,), leg=label
                ),
            ]
    mesh, _ = model.pod_mesh(pod)
    if mesh is not Mesh.NONE:
        pa = effective_pa(model, pod, port)
        if pa.mode == "STRICT":
            params = {"server": server, "port": str(port), "gateway": gateway, "entry": entry, "mesh": mesh.value}
            cause = Cause("cilium-ingress-vs-istio-mtls", pa.by, params)
            detail = (
                f"{server} requires Istio mTLS (PeerAuthentication STRICT) and Cilium's Envoy sends plaintext → 503"
            )
            return [
                *out,
                HopResult(
                    Hop.SERVER_PROXY,
                    Decision.BREAK,
                    pa.by,
                    detail,
                    Symptom.HTTP_503,
                    Verdict.BROKEN,
                    (cause,),
                    leg=label,
                ),
            ]
        where = (pod.namespace, model.istio.mesh.root_namespace)
        if any(ap.ref.namespace in where for ap in model.istio.authz):
            note = (
                f"{server} is in the mesh ({mesh.value}): AuthorizationPolicies there see a plaintext peer without "
                "identity; not evaluated for this leg"
            )
            out.append(_unknown(Hop.SERVER_PROXY, label, note))
    return out
