"""Which calls does a rule apply to? (habit 14: one rule, two questions)

`explain` asks whether one call passes every hop; `check` asks which calls fail. This module picks
the calls worth asking about and asks them through the very same hop functions (diagnosis.explain's
hop table and crosslayer.call_causes): nothing here decides a rule.

Keyed, never all-pairs: a server port is probed only when something on it can break a call
(Cilium L7 rules, mesh membership with PeerAuthentication / DestinationRule / AuthorizationPolicy,
ambient under an ingress policy), and for each mesh mode of client (sidecar, ambient, none) one
witness is chosen: the first representative client (same namespace first) that Cilium lets through
at the app port, trying at most ``WITNESS_TRIES`` candidates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kubectl_meshdoctor.checks.ingress_memo import IngressMemo
from kubectl_meshdoctor.diagnosis.call import HBONE_PORT, Call, Query, resolve_call
from kubectl_meshdoctor.diagnosis.crosslayer import call_causes
from kubectl_meshdoctor.engines.cilium.decide import evaluate, selecting_rules
from kubectl_meshdoctor.engines.istio_authz import applicable, uses_identity
from kubectl_meshdoctor.engines.istio_mtls import effective_pa, in_namespace
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.types import Cause, Decision, Mesh, Verdict
from kubectl_meshdoctor.model.istio import AuthorizationPolicy
from kubectl_meshdoctor.model.objects import Pod, Service, pod_peer
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model

WITNESS_TRIES = 24
USE_WAYPOINT = "istio.io/use-waypoint"
_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}


@dataclass(frozen=True, slots=True)
class Target:
    """A server port a client can dial: a Service port, or a pod's container port (no Service)."""

    pod: Pod  # the representative server pod
    service: Service | None
    port: int  # the port the client dials
    target_port: int | None

    @property
    def destination(self) -> str:
        if self.service is not None:
            return f"{self.service.namespace}/svc/{self.service.name}"
        return f"{self.pod.namespace}/pod/{self.pod.name}"


# labels on the proxies Istio deploys itself: waypoints and Gateway API gateways (gateway-name,
# managed), classic ingress/egress gateways (istio: ...gateway) and ztunnel
_ISTIO_PROXY_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name", "gateway.istio.io/managed")


def is_istio_proxy(pod: Pod) -> bool:
    """A pod that is Istio's own proxy, not an application: its istio-proxy container is the proxy
    itself (no injected sidecar), and its ports are Istio's (15008 HBONE, 15021 health)."""
    labels = pod.labels
    return (
        _ISTIO_PROXY_LABELS[0] in labels
        or _ISTIO_PROXY_LABELS[1] in labels
        or _ISTIO_PROXY_LABELS[2] in labels
        or labels.get("istio", "").endswith("gateway")
        or "ztunnel" in (labels.get("app"), labels.get("app.kubernetes.io/name"))
    )


def representatives(model: Model) -> list[Pod]:
    """One pod per workload (the first ready one by name, else the first), host-network pods left out;
    sorted by namespace and name. Made once per model: every analyzer walks the same list."""
    if model.index.representatives is None:
        model.index.representatives = _representatives(model)
    return list(model.index.representatives)


def _representatives(model: Model) -> list[Pod]:
    chosen: dict[tuple[str, str], Pod] = {}
    for pod in model.pods.values():
        if pod.host_network:
            continue
        key = (pod.namespace, pod.workload_name or pod.name)
        best = chosen.get(key)
        if best is None or (pod.ready, best.name) > (best.ready, pod.name):
            chosen[key] = pod
    return sorted(chosen.values(), key=lambda p: (p.namespace, p.name))


def _target_port(svc_port: int | str, pod: Pod) -> int | None:
    return svc_port if isinstance(svc_port, int) else pod.named_port(svc_port)


def targets(model: Model, pod: Pod) -> Iterator[Target]:
    services = services_for(model, [pod])
    for svc in services:
        for sp in svc.ports:
            if sp.protocol == "TCP":
                yield Target(pod, svc, sp.port, _target_port(sp.target_port, pod))
    if not services:
        for cp in pod.ports:
            if cp.container not in ("istio-proxy", "istio-init") and cp.protocol == "TCP":
                yield Target(pod, None, cp.port, cp.port)


