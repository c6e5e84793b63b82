"""One plain sentence per cause code, for places that describe a code without a case at hand (SARIF
rule metadata); and, for codes whose fix is written per case, what the fix generally is."""

from __future__ import annotations

from collections.abc import Mapping

TITLES: Mapping[str, str] = {
    "cilium-policy-denied": "A Cilium or Kubernetes network policy selects an endpoint and no rule allows the peer",
    "cilium-l7-denied": "Cilium's HTTP rules do not allow the request; its proxy answers 403",
    "cilium-l7-vs-istio-mtls": "Cilium's HTTP proxy sits on a port that receives Istio mTLS, which it cannot parse",
    "istio-mtls-strict-plaintext": "A STRICT mTLS server is called in plaintext by a client outside the mesh",
    "istio-mtls-conflict": "A DestinationRule's TLS mode disagrees with the server's mTLS state",
    "istio-authz-denied": "An Istio AuthorizationPolicy denies the request",
    "istio-authz-needs-mtls": "An AuthorizationPolicy keys on identity, but the connection is plaintext",
    "cilium-socketlb-bypass": "Cilium socket load-balancing bypasses the Istio sidecar's Service routing",
    "cilium-cni-exclusive": "cilium-config cni-exclusive removes the Istio CNI plugin",
    "istiod-hostnetwork-overlay": "With a Cilium overlay, the API server may not reach istiod's injection webhook",
    "l7-split-brain": "Both Cilium L7 rules and Istio L7 authorization govern one workload",
    "dns-egress-blocked": "An egress policy blocks DNS to kube-dns, so names do not resolve",
    "no-endpoints": "A Service selects no ready pod",
    "port-mismatch": "A port named or written in one place does not exist where it is used",
    "flows-contradict-policy": "Hubble's flows contradict what the objects predict",
    "istio-fault-injection": "A VirtualService injects faults (aborts or delays) into requests",
    "istio-subset-not-found": "A route sends traffic to a DestinationRule subset that is not defined",
    "istio-route-no-match": "No http route of the VirtualService matches the request; Envoy answers 404",
    "istio-destination-host-unknown": "A route's destination host is neither a Service nor a ServiceEntry",
    "istio-egress-registry-only": "REGISTRY_ONLY outbound traffic sends an unregistered host to BlackHoleCluster",
    "istio-circuit-breaker": "DestinationRule connection limits shed requests with 503 under concurrency",
    "istio-timeout": "A VirtualService timeout is shorter than the request takes",
    "istio-gateway-selector-no-match": "A Gateway selects no gateway proxy pod",
    "ambient-probe-snat-blocked": "A default-deny policy blocks kubelet probes of an ambient workload",
    "empty-rule-semantics": "An empty policy rule ({}) means different things across Cilium versions",
    "cilium-policy-audit": "Cilium policy audit mode logs drops instead of enforcing them",
    "istio-mtls-disabled": "A PeerAuthentication turns Istio mTLS off for a workload",
    "ambient-pa-disable-ignored": "PeerAuthentication DISABLE has no effect on ambient workloads",
    "cilium-l7-unreachable-ambient": "Cilium L7 rules on an application port never see ambient (HBONE) traffic",
    "cilium-l7-not-enforced": "Cilium L7 rules exist but the L7 proxy is disabled",
    "cilium-policy-invalid": "An invalid Cilium policy is rejected whole: none of it is enforced",
    "policy-selects-nothing": "A policy selects no pod and has no effect",
    "istio-gateway-host-not-bound": "An ingress gateway has no binding for the requested host; Envoy answers 404",
    "istio-gateway-route-not-allowed": "An HTTPRoute attaches to a Gateway listener that does not admit its namespace",
    "dns-name-unknown": "No Service or ServiceEntry answers the name the client calls",
    "istio-subset-no-endpoints": "A DestinationRule subset selects no ready pod; Envoy answers 503",
    "istio-route-port-unknown": "A route targets a port the destination Service does not expose",
    "istio-host-not-exported": "A host is not exported to the client's namespace",
    "invalid-object": "The API server would reject this object; it does not exist in a real cluster",
    "istio-injection-mismatch": "Sidecar injection labels disagree with the pods' proxies",
    "istio-route-shadowed": "An earlier VirtualService route already matches every request of a later one",
    "istio-gateway-not-found": "A VirtualService binds to a Gateway that does not exist",
    "istio-authz-unknown-namespace": "An AuthorizationPolicy names a namespace that does not exist",
    "protocol-declaration": "A Service port's protocol declaration disagrees with Istio sniffing or Cilium's parser",
    "app-uid-1337": "An application runs as UID 1337, which the sidecar's traffic capture exempts",
    "failing-call-objects-allow": "Hubble shows a call failing that the objects say works",
    "gateway-route-not-accepted": "A Gateway does not accept a route that names it as parent",
    "gateway-route-no-match": "No rule of the routes on a Gateway listener matches the request; it answers 404",
    "gateway-backend-unresolved": "A route's backend cannot be resolved; the gateway answers 500 for its share",
    "gateway-refgrant-missing": "A cross-namespace backend lacks a ReferenceGrant; the gateway answers 500 for it",
    "gateway-not-programmed": "A Gateway is not serving (not programmed by its controller)",
    "gateway-listener-no-match": "No listener of the Gateway serves the port and host the client calls",
    "gateway-redirect": "A route rule answers with a redirect itself; no backend is called",
    "gateway-status-disagrees": "A route's status conditions disagree with what the objects in view say",
    "cilium-ingress-backend-denied": "Cilium's Envoy reaches a backend as identity ingress, which its policy refuses",
    "cilium-ingress-vs-istio-mtls": "Cilium's Envoy sends plaintext to a backend whose mTLS is STRICT",
    "gateway-routes-elsewhere": "Through that Gateway the request is routed to another backend",
    "gamma-no-waypoint": "HTTPRoutes attached to a Service need a waypoint in ambient mode, and it has none",
}

