"""The resource table the playground API server knows: kind -> group, served versions, plural.

Versions are listed newest (preferred) first, as the real API servers advertise them;
an object stored under any served version is served under all of them (apiVersion
rewritten), as a CRD with several served versions is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Resource:
    kind: str
    group: str  # "" = core
    versions: tuple[str, ...]
    plural: str
    namespaced: bool = True

    @property
    def qualified(self) -> str:
        """``pods``, ``deployments.apps``: the name RBAC and error messages use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES: tuple[Resource, ...] = (
    Resource("Namespace", "", ("v1",), "namespaces", namespaced=False),
    Resource("Pod", "", ("v1",), "pods"),
    Resource("Service", "", ("v1",), "services"),
    Resource("Endpoints", "", ("v1",), "endpoints"),
    Resource("ConfigMap", "", ("v1",), "configmaps"),
    Resource("Secret", "", ("v1",), "secrets"),
    Resource("ServiceAccount", "", ("v1",), "serviceaccounts"),
    Resource("Node", "", ("v1",), "nodes", namespaced=False),
    Resource("Deployment", "apps", ("v1",), "deployments"),
    Resource("StatefulSet", "apps", ("v1",), "statefulsets"),
    Resource("DaemonSet", "apps", ("v1",), "daemonsets"),
    Resource("ReplicaSet", "apps", ("v1",), "replicasets"),
    Resource("EndpointSlice", "discovery.k8s.io", ("v1",), "endpointslices"),
    Resource("NetworkPolicy", "networking.k8s.io", ("v1",), "networkpolicies"),
    Resource("CiliumNetworkPolicy", "cilium.io", ("v2",), "ciliumnetworkpolicies"),
    Resource(
        "CiliumClusterwideNetworkPolicy", "cilium.io", ("v2",), "ciliumclusterwidenetworkpolicies", namespaced=False
    ),
    Resource("CiliumEgressGatewayPolicy", "cilium.io", ("v2",), "ciliumegressgatewaypolicies", namespaced=False),
    Resource("PeerAuthentication", "security.istio.io", ("v1", "v1beta1"), "peerauthentications"),
    Resource("AuthorizationPolicy", "security.istio.io", ("v1", "v1beta1"), "authorizationpolicies"),
    Resource("RequestAuthentication", "security.istio.io", ("v1", "v1beta1"), "requestauthentications"),
    Resource("DestinationRule", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "destinationrules"),
    Resource("VirtualService", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "virtualservices"),
    Resource("Sidecar", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars"),
    Resource("ServiceEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "serviceentries"),
    Resource("Gateway", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "gateways"),
    Resource("Gateway", "gateway.networking.k8s.io", ("v1",), "gateways"),
    Resource("HTTPRoute", "gateway.networking.k8s.io", ("v1",), "httproutes"),
    Resource("GatewayClass", "gateway.networking.k8s.io", ("v1",), "gatewayclasses", namespaced=False),
    Resource("ReferenceGrant", "gateway.networking.k8s.io", ("v1", "v1beta1"), "referencegrants"),
    Resource("Ingress", "networking.k8s.io", ("v1",), "ingresses"),
    Resource("IngressClass", "networking.k8s.io", ("v1",), "ingressclasses", namespaced=False),
    Resource("CiliumEnvoyConfig", "cilium.io", ("v2",), "ciliumenvoyconfigs"),
    Resource("CiliumClusterwideEnvoyConfig", "cilium.io", ("v2",), "ciliumclusterwideenvoyconfigs", namespaced=False),
)

BY_KIND = {(r.group, r.kind): r for r in RESOURCES}

# the short names the real API servers and CRDs advertise (kubectl resolves `get cnp` through them)
SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "namespaces": ("ns",),
    "pods": ("po",),
    "services": ("svc",),
    "endpoints": ("ep",),
    "configmaps": ("cm",),
    "serviceaccounts": ("sa",),
    "nodes": ("no",),
    "deployments.apps": ("deploy",),
    "statefulsets.apps": ("sts",),
    "daemonsets.apps": ("ds",),
    "replicasets.apps": ("rs",),
    "networkpolicies.networking.k8s.io": ("netpol",),
    "ingresses.networking.k8s.io": ("ing",),
    "ciliumenvoyconfigs.cilium.io": ("cec",),
    "ciliumclusterwideenvoyconfigs.cilium.io": ("ccec",),
    "ciliumnetworkpolicies.cilium.io": ("cnp", "ciliumnp"),
    "ciliumclusterwidenetworkpolicies.cilium.io": ("ccnp",),
    "peerauthentications.security.istio.io": ("pa",),
    "authorizationpolicies.security.istio.io": ("ap",),
    "requestauthentications.security.istio.io": ("ra",),
    "destinationrules.networking.istio.io": ("dr",),
    "virtualservices.networking.istio.io": ("vs",),
    "serviceentries.networking.istio.io": ("se",),
    "gateways.networking.istio.io": ("gw",),
}


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""
