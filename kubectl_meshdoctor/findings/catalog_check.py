"""What `check` finds for a code, and the istioctl analyze messages that overlap it (the check and
istioctl columns of docs/causes.md)."""

from __future__ import annotations

from collections.abc import Mapping

# istioctl analyze messages (Istio's messages.yaml codes) that cover the same problem as a code of ours
ISTIOCTL_CODES: Mapping[str, str] = {
    "ReferencedResourceNotFound": "IST0101",
    "PodMissingProxy": "IST0103",
    "ConflictingSidecarWorkloadSelectors": "IST0110",
    "VirtualServiceDestinationPortSelectorRequired": "IST0112",
    "MTLSPolicyConflict": "IST0113",
    "DestinationRuleUsesMTLSForWorkloadWithoutSidecar": "IST0114",
    "PortNameIsNotUnderNamingConvention": "IST0118",
    "NoMatchingWorkloadsFound": "IST0127",
    "VirtualServiceUnreachableRule": "IST0130",
    "VirtualServiceHostNotFoundInGateway": "IST0132",
    "GatewayPortNotDefinedOnService": "IST0162",
    "InvalidApplicationUID": "IST0144",
}
# what `check` finds for a code, and the istioctl messages (by name) that overlap it
CHECK: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "cilium-l7-vs-istio-mtls": ("every port with Cilium HTTP rules that a sidecar/ambient client reaches", ()),
    "cilium-l7-unreachable-ambient": ("L7 rules on app ports of ambient workloads", ()),
    "cilium-l7-not-enforced": ("L7 rules with enable-l7-proxy false", ()),
    "cilium-policy-denied": (
        "only the HBONE gap: an ambient peer allowed on the app port but not on 15008; across clusters, a policy "
        "whose copy is missing where default deny selects the same pods (MB3)",
        (),
    ),
    "istio-mtls-conflict": (
        "DestinationRule TLS vs the server's PeerAuthentication or sidecar, both directions",
        ("MTLSPolicyConflict", "DestinationRuleUsesMTLSForWorkloadWithoutSidecar"),
    ),
    "istio-mtls-strict-plaintext": ("when a Cilium ingress policy explicitly admits a client outside the mesh", ()),
    "istio-authz-needs-mtls": ("on plaintext servers, and where a rule names a client that arrives in plaintext", ()),
    "cilium-socketlb-bypass": ("cilium-config", ()),
    "cilium-cni-exclusive": ("cilium-config", ()),
    "istiod-hostnetwork-overlay": ("cilium-config and istiod", ()),
    "l7-split-brain": ("per workload", ()),
    "dns-egress-blocked": ("every client whose egress policy blocks kube-dns", ()),
    "no-endpoints": ("every Service with a selector and no ready pod", ()),
    "port-mismatch": ("named targetPorts the pods do not define; policy ports written on the Service port", ()),
    "istio-fault-injection": ("every VirtualService fault (abort: error, delay: warning)", ()),
    "istio-subset-not-found": (
        "every route and mirror destination (a mirror: warning)",
        ("ReferencedResourceNotFound",),
    ),
    "istio-destination-host-unknown": (
        "every route and mirror destination and DestinationRule host",
        ("ReferencedResourceNotFound", "UnknownDestinationRuleHost"),
    ),
    "istio-egress-registry-only": (
        "Services a REGISTRY_ONLY Sidecar scope hides; outside hosts a mesh VirtualService routes that no "
        "ServiceEntry registers (mesh-wide REGISTRY_ONLY)",
        (),
    ),
    "istio-circuit-breaker": ("tight connection-pool limits (info)", ()),
    "istio-gateway-selector-no-match": ("every Istio Gateway", ("ReferencedResourceNotFound",)),
    "istio-gateway-host-not-bound": (
        "VirtualService / HTTPRoute hosts missing from their Gateway",
        ("VirtualServiceHostNotFoundInGateway",),
    ),
    "istio-gateway-route-not-allowed": ("every HTTPRoute parentRef (allowedRoutes)", ()),
    "istio-egress-gateway-misrouted": (
        "every mesh route of an outside host to an egress gateway: Gateway server, bound VirtualService, "
        "ServiceEntry, TLS origination",
        ("VirtualServiceHostNotFoundInGateway",),
    ),
    "cilium-fqdn-no-dns-visibility": ("every pod a toFQDNs rule selects whose lookups bypass the DNS proxy", ()),
    "cilium-egress-gateway-unusable": ("every CiliumEgressGatewayPolicy that selects pods and has no gateway node", ()),
    "cilium-envoyconfig-conflict": (
        "every pair of CiliumEnvoyConfigs: the same Service port redirected, or the same qualified Envoy resource",
        (),
    ),
    "gamma-consumer-route-unsupported": (
        "every HTTPRoute for a Service of another namespace, called by a client of its namespace outside the mesh",
        (),
    ),
    "gateway-route-not-accepted": (
        "every HTTP/GRPC/TLS/TCP route parentRef to a Gateway in view (Accepted and its reason)",
        (),
    ),
    "gamma-no-waypoint": (
        "every HTTPRoute attached to a Service, called by an ambient client through explain's hops",
        (),
    ),
    "gateway-backend-unresolved": (
        "every HTTP/GRPC/TLS/TCP route backendRef (ResolvedRefs: BackendNotFound, InvalidKind)",
        (),
    ),
    "gateway-refgrant-missing": ("every cross-namespace route backendRef (ResolvedRefs: RefNotPermitted)", ()),
    "gateway-status-disagrees": ("HTTPRoute status.parents Accepted vs the evaluation", ()),
    "ingress-backend-missing": ("every backend of an Ingress Cilium or Istio serves (Service and port exist)", ()),
    "cilium-ingress-backend-denied": (
        "every backend of an Ingress or Gateway Cilium serves: its policies admit identity ingress on the target port",
        (),
    ),
    "cilium-ingress-client-ip-invisible": (
        "every backend of an Ingress or Gateway Cilium serves that refuses identity ingress: its CIDR rules there",
        (),
    ),
    "cilium-ingress-vs-istio-mtls": (
        "every backend of an Ingress or Gateway Cilium serves: PeerAuthentication STRICT",
        (),
    ),
    "istio-gateway-not-found": (
        "every spec.gateways / parentRefs reference (NS/NAME~istio-autogenerated-k8s-gateway~LISTENER: that Gateway)",
        ("ReferencedResourceNotFound", "VirtualServiceHostNotFoundInGateway"),
    ),
    "ambient-probe-snat-blocked": ("ambient workloads with probes under default deny", ()),
    "empty-rule-semantics": ("every policy", ()),
    "cilium-policy-audit": ("cilium-config", ()),
    "ambient-pa-disable-ignored": ("per ambient workload", ()),
    "cilium-policy-invalid": ("every policy", ()),
    "policy-selects-nothing": (
        "Cilium/Kubernetes policies, AuthorizationPolicies, PeerAuthentications, Sidecars",
        ("NoMatchingWorkloadsFound", "ReferencedResourceNotFound"),
    ),
    "istio-injection-mismatch": ("namespace injection label vs the pods' proxies", ("PodMissingProxy",)),
    "istio-route-shadowed": ("every VirtualService", ("VirtualServiceUnreachableRule",)),
    "istio-authz-unknown-namespace": ("every source namespace pattern", ("ReferencedResourceNotFound",)),
    "app-uid-1337": ("every sidecar workload", ("InvalidApplicationUID",)),
    "istio-host-not-exported": (
        "route destinations as seen from the namespaces the VirtualService is exported to",
        ("ReferencedResourceNotFound",),
    ),
    "istio-route-port-unknown": (
        "every route and mirror destination port, beside any other problem of the destination",
        ("ReferencedResourceNotFound",),
    ),
    "istio-subset-no-endpoints": (
        "every DestinationRule subset and routed subset",
        ("DestinationRuleSubsetNotSelectPods",),
    ),
    "protocol-declaration": (
        "Service ports declared non-HTTP under Cilium HTTP rules; undeclared ports of mesh workloads (info)",
        ("PortNameIsNotUnderNamingConvention",),
    ),
}