@dataclass(frozen=True, slots=True)
class Clients:
    """Representative client pods by mesh mode, and by namespace within a mode."""

    by_mode: dict[Mesh, list[Pod]]
    by_mode_ns: dict[Mesh, dict[str, list[Pod]]]

    @staticmethod
    def of(model: Model, reps: list[Pod]) -> Clients:
        by_mode: dict[Mesh, list[Pod]] = {}
        by_mode_ns: dict[Mesh, dict[str, list[Pod]]] = {}
        for pod in reps:
            mesh = model.pod_mesh(pod)[0]
            by_mode.setdefault(mesh, []).append(pod)
            by_mode_ns.setdefault(mesh, {}).setdefault(pod.namespace, []).append(pod)
        return Clients(by_mode, by_mode_ns)

    def near(self, mesh: Mesh, namespace: str) -> Iterator[Pod]:
        """Same namespace first, then every other namespace in order."""
        yield from self.by_mode_ns.get(mesh, {}).get(namespace, [])
        for pod in self.by_mode.get(mesh, []):
            if pod.namespace != namespace:
                yield pod


@dataclass(frozen=True, slots=True)
class PolicyNamespaces:
    """Namespaces holding AuthorizationPolicies / PeerAuthentications (the root namespace's apply
    everywhere): a pre-filter before asking the engines which of them apply to a pod."""

    authz: frozenset[str]
    peer_authn: frozenset[str]


def policy_namespaces(model: Model) -> PolicyNamespaces:
    return PolicyNamespaces(
        frozenset(ap.ref.namespace or "" for ap in model.istio.authz),
        frozenset(pa.ref.namespace or "" for pa in model.istio.peer_authns),
    )


def _authz(model: Model, pod: Pod, ap_namespaces: frozenset[str]) -> list[AuthorizationPolicy]:
    if pod.namespace not in ap_namespaces and model.istio.mesh.root_namespace not in ap_namespaces:
        return []
    return applicable(model, pod)


def _pa_modes(model: Model, pod: Pod, pa_namespaces: frozenset[str]) -> set[str]:
    """The effective mTLS modes on this server, port-level ones included (A3, via the engine). Only
    PeerAuthentications in the pod's namespace or the root namespace can apply (pre-filter)."""
    if pod.namespace not in pa_namespaces and model.istio.mesh.root_namespace not in pa_namespaces:
        return {"PERMISSIVE"}
    modes = {effective_pa(model, pod, None).mode}
    for pa in in_namespace(model, pod.namespace):  # the index keeps input order
        if pa.port_level:
            modes |= {effective_pa(model, pod, port).mode for port in pa.port_level}
    return modes


def client_modes(model: Model, pod: Pod, mesh: Mesh, namespaces: PolicyNamespaces) -> tuple[Mesh, ...]:
    """Which client mesh modes can break a call to this server beyond Cilium's L3/L4 verdict
    (keys the scan: servers with none of these are not probed)."""
    rules = selecting_rules(model, pod)
    l7 = any(pr.l7 for r in rules for e in r.ingress for pr in e.to_ports)
    ingress_rules = any(r.has_ingress_section for r in rules)
    drs = bool(model.istio.dest_rules)
    pa = _pa_modes(model, pod, namespaces.peer_authn) if mesh is not Mesh.NONE else {"PERMISSIVE"}
    modes: list[Mesh] = []
    # mTLS into an L7 port, DestinationRule TLS vs PeerAuthentication, sidecar HBONE to ambient on 15008
    if l7 or drs or pa != {"PERMISSIVE"} or (mesh is Mesh.AMBIENT and ingress_rules):
        modes.append(Mesh.SIDECAR)
    ns_labels = model.namespaces[pod.namespace].labels if pod.namespace in model.namespaces else {}
    waypoint = mesh is Mesh.AMBIENT and bool(pod.labels.get(USE_WAYPOINT) or ns_labels.get(USE_WAYPOINT))
    if l7 or waypoint or (mesh is not Mesh.NONE and ingress_rules):
        modes.append(Mesh.AMBIENT)  # HBONE on 15008; the waypoint leg (missing or unready waypoint)
    if mesh is not Mesh.NONE and (
        "STRICT" in pa or any(uses_identity(r) for ap in _authz(model, pod, namespaces.authz) for r in ap.rules)
    ):
        modes.append(Mesh.NONE)  # plaintext into STRICT, identity rules on plaintext
    return tuple(modes)


