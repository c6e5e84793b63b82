"""Kubernetes objects as the engines need them: namespaces, pods, workloads, services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubectl_meshdoctor.findings.types import ObjectRef

NS_KEY = "io.kubernetes.pod.namespace"
NS_LABEL_PREFIX = "io.cilium.k8s.namespace.labels."
SA_KEY = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_KEY = "io.cilium.k8s.policy.cluster"

# Cilium's default identity-label filter drops these (semantics.md A1.3).
_DROPPED_PREFIXES = ("io.kubernetes", "kubernetes.io", "k8s.io", "annotation.")
_DROPPED_KEYS = ("pod-template-generation", "pod-template-hash", "controller-revision-hash", "etcd_node")


def identity_label_kept(key: str) -> bool:
    """A1.3 default filter: selectors on dropped keys (pod-template-hash...) never match."""
    if key.startswith("app.kubernetes.io"):
        return True
    if key in _DROPPED_KEYS or key.startswith(_DROPPED_PREFIXES):
        return False
    domain = key.split("/", 1)[0] if "/" in key else ""
    return not (domain.endswith(("kubernetes.io", "k8s.io")))


@dataclass(frozen=True, slots=True)
class ContainerPort:
    name: str | None
    port: int
    protocol: str
    container: str = ""


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: Mapping[str, str]
    origin: str | None = None


@dataclass(slots=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    service_account: str
    ip: str | None
    node: str | None
    ports: tuple[ContainerPort, ...]
    containers: tuple[str, ...]
    init_containers: tuple[str, ...]
    native_sidecars: tuple[str, ...]
    host_network: bool
    ready: bool
    owner_kind: str | None
    owner_name: str | None
    origin: str | None = None
    probe_ports: tuple[int | str, ...] = ()  # kubelet httpGet/tcpSocket/grpc probes (exec probes stay local)
    uid_1337: tuple[str, ...] = ()  # app containers whose effective runAsUser is 1337 (the sidecar's UID)
    workload_kind: str = "Pod"
    workload_name: str = ""
    identity: Mapping[str, str] = field(default_factory=dict)  # Cilium identity labels
    inferred: bool = False  # stands for the pods of a workload template (no Pod objects in the input)

    def ref(self) -> ObjectRef:
        return ObjectRef("Pod", self.namespace, self.name, origin=self.origin)

    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def has_sidecar(self) -> bool:
        """A6: decide from the pod (manual kube-inject leaves no namespace label)."""
        return (
            "istio-proxy" in self.containers
            or "istio-proxy" in self.native_sidecars
            or "sidecar.istio.io/status" in self.annotations
        )

    def named_port(self, name: str, protocol: str | None = None) -> int | None:
        for port in self.ports:
            if port.name == name and (protocol is None or port.protocol == protocol):
                return port.port
        return None


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str | None
    port: int
    target_port: int | str
    protocol: str
    app_protocol: str | None = None  # spec.ports[].appProtocol (Istio's explicit protocol selection)


@dataclass(slots=True)
class Service:
    namespace: str
    name: str
    selector: Mapping[str, str] | None
    ports: tuple[ServicePort, ...]
    cluster_ip: str | None
    type: str
    origin: str | None = None
    ready_pods: set[str] | None = None  # from EndpointSlices/Endpoints; None = unknown
    cluster_ips: tuple[str, ...] = ()  # spec.clusterIPs (dual stack) and spec.clusterIP
    export_to: tuple[str, ...] = ()  # annotation networking.istio.io/exportTo; () = the mesh default
    labels: Mapping[str, str] = field(default_factory=dict)  # istio.io/use-waypoint lives here
    external_name: str | None = None  # spec.externalName (type ExternalName: a CNAME, nothing proxied)

    def ref(self) -> ObjectRef:
        return ObjectRef("Service", self.namespace, self.name, origin=self.origin)

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"


@dataclass(slots=True)
class Workload:
    namespace: str
    name: str
    kind: str  # Deployment | StatefulSet | DaemonSet | Pod
    selector: Mapping[str, str]
    host_network: bool = False
    origin: str | None = None
    pods: list[Pod] = field(default_factory=list)

    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name, origin=self.origin)


@dataclass(frozen=True, slots=True)
class Peer:
    """What a Cilium selector sees of the other end: identity labels or a reserved entity."""

    labels: Mapping[str, str]
    reserved: frozenset[str]
    entities: frozenset[str]
    ip: str | None
    pod: Pod | None = None
    name: str = ""  # for messages: "red/netshoot" or "world 1.2.3.4"
    dns_name: str | None = None
    node_ip: bool = False  # a node's address (host / remote-node): CIDR rules need policy-cidr-match-mode=nodes
    workload_pod: Pod | None = None  # the host-network pod behind a node identity (its named ports)

    @property
    def is_pod(self) -> bool:
        return self.pod is not None


def pod_peer(pod: Pod, workload: str) -> Peer:
    return Peer(
        labels=pod.identity,
        reserved=frozenset(),
        entities=frozenset({"cluster", "all"}),
        ip=pod.ip,
        pod=pod,
        name=workload,
    )


def world_peer(ip: str | None, dns_name: str | None = None) -> Peer:
    return Peer(
        labels={},
        reserved=frozenset({"world"}),
        entities=frozenset({"world", "all"}),
        ip=ip,
        name=f"world {dns_name or ip or ''}".strip(),
        dns_name=dns_name,
    )
