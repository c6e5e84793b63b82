"""CiliumEgressGatewayPolicy (cilium.io/v2, cluster-scoped) and the Nodes its gateways are chosen
from (issue 20 §5; semantics-gateways.md E3): which pods, which destinations, which gateway node
and which source IP the outside server sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.istio_routes import as_dict, as_list, strs
from kubectl_meshdoctor.model.selectors import Selector, parse_selector

KIND = "CiliumEgressGatewayPolicy"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    labels: dict[str, str]
    addresses: tuple[str, ...]  # status.addresses (InternalIP, ExternalIP, ...)
    ref: ObjectRef


@dataclass(frozen=True, slots=True)
class PodSelection:
    """One entry of ``selectors[]``: all given parts must match."""

    pods: Selector | None  # podSelector (labels incl. io.kubernetes.pod.namespace)
    namespaces: Selector | None  # namespaceSelector (namespace labels)
    nodes: Selector | None  # nodeSelector: only pods running on matching nodes


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    node_selector: Selector | None
    egress_ip: str | None
    interface: str | None
    path: str  # "spec.egressGateway" or "spec.egressGateways[1]"


@dataclass(frozen=True, slots=True)
class EgressGatewayPolicy:
    ref: ObjectRef
    selections: tuple[PodSelection, ...]
    destination_cidrs: tuple[str, ...]
    excluded_cidrs: tuple[str, ...]
    gateways: tuple[GatewaySpec, ...]


@dataclass(slots=True)
class EgressObjects:
    policies: list[EgressGatewayPolicy] = field(default_factory=list)
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    nodes_read: bool = False  # at least one Node object is in the view


def _selector(raw: Any) -> Selector | None:
    return parse_selector(raw) if isinstance(raw, dict) else None


def _gateway(raw: Any, path: str) -> GatewaySpec:
    gw = as_dict(raw)
    ip = str(gw.get("egressIP") or "") or None
    iface = str(gw.get("interface") or "") or None
    return GatewaySpec(_selector(gw.get("nodeSelector")), ip, iface, path)


def _policy(doc: dict[str, Any], ref: ObjectRef) -> EgressGatewayPolicy:
    spec = as_dict(doc.get("spec"))
    selections = tuple(
        PodSelection(
            _selector(as_dict(s).get("podSelector")),
            _selector(as_dict(s).get("namespaceSelector")),
            _selector(as_dict(s).get("nodeSelector")),
        )
        for s in as_list(spec.get("selectors"))
    )
    gateways: list[GatewaySpec] = []
    if spec.get("egressGateway") is not None:
        gateways.append(_gateway(spec.get("egressGateway"), "spec.egressGateway"))
    for i, raw in enumerate(as_list(spec.get("egressGateways"))):
        gateways.append(_gateway(raw, f"spec.egressGateways[{i}]"))
    return EgressGatewayPolicy(
        ref,
        selections,
        tuple(strs(spec.get("destinationCIDRs"))),
        tuple(strs(spec.get("excludedCIDRs"))),
        tuple(gateways),
    )


def _node(doc: dict[str, Any], ref: ObjectRef) -> NodeInfo:
    meta = as_dict(doc.get("metadata"))
    labels = {str(k): str(v) for k, v in as_dict(meta.get("labels")).items()}
    addresses = tuple(str(as_dict(a).get("address")) for a in as_list(as_dict(doc.get("status")).get("addresses")) if a)
    return NodeInfo(ref.name, labels, addresses, ref)


READ_KINDS = frozenset({KIND, "Node"})  # every kind read() looks at (model/build.py asks it for these only)


def read(store: EgressObjects, doc: dict[str, Any], ref: ObjectRef) -> bool:
    """Keep the document if it is one of ours; True when it was."""
    kind = str(doc.get("kind"))
    if kind == KIND and str(doc.get("apiVersion", "")).startswith("cilium.io/"):
        store.policies.append(_policy(doc, ref))
        return True
    if kind == "Node":
        store.nodes[ref.name] = _node(doc, ref)
        store.nodes_read = True
        return True
    return False