def cilium_lets_through(
    model: Model, client: Pod, client_mesh: Mesh, target: Target, memo: IngressMemo | None = None
) -> bool:
    """The same Cilium engine as the egress and ingress hops, at the app port (HBONE is the
    probe's business: a gap on 15008 is exactly what it should find). A client outside the mesh
    counts only when an ingress policy admits it explicitly: the Istio-side refusal then
    contradicts a Cilium rule someone wrote on purpose."""
    app_port = target.target_port if target.target_port is not None else target.port
    server = target.pod
    ports = [app_port]
    if Mesh.AMBIENT in (client_mesh, model.pod_mesh(server)[0]):
        ports.append(HBONE_PORT)  # rules written for the tunnel port let the call in too
    for port in ports:
        if memo is not None:  # the same answers, asked once per class of clients (checks/ingress_memo.py)
            if memo.egress_denies(client, server, port, "TCP"):
                continue
            decision, enforced = memo.decide(server, client, port, "TCP")
        else:
            egress = evaluate(model, client, "egress", pod_peer(server, server.workload_name), port, "TCP")
            if egress.decision is Decision.DENY:
                continue
            ingress = evaluate(model, server, "ingress", pod_peer(client, client.workload_name), port, "TCP")
            decision, enforced = ingress.decision, ingress.enforced
        if decision is not Decision.DENY and (client_mesh is not Mesh.NONE or enforced):
            return True
    return False


def witnesses(
    model: Model, target: Target, clients: Clients, modes: tuple[Mesh, ...], memo: IngressMemo | None = None
) -> Iterator[Pod]:
    """Per client mesh mode, the first client Cilium lets through (same namespace first)."""
    server = target.pod
    for mesh in modes:
        tries = 0
        for client in clients.near(mesh, server.namespace):
            if (client.namespace, client.workload_name) == (server.namespace, server.workload_name):
                continue
            tries += 1
            if tries > WITNESS_TRIES:
                break
            if cilium_lets_through(model, client, mesh, target, memo):
                yield client
                break
    if Mesh.SIDECAR in modes:
        # A4: a DestinationRule in the client's namespace (or one whose workloadSelector picks the
        # client) sets the client's TLS: one more witness per such DestinationRule
        for dr in model.istio.dest_rules:
            for client in clients.by_mode_ns.get(Mesh.SIDECAR, {}).get(dr.ref.namespace or "", []):
                selected = all(client.labels.get(k) == v for k, v in (dr.workload_selector or {}).items())
                if selected and cilium_lets_through(model, client, Mesh.SIDECAR, target, memo):
                    yield client
                    break


def probe(model: Model, client: Pod, target: Target) -> tuple[Call, list[Cause]] | None:
    """Walk the call hop by hop exactly as explain does (first break stops), with the cross-layer
    rules after it; returns every cause met. None when the call cannot be resolved."""
    from kubectl_meshdoctor.diagnosis.explain import _walk

    kind = _KINDS.get(client.workload_kind)
    named = kind is not None and (client.namespace, client.workload_name) in model.workloads
    source = f"{client.namespace}/{kind}/{client.workload_name}" if named else f"{client.namespace}/pod/{client.name}"
    query = Query(
        source,
        target.destination,
        client.namespace,
        port=target.port,
        no_flows=True,
    )
    try:
        call = resolve_call(model, query)
    except MeshdoctorError:
        return None
    results, broken, _ = _walk(call)
    causes = [c for r in results for c in r.causes]
    verdict = broken.verdict if broken is not None and broken.verdict is not None else Verdict.ALLOWED
    causes.extend(call_causes(call, verdict, with_config=False))
    return call, causes
