"""Policies written on the Service port instead of the targetPort (B17.1): Cilium and Kubernetes
NetworkPolicy see the pod's port after service translation, so such an entry never admits the call.

Keyed by what the rules write: only server (ingress) or client (egress) endpoints with an entry whose
port covers a Service port that differs from its targetPort are looked at; for those the engine's
``rules_on_service_port`` picks a peer the entry names, and that call is walked through explain's
hops, which report ``port-mismatch`` beside the deny."""

from __future__ import annotations

from collections.abc import Iterator

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.pairs import WITNESS_TRIES, Clients, Target, probe, representatives
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.engines.cilium.ports import _on_service_port, rules_on_service_port
from kubectl_meshdoctor.findings.types import Cause, Mesh
from kubectl_meshdoctor.model.objects import Pod, Service, ServicePort, pod_peer
from kubectl_meshdoctor.model.refs import pods_for_service, services_for
from kubectl_meshdoctor.model.view import Model


def _target(sp: ServicePort, pod: Pod) -> int | None:
    return sp.target_port if isinstance(sp.target_port, int) else pod.named_port(sp.target_port)


def _written_on(model: Model, pod: Pod, direction: str, sp: ServicePort, owner: Pod | None) -> bool:
    """Does any entry selecting ``pod`` in ``direction`` write a port covering this Service port?"""
    for rule in selecting_rules(model, pod):
        for entry in rule.ingress if direction == "ingress" else rule.egress:
            for pr in entry.to_ports:
                if any(_on_service_port(pp, sp, owner, "TCP") for pp in pr.ports):
                    return True
    return False


def _translated(model: Model, pod: Pod) -> Iterator[tuple[Service, ServicePort, int]]:
    for svc in services_for(model, [pod]):
        for sp in svc.ports:
            target = _target(sp, pod)
            if sp.protocol == "TCP" and target is not None and (target != sp.port or sp.name):
                yield svc, sp, target


def _keep(causes: list[Cause], seen: set[tuple[object, ...]]) -> list[Cause]:
    out = []
    for cause in causes:
        key = (cause.code, cause.objects)
        if cause.code == "port-mismatch" and not any(r.kind == "Pod" for r in cause.objects) and key not in seen:
            seen.add(key)
            out.append(cause)
    return out


def _ingress(model: Model, reps: list[Pod], clients: Clients, seen: set[tuple[object, ...]]) -> list[Cause]:
    out: list[Cause] = []
    for server in reps:
        for svc, sp, target in _translated(model, server):
            if not _written_on(model, server, "ingress", sp, server):
                continue
            modes = (Mesh.NONE, Mesh.SIDECAR, Mesh.AMBIENT)
            near = (c for mesh in modes for c in clients.near(mesh, server.namespace))
            for tries, client in enumerate(near):
                if tries >= WITNESS_TRIES:
                    break
                peer = pod_peer(client, client.workload_name)
                if rules_on_service_port(model, server, "ingress", peer, sp, target, "TCP"):
                    result = probe(model, client, Target(server, svc, sp.port, target))
                    out.extend(_keep(result[1] if result else [], seen))
                    break
    return out


def _written_ports(model: Model, client: Pod) -> tuple[set[int], set[str], list[tuple[int, int]]]:
    """The port numbers, names and ranges the client's egress entries write."""
    numbers: set[int] = set()
    names: set[str] = set()
    ranges: list[tuple[int, int]] = []
    for rule in selecting_rules(model, client):
        for entry in rule.egress:
            for pr in entry.to_ports:
                for pp in pr.ports:
                    if pp.port.isdigit() and int(pp.port) > 0:
                        if pp.end_port and pp.end_port > int(pp.port):
                            ranges.append((int(pp.port), pp.end_port))
                        else:
                            numbers.add(int(pp.port))
                    elif pp.port and not pp.port.isdigit():
                        names.add(pp.port)
    return numbers, names, ranges


def _egress(model: Model, reps: list[Pod], seen: set[tuple[object, ...]]) -> list[Cause]:
    """Clients whose egress entries write a port that is some Service's port (not its targetPort):
    Services are looked up by port number and name (an index), never scanned per client."""
    out: list[Cause] = []
    by_number: dict[int, list[tuple[Service, ServicePort]]] = {}
    by_name: dict[str, list[tuple[Service, ServicePort]]] = {}
    for svc in sorted(model.services.values(), key=lambda s: (s.namespace, s.name)):
        for sp in svc.ports:
            by_number.setdefault(sp.port, []).append((svc, sp))
            if sp.name:
                by_name.setdefault(sp.name, []).append((svc, sp))
    for client in reps:
        if not any(r.egress for r in selecting_rules(model, client)):
            continue
        numbers, names, ranges = _written_ports(model, client)
        for low, high in ranges:
            numbers |= {n for n in by_number if low <= n <= high}
        candidates = [c for n in sorted(numbers) for c in by_number.get(n, [])]
        candidates += [c for n in sorted(names) for c in by_name.get(n, [])]
        candidates.sort(key=lambda c: (c[0].namespace != client.namespace, c[0].namespace, c[0].name))
        for tries, (svc, sp) in enumerate(candidates):
            if tries >= WITNESS_TRIES:
                break
            pods = pods_for_service(model, svc)
            target = _target(sp, pods[0]) if pods else None
            if not pods or target is None or (target == sp.port and not sp.name):
                continue
            peer = pod_peer(pods[0], pods[0].workload_name)
            if rules_on_service_port(model, client, "egress", peer, sp, target, "TCP"):
                result = probe(model, client, Target(pods[0], svc, sp.port, target))
                out.extend(_keep(result[1] if result else [], seen))
    return out


def _service_ports(model: Model) -> list[Cause]:
    reps = representatives(model)
    seen: set[tuple[object, ...]] = set()
    return _ingress(model, reps, Clients.of(model, reps), seen) + _egress(model, reps, seen)


SERVICE_PORTS = Check(
    "cilium.ServicePortRules",
    "policy entries written on a Service port instead of the targetPort Cilium sees",
    ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy", "Service", "Pod", "Namespace"),
    _service_ports,
)