# codes whose fix is written for each case ("{fix_hint}"): what the fix generally is
FIXES: Mapping[str, str] = {
    "cilium-policy-denied": "add a rule allowing the peer on that port to the policy that selects the endpoint",
    "cilium-l7-vs-istio-mtls": "let Cilium see plaintext (Istio L4 only there), or move the L7 rules to Istio",
    "istio-mtls-conflict": "make the DestinationRule TLS mode match the server (ISTIO_MUTUAL for mesh servers)",
    "istio-authz-denied": "add an ALLOW rule for the client, or narrow the DENY rule that matches it",
    "port-mismatch": "use a port the pods and the Service actually define",
    "istio-egress-registry-only": "add a ServiceEntry for the host, or list it in the Sidecar's egress hosts",
    "istio-gateway-host-not-bound": "add the host to the Gateway's servers (or the listener's hostname)",
    "istio-injection-mismatch": "restart the pods so they match their namespace's injection label (or fix the label)",
    "protocol-declaration": "name the port <protocol>[-suffix] or set appProtocol, consistently with Cilium's rules",
    "app-uid-1337": "run the application as another UID",
    "failing-call-objects-allow": "compare the flows' time with the objects' changes; check the server's own logs",
}

# issue 21: calls across clusters (catalog_multicluster.py)
_MULTICLUSTER_TITLES: Mapping[str, str] = {
    "clustermesh-policy-local-cluster": "A peer selector without a cluster key matches only local peers (1.19 default)",
    "clustermesh-cluster-entity-local": "The `cluster` entity covers only the local cluster's pods, not a remote peer",
    "clustermesh-global-service-missing": "A Cilium global Service is missing, not global or not shared in a cluster",
    "clustermesh-remote-unreachable": "A cluster of the mesh is not connected; agents keep its stale state",
    "clustermesh-misconfigured": "ClusterMesh identity settings clash (names, IDs, pod CIDRs, max-connected-clusters)",
    "clustermesh-istio-view-mismatch": "Cilium's global Service and Istio's multicluster view disagree",
    "clustermesh-remote-node-peer": "The peer reaches from another cluster's host network (remote-node)",
    "istio-mc-no-remote-secret": "istiod has no view of another cluster (remote secret missing or broken)",
    "istio-mc-eastwest-missing": "A network has no usable Istio east-west gateway",
    "istio-mc-network-mislabeled": "Istio network labels are wrong, so pod IPs are sent across networks",
    "istio-mc-trust-mismatch": "Clusters do not share an Istio root of trust; mTLS between them fails",
    "istio-mc-plaintext-remote": "Remote-network endpoints that would get plaintext are dropped by Istio",
    "istio-mc-cluster-local": "A host is cluster-local in the mesh config; requests stay in the client's cluster",
    "istio-mc-service-not-local": "A Service exists only in another cluster; the client cannot resolve it",
    "istio-ambient-mc-unsupported": "Ambient multicluster is used outside its supported model",
    "istio-mc-locality": "Locality load balancing keeps requests in the client's cluster",
    "flows-cluster-gap": "Hubble flows of one cluster of the call are missing",
}
TITLES = {**TITLES, **_MULTICLUSTER_TITLES}
FIXES = {
    **FIXES,
    "clustermesh-global-service-missing": "define the Service in every cluster that calls it, annotated "
    'service.cilium.io/global: "true" in each, and do not mark the backends\' cluster shared: "false"',
}
