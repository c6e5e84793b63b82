"""Cause codes of gateways on the path (issue 20; semantics-gateways.md): Gateway API listeners,
routes, backends and ReferenceGrants, GAMMA, Cilium's Envoy."""

from __future__ import annotations

from kubectl_meshdoctor.findings.cause_spec import INFO, CauseSpec, E, W, spec

# issue 20: gateways on the path (semantics-gateways.md Part B, GB1-GB5, GB7)
SPECS: tuple[CauseSpec, ...] = (
    spec(
        "gateway-route-not-accepted",
        E,
        "{route} names Gateway {gateway} as parent, but the Gateway does not accept it ({reason}); requests it "
        "would match fall to other routes or 404",
        "fix the route's parentRefs (name, namespace, sectionName, port) or the listener's allowedRoutes "
        "(namespaces.from, kinds) or hostnames so they agree: {reason}",
        "semantics-gateways GB1",
    ),
    spec(
        "gateway-route-no-match",
        E,
        "no rule of the routes attached to Gateway {gateway} listener {listener} ({routes}) matches {method} "
        "{host}{path}; the gateway answers 404",
        "add a rule whose matches cover the request (path type and value, headers, query, method) to a route "
        "attached to that listener, or correct the route's hostnames",
        "semantics-gateways GB4",
    ),
    spec(
        "gateway-backend-unresolved",
        E,
        "{route} {rule}: {why}; the gateway answers 500 for {share} of the requests the rule matches",
        'point the backendRef at an existing Service and port (group "", kind Service), or give the rule a '
        "backend with a weight above 0",
        "semantics-gateways GB2",
    ),
    spec(
        "gateway-refgrant-missing",
        E,
        "{route} {rule}: {why}; the gateway answers 500 for {share} of the requests the rule matches",
        "create a ReferenceGrant in {backend_ns}: from [{{group: gateway.networking.k8s.io, kind: {kind}, "
        'namespace: {route_ns}}}] to [{{group: "", kind: Service, name: {backend}}}]',
        "semantics-gateways GB3",
    ),
    spec(
        "gateway-l4-route-unusable",
        E,
        "Gateway {gateway} listener {listener} ({protocol}): {why}; the gateway reads no request, so it closes the "
        "connection",
        "attach a TLSRoute whose hostnames cover the client's SNI (TLS) or a TCPRoute (TCP) to that listener, with "
        "backendRefs to existing Services and ports (a ReferenceGrant for another namespace)",
        "semantics-gateways GB1",
    ),
    spec(
        "gateway-not-programmed",
        E,
        "Gateway {gateway} does not serve: {why}",
        "kubectl describe gateway for the reason; check the GatewayClass controller, the listener's certificate "
        "and the load balancer address",
        "semantics-gateways GB5",
    ),
    spec(
        "gateway-listener-no-match",
        E,
        "Gateway {gateway}: {why}",
        "call a port and host a listener of the Gateway serves, or add a listener for them (spec.listeners)",
        "semantics-gateways G2",
    ),
    spec(
        "gateway-status-disagrees",
        W,
        "{route} on Gateway {gateway}: its status says {condition}={status} (written by {controller}), the "
        "objects in view say {ours}",
        "one of the two is stale or rests on objects not in view: kubectl describe the route and compare its "
        "parentRefs, the listener's allowedRoutes and hostnames with what the controller reports",
        "semantics-gateways G2",
    ),
    spec(
        "cilium-ingress-world-denied",
        E,
        "Cilium's Envoy serves {gateway} and checks the policies selecting its ingress endpoint "
        "(reserved:ingress) for {peer} on TCP/{port}: {why}; the client gets 403 Access denied from Envoy",
        "allow the outside clients on a policy that selects the ingress endpoint, e.g. a "
        "CiliumClusterwideNetworkPolicy with endpointSelector {{matchExpressions: [{{key: reserved:ingress, "
        "operator: Exists}}]}} and ingress: [{{fromEntities: [world]}}] (or fromCIDRSet with the clients' CIDRs)",
        "semantics-gateways GB12",
    ),
    spec(
        "cilium-ingress-backend-denied",
        E,
        "Cilium's Envoy serves {entry} and reaches {server}:{port} as the reserved identity ingress: "
        "{why}; the client of the gateway gets 503 (or 403 from an HTTP rule)",
        "allow the ingress identity at the backend's target port, e.g. in its CiliumNetworkPolicy: "
        'ingress: [{{fromEntities: [ingress], toPorts: [{{ports: [{{port: "{port}", protocol: TCP}}]}}]}}]',
        "semantics-gateways GB13",
    ),
    spec(
        "cilium-ingress-vs-istio-mtls",
        E,
        "Cilium's Envoy serves {entry} and sends plaintext to {server}:{port}, which is in the Istio mesh "
        "({mesh}) with PeerAuthentication STRICT; the connection is reset and the gateway answers 503",
        "set PERMISSIVE for that port (PeerAuthentication portLevelMtls) and restrict it by other means, or serve "
        "meshed backends through an Istio gateway (GatewayClass istio), which speaks Istio mTLS",
        "semantics-gateways GB15",
    ),
    spec(
        "gateway-routes-elsewhere",
        E,
        "sent to Gateway {gateway}, {request} matches {route} {rule}, which sends it to {answering}, not to "
        "{destination}",
        "change that rule's backendRefs, or add a rule (or route) whose matches select this request for "
        "{destination}; a more specific match wins (Exact path, longer prefix, method, headers, query)",
        "semantics-gateways G3",
    ),
    spec(
        "gamma-no-waypoint",
        W,
        "HTTPRoute(s) {routes} attach to Service {service}, but it has no usable waypoint: in ambient mode only a "
        "waypoint applies them, so ambient clients reach the Service's pods unrouted",
        "istioctl waypoint apply -n <namespace> --enroll-namespace (or label the Service istio.io/use-waypoint), "
        "then check the route's status (ResolvedWaypoints)",
        "semantics-gateways GB9",
    ),
    spec(
        "istio-route-api-conflict",
        W,
        "VirtualService {vs} and HTTPRoute(s) {routes} both route {host}; a proxy uses one of them, and for "
        "clients in {client_ns}: {why}",
        "route each host with one API: delete the VirtualService or the HTTPRoute(s) (in ambient mode only Gateway "
        "API routes are supported next to waypoints)",
        "semantics-gateways GB8",
    ),
    spec(
        "ingress-rule-no-match",
        E,
        "no rule of Ingress {ingress} matches {method} {host}{path} and it has no default backend; {proxy} answers 404",
        "add a rule for that host with a path that covers the request (pathType Exact or Prefix), or a "
        "spec.defaultBackend",
        "semantics-gateways GB4",
    ),
    spec(
        "ingress-backend-missing",
        E,
        "Ingress {ingress} {rule}: {why}; {proxy} has no upstream for it and answers 503",
        "point the backend at an existing Service in the Ingress's namespace and at one of its ports (by number "
        "or by the Service port's name)",
        "semantics-gateways GB2",
    ),
    spec(
        "gateway-redirect",
        INFO,
        "{route} {rule} answers {status} itself (RequestRedirect) to {location}; no backend is called",
        "if the redirect is not wanted, narrow that rule's matches or remove its RequestRedirect filter",
        "semantics-gateways GB7",
    ),
    # issue 20: the remaining catalog entries (semantics-gateways.md GB10, GB11, GB14, GB16)
    spec(
        "gamma-consumer-route-unsupported",
        W,
        "HTTPRoute(s) {routes} in {client_ns} attach to Service {service} of another namespace (consumer routes): "
        "Cilium's GAMMA applies producer routes only and Istio routes only its mesh's clients, so calls from "
        "{client_ns} go to the Service unrouted",
        "move the route to the Service's namespace {service} (a producer route); it then applies to every client "
        "of the Service, not only to those in {client_ns}; or put the clients in the Istio mesh, which applies "
        "consumer routes",
        "semantics-gateways GB10, M4",
    ),
    spec(
        "gamma-bypassed-by-mesh-client",
        W,
        "{what} on Service {service}:{port} is applied by Cilium at the Service address; {client} ({mesh}) likely "
        "connects to a pod directly and bypasses it [inferred]: its routing, weights and rewrites may not apply",
        "express the routing in Istio for mesh clients (an HTTPRoute Istio serves, or a VirtualService); Hubble "
        "shows whether this client's connections to the Service are REDIRECTED to the proxy",
        "semantics-gateways GB11, M4, C5",
    ),
    spec(
        "cilium-ingress-client-ip-invisible",
        W,
        "{policy} {rule} on {server} admits clients by CIDR ({cidrs}), but behind {entry} the backend only ever "
        "sees Cilium's Envoy as the identity ingress, never the client's address: the CIDR rule never matches "
        "that traffic",
        "filter client addresses where Cilium's Envoy sees them: a CiliumClusterwideNetworkPolicy with "
        "endpointSelector {{matchExpressions: [{{key: reserved:ingress, operator: Exists}}]}} and ingress: "
        "[{{fromCIDRSet: [{{cidr: {cidr}}}]}}]; at the backend allow fromEntities: [ingress] on port {port} "
        "(every client of the gateway the ingress policy admits then reaches it)",
        "semantics-gateways GB14, C2",
    ),
    spec(
        "cilium-envoyconfig-conflict",
        W,
        "{configs} both {what}; Cilium does not resolve conflicts between Envoy configs, so which one Envoy uses "
        "is unpredictable",
        "keep one CiliumEnvoyConfig per Service frontend and unique Envoy resource names; do not edit or "
        "duplicate the configs Cilium generates for Ingresses, Gateways and GAMMA routes",
        "semantics-gateways GB16, C5",
    ),
)
