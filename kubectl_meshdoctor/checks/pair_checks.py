"""Findings that only show on a call, found by walking witness calls through explain's hops:
Cilium L7 vs Istio mTLS (B5, B6), HBONE on 15008 (C1.3), DestinationRule TLS vs PeerAuthentication
in both directions (B9, B10), STRICT vs clients Cilium lets in (B8), identity rules on plaintext
(B13), Sidecar egress scopes hiding Services (REGISTRY_ONLY)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.ingress_memo import IngressMemo
from kubectl_meshdoctor.checks.pairs import (
    Clients,
    Target,
    client_modes,
    policy_namespaces,
    probe,
    representatives,
    targets,
    witnesses,
)
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.istio_authz import Conn
from kubectl_meshdoctor.engines.istio_authz import evaluate as authz_evaluate
from kubectl_meshdoctor.findings.types import Cause, Decision, Mesh, Severity
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model

# what a witness call may reveal that is a property of the objects, not of one request
PAIR_CODES = frozenset(
    {
        "cilium-l7-vs-istio-mtls",
        "cilium-l7-unreachable-ambient",
        "cilium-l7-not-enforced",
        "istio-mtls-conflict",
        "istio-mtls-strict-plaintext",
        "istio-authz-needs-mtls",
        "istio-egress-registry-only",
        "port-mismatch",
        "no-endpoints",  # the waypoint an ambient server uses is missing or not ready
    }
)


def _named_but_plaintext(call: Call) -> bool:
    """B13 on one call: would the same AuthorizationPolicies allow this client if it came with its
    mesh identity? Only then does a rule name a client that can never present it (not a deliberate deny)."""
    server = call.server
    if server is None:
        return False
    client = call.client
    principal = f"{call.model.istio.mesh.trust_domain}/ns/{client.namespace}/sa/{client.service_account}"
    port = call.target_port or call.port
    conn = Conn(True, principal, client.namespace, client.ip, port, call.http, "GET", "/", call.request.host)
    ztunnel = call.server_mesh is Mesh.AMBIENT
    return authz_evaluate(call.model, server, conn, ztunnel=ztunnel).decision is Decision.ALLOW


def _keep(cause: Cause, call: Call) -> Cause | None:
    call_wire_port = call.wire_port
    if cause.code == "istio-authz-needs-mtls" and not _named_but_plaintext(call):
        return None
    if cause.code == "port-mismatch" and any(ref.kind == "Pod" for ref in cause.objects):
        return None  # undeclared container port: explain's "likely"; apps often listen on undeclared ports
    if cause.code in PAIR_CODES:
        if cause.code == "istio-mtls-strict-plaintext":
            # STRICT is meant to refuse plaintext; what is worth saying is that Cilium lets the client in
            return Cause(cause.code, cause.objects, cause.params, cause.detail, Severity.WARNING)
        return cause
    if cause.code == "cilium-policy-denied" and call_wire_port == 15008:
        return cause  # allowed at the app port, denied as HBONE: the ambient gap
    return None


def _key(cause: Cause) -> tuple[object, ...]:
    return (cause.code, cause.objects, cause.params.get("server"))


def _probe_all(
    model: Model,
    clients: Clients,
    pod: Pod,
    modes: tuple[Mesh, ...],
    seen: set[tuple[object, ...]],
    memo: IngressMemo,
) -> list[Cause]:
    out: list[Cause] = []
    for target in targets(model, pod):
        for client in witnesses(model, target, clients, modes, memo):
            result = probe(model, client, target)
            if result is None:
                continue
            call, causes = result
            for cause in causes:
                kept = _keep(cause, call)
                if kept is not None and _key(kept) not in seen:
                    seen.add(_key(kept))
                    out.append(_naming_server(kept, target))
    return out


def _naming_server(cause: Cause, target: Target) -> Cause:
    """Mesh-wide, one policy can break many servers: name the server the witness call went to."""
    server = target.service.ref() if target.service is not None else target.pod.ref()
    if any((r.kind, r.namespace, r.name) == (server.kind, server.namespace, server.name) for r in cause.objects):
        return cause
    return Cause(cause.code, (*cause.objects, server), cause.params, cause.detail, cause.severity)


def _pairs(model: Model) -> list[Cause]:
    reps = representatives(model)
    clients = Clients.of(model, reps)
    out: list[Cause] = []
    seen: set[tuple[object, ...]] = set()
    scoped = policy_namespaces(model)
    memo = IngressMemo(model)
    for pod in reps:
        modes = client_modes(model, pod, model.pod_mesh(pod)[0], scoped)
        if modes:
            out.extend(_probe_all(model, clients, pod, modes, seen, memo))
    out.extend(_scoped_egress(model, clients.by_mode.get(Mesh.SIDECAR, []), seen))
    return out


def _scoped_egress(model: Model, sidecar_clients: list[Pod], seen: set[tuple[object, ...]]) -> list[Cause]:
    """REGISTRY_ONLY Sidecars: probe one Service per namespace the scope does not import, from the
    first client the Sidecar selects (the routing hop decides whether the host is hidden)."""
    out: list[Cause] = []
    root = model.istio.mesh.root_namespace
    for scope in model.traffic.sidecars:
        if scope.outbound_policy != "REGISTRY_ONLY" and model.traffic.outbound_policy != "REGISTRY_ONLY":
            continue
        client = next(
            (p for p in sidecar_clients if rt.sidecar_for(model.traffic, p.labels, p.namespace, root) is scope),
            None,
        )
        if client is None:
            continue
        for ns in sorted(model.services_by_ns):
            svc = next(iter(sorted(model.services_by_ns[ns], key=lambda s: s.name)), None)
            if svc is None or not svc.ports or ns in ("kube-system", root):
                continue
            pods = pods_for_service(model, svc)
            if not pods:
                continue
            target = Target(pods[0], svc, svc.ports[0].port, None)
            result = probe(model, client, target)
            if result is None:
                continue
            for cause in result[1]:
                if cause.code == "istio-egress-registry-only" and _key(cause) not in seen:
                    seen.add(_key(cause))
                    out.append(cause)
    return out


PAIRS = Check(
    "mesh.CallsThatBreak",
    "calls Cilium lets through that break further on: L7 proxy vs mTLS, HBONE on 15008, DestinationRule "
    "TLS vs PeerAuthentication, STRICT vs plaintext clients, identity rules on plaintext, Sidecar scopes",
    (
        "Pod",
        "Namespace",
        "Service",
        "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy",
        "NetworkPolicy",
        "PeerAuthentication",
        "DestinationRule",
        "AuthorizationPolicy",
        "Sidecar",
        "VirtualService",
        "ConfigMap",
    ),
    _pairs,
)
