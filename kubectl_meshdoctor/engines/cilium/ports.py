"""Ports after service translation (A1.7, B17.1; issue 11 item 5).

Cilium (and Kubernetes NetworkPolicy) compare ``toPorts`` / ``ports`` with the pod's port, after
the Service has translated its port to the ``targetPort``. A rule written on the Service port
(a number, a range covering it, or the Service port's *name* when the pod names the port
otherwise) therefore never admits the call. This module finds such entries, so the answer can
say ``port-mismatch`` beside the deny and the fix can name the targetPort.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.engines.cilium.peers import matching_port_rules, peer_matches
from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.cilium import PortProto
from kubectl_meshdoctor.model.objects import Peer, Pod, ServicePort
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class ServicePortRule:
    ref: ObjectRef  # the entry's port list, e.g. "spec.ingress[0].toPorts[0]"
    written: str  # what the rule says: "8000", "8000-8010", "web"


def _written(pp: PortProto) -> str:
    return f"{pp.port}-{pp.end_port}" if pp.end_port else pp.port


def _on_service_port(pp: PortProto, svc_port: ServicePort, owner: Pod | None, protocol: str) -> bool:
    if pp.protocol not in ("ANY", "", protocol):
        return False
    if pp.port.isdigit():
        start = int(pp.port)
        end = pp.end_port if pp.end_port and pp.end_port >= start else start
        return start != 0 and start <= svc_port.port <= end
    # a named port that is the Service port's name but not a name the pod declares
    return bool(svc_port.name) and pp.port == svc_port.name and (owner is None or owner.named_port(pp.port) is None)


def rules_on_service_port(
    model: Model,
    subject: Pod,
    direction: str,
    peer: Peer,
    svc_port: ServicePort,
    target_port: int,
    protocol: str,
) -> list[ServicePortRule]:
    """Allow entries that admit ``peer`` on the Service port but not on the targetPort."""
    if svc_port.port == target_port and not svc_port.name:
        return []
    owner = subject if direction == "ingress" else (peer.pod or peer.workload_pod)
    out: list[ServicePortRule] = []
    for rule in selecting_rules(model, subject):
        for entry in rule.ingress if direction == "ingress" else rule.egress:
            if entry.empty_entry or not entry.to_ports or not peer_matches(model, entry, peer):
                continue
            if matching_port_rules(entry, target_port, protocol, owner):
                continue  # this entry already admits the targetPort
            for pr in entry.to_ports:
                for pp in pr.ports:
                    if _on_service_port(pp, svc_port, owner, protocol):
                        path = ".".join(p for p in (entry.path, pr.path) if p)
                        out.append(ServicePortRule(rule.policy.with_rule(path), _written(pp)))
    return out
