"""The Model: the typed, pure in-memory view of one cluster's objects that model/build.py makes
from raw objects, with the lookups the engines and analyzers share (model/index.py) and the caches
they keep on it (never in globals)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.findings.types import Cause, Mesh
from kubectl_meshdoctor.model.cilium import CiliumPolicies, PolicyRule
from kubectl_meshdoctor.model.config import CiliumConfig
from kubectl_meshdoctor.model.egress_gateway import EgressObjects
from kubectl_meshdoctor.model.gateway_api import GatewayApiObjects
from kubectl_meshdoctor.model.index import ModelIndex
from kubectl_meshdoctor.model.ingress import IngressObjects
from kubectl_meshdoctor.model.istio import IstioObjects
from kubectl_meshdoctor.model.istio_traffic import TrafficObjects
from kubectl_meshdoctor.model.objects import Namespace, Pod, Service, Workload
from kubectl_meshdoctor.model.validity import in_scope


@dataclass(slots=True)
class Model:
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    pods: dict[str, Pod] = field(default_factory=dict)
    pods_by_ns: dict[str, list[Pod]] = field(default_factory=lambda: defaultdict(list))
    pods_by_ip: dict[str, Pod] = field(default_factory=dict)
    workloads: dict[tuple[str, str], Workload] = field(default_factory=dict)  # (ns, name)
    services: dict[str, Service] = field(default_factory=dict)  # "ns/name"
    services_by_ns: dict[str, list[Service]] = field(default_factory=lambda: defaultdict(list))
    cilium: CiliumPolicies = field(default_factory=CiliumPolicies)
    rules_by_ns: dict[str, list[PolicyRule]] = field(default_factory=lambda: defaultdict(list))
    cluster_rules: list[PolicyRule] = field(default_factory=list)
    istio: IstioObjects = field(default_factory=IstioObjects)
    traffic: TrafficObjects = field(default_factory=TrafficObjects)  # routing (issue 7)
    gateway_api: GatewayApiObjects = field(default_factory=GatewayApiObjects)  # issue 20
    ingress: IngressObjects = field(default_factory=IngressObjects)  # Ingress, IngressClass, CEC (issue 20)
    egress: EgressObjects = field(default_factory=EgressObjects)  # issue 20 §5: CiliumEgressGatewayPolicy, Nodes
    cilium_config: CiliumConfig = field(default_factory=CiliumConfig)
    daemonsets: dict[str, Workload] = field(default_factory=dict)  # "ns/name"
    gaps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    invalid: list[Cause] = field(default_factory=list)  # invalid-object: rejected by the schema, left out
    kinds_seen: set[str] = field(default_factory=set)
    flows: list[Any] = field(default_factory=list)
    flow_source: str = "none"
    # caches (habit 3: on the model, never in globals)
    # pod key, or (namespace, identity labels) -> the Cilium rules selecting such a pod
    selecting_cache: dict[str | tuple[str, tuple[tuple[str, str], ...]], list[PolicyRule]] = field(default_factory=dict)
    config_cache: dict[str, Any] = field(default_factory=dict)  # cluster-wide facts config_causes reads
    pa_by_ns: dict[str, list[Any]] | None = None  # PeerAuthentications by namespace, built on first use
    ap_by_ns: dict[str, list[Any]] | None = None  # AuthorizationPolicies by namespace, built on first use
    flow_index: Any = None  # diagnosis.evidence.FlowIndex, built on first use
    index: ModelIndex = field(default_factory=ModelIndex)  # lookups made on first use (model/index.py)
    flow_files: list[Any] = field(default_factory=list)  # offline flows not read yet (sources.flowfiles)
    flow_endpoints: Any = None  # model.flow_refs.FlowEndpoints: references from flows when there are no objects
    out_of_scope: int = 0  # objects of other namespaces left unread (offline explain, like live)

    def pod_mesh(self, pod: Pod) -> tuple[Mesh, str]:
        """A6: sidecar from the pod; ambient from istio-cni's redirection annotation (actual state),
        else from the enrolment label on the pod or namespace (intent, capture not confirmed)."""
        held = self.index.meshes.get(id(pod))
        if held is not None and held[0] is pod:  # asked once per pod per analyzer: answered once
            return held[1]
        found = self._pod_mesh(pod)
        self.index.meshes[id(pod)] = (pod, found)
        return found

    def meshes_in_use(self) -> set[Mesh]:
        """The mesh modes of all pods (pod_mesh of each; not remembered per pod: a scan of every pod
        would fill the cache with pods no analyzer asks about again)."""
        return {self._pod_mesh(pod)[0] for pod in self.pods.values()}

    def _pod_mesh(self, pod: Pod) -> tuple[Mesh, str]:
        if pod.has_sidecar():
            return Mesh.SIDECAR, "istio-proxy container in the pod"
        redirection = pod.annotations.get("ambient.istio.io/redirection")
        pod_mode = pod.labels.get("istio.io/dataplane-mode")
        if pod_mode == "none" or redirection == "disabled":
            return Mesh.NONE, "opted out of ambient (istio.io/dataplane-mode=none)"
        if redirection == "enabled":
            return Mesh.AMBIENT, "pod annotation ambient.istio.io/redirection=enabled (captured by istio-cni)"
        ns = self.namespaces.get(pod.namespace)
        ns_mode = ns.labels.get("istio.io/dataplane-mode") if ns else None
        if pod_mode == "ambient" or ns_mode == "ambient":
            where = "pod" if pod_mode == "ambient" else f"namespace {pod.namespace}"
            return Mesh.AMBIENT, f"label istio.io/dataplane-mode=ambient on {where} (intended; capture not confirmed)"
        return Mesh.NONE, "no sidecar and not ambient"

    def invalid_for(self, namespaces: list[str]) -> list[Cause]:
        """invalid-object causes for objects in these namespaces and cluster-scoped ones."""
        return in_scope(self.invalid, namespaces)

    def ns_labels(self, namespace: str) -> dict[str, str]:
        ns = self.namespaces.get(namespace)
        return dict(ns.labels) if ns else {"kubernetes.io/metadata.name": namespace}
