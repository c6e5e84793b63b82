"""The one catalog of stable cause codes (contract §5; never rename, never reuse).

A diagnosis only says *what* and *where* (``Cause(code, objects, params)``);
severity, the summary sentence, the fix and the documentation pointer come from
here, so the same problem always reads the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import Cause, Severity


@dataclass(frozen=True, slots=True)
class CauseSpec:
    code: str
    severity: Severity
    summary: str  # str.format template over Cause.params
    fix: str  # str.format template over Cause.params
    doc: str  # semantics.md entry
    retired: bool = False
    planned: bool = False  # reserved in the contract, not produced yet (issue 7: traffic management)
    check: str = ""  # how `check` finds it mesh-wide ("" = only explain, for one call)
    related: tuple[str, ...] = ()  # istioctl analyze messages that cover the same problem


def _spec(code: str, severity: Severity, summary: str, fix: str, doc: str, planned: bool = False) -> CauseSpec:
    return CauseSpec(code, severity, summary, fix, doc, planned=planned or doc == "issue 7")


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

_SPECS: tuple[CauseSpec, ...] = (
    _spec(
        "cilium-policy-denied",
        E,
        "{policy_kind} {policy} selects {subject} for {direction} and no rule allows {peer} on {port}"
        "{deny_note}; Cilium drops the packets",
        "{fix_hint}",
        "B1, B2, B3, B7",
    ),
    _spec(
        "cilium-l7-denied",
        E,
        "Cilium's HTTP rules on {server}:{port} do not allow {method} {path}; its proxy answers 403 'Access denied'",
        'extend the rule, e.g. add {{method: "{method}", path: "{path}"}} to {rule} of {policy_kind} {policy}',
        "B4",
    ),
    _spec(
        "cilium-l7-vs-istio-mtls",
        E,
        "Cilium's HTTP proxy sits on {server}:{port}, but {client} sends {payload} there; the proxy "
        "cannot parse it and {outcome}",
        "{fix_hint}",
        "B5, B6",
    ),
    _spec(
        "istio-mtls-strict-plaintext",
        E,
        "{server} requires mTLS ({pa}) on port {port} but {client} is outside the mesh and sends "
        "plaintext; the server {proxy} resets the connection",
        "enrol the client (e.g. `kubectl label ns {client_ns} istio-injection=enabled` and restart it) "
        "or allow plaintext on that port:\n{yaml}",
        "B8",
    ),
    _spec(
        "istio-mtls-conflict",
        E,
        "{client}'s DestinationRule {dr} sets tls.mode {tls_mode}, but {server} {server_state}; the "
        "client sidecar answers 503",
        "{fix_hint}",
        "B9, B10",
    ),
    _spec(
        "istio-authz-denied",
        E,
        "{reason}",
        "{fix_hint}",
        "B11, B12, B14",
    ),
    _spec(
        "istio-authz-needs-mtls",
        E,
        "AuthorizationPolicy {policy} {rule} keys on {fields}, but the connection from {client} is "
        "plaintext ({why}); a peer identity never exists, so the rule can never match",
        "restore mTLS on this hop (sidecar/ambient on the client, PeerAuthentication not DISABLE), or "
        "key the rule on ipBlocks / a Cilium fromEndpoints rule instead",
        "B13",
    ),
    _spec(
        "cilium-socketlb-bypass",
        W,
        "cilium-config enables socket load-balancing ({why}) without bpf-lb-sock-hostns-only: "
        '"true": Service traffic is translated inside the pod before the sidecar sees it '
        "(no mTLS, no telemetry, routing rules ignored)",
        "helm upgrade cilium cilium/cilium -n kube-system --reuse-values "
        "--set socketLB.hostNamespaceOnly=true  (then restart the cilium agents)",
        "B19",
    ),
    _spec(
        "cilium-cni-exclusive",
        W,
        'cilium-config has cni-exclusive: "true" while {istio_cni} needs its own CNI plugin; new '
        "pods may not be redirected into the mesh",
        "helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set cni.exclusive=false, "
        "then restart istio-cni-node and recreate affected pods",
        "B20",
    ),
    _spec(
        "istiod-hostnetwork-overlay",
        W,
        "Cilium runs an overlay ({tunnel}) and istiod is not on hostNetwork: the API server may not "
        "reach the injection webhook, so pods start without sidecars or fail to create",
        "kubectl -n istio-system patch deploy istiod --type merge -p "
        '\'{{"spec":{{"template":{{"spec":{{"hostNetwork":true,'
        '"dnsPolicy":"ClusterFirstWithHostNet"}}}}}}}}\'',
        "B21",
    ),
    _spec(
        "l7-split-brain",
        W,
        "both Cilium L7 rules ({cilium}) and Istio L7 authorization ({istio}) govern {server}; "
        "each side's edits change the other's outcome",
        "choose one owner of L7 policy: Cilium (PeerAuthentication DISABLE / leave ambient) or Istio "
        "(drop rules.http from the CiliumNetworkPolicy)",
        "B22",
    ),
    _spec(
        "dns-egress-blocked",
        E,
        "{policy_kind} {policy} restricts egress of {client} and no rule allows kube-dns on port 53, "
        "so the name {host} cannot be resolved",
        "add an egress rule to {policy}:\n{yaml}",
        "B15",
    ),
    _spec(
        "no-endpoints",
        E,
        "Service {service} selects no ready pod{why}",
        "fix the Service selector or pod readiness: kubectl -n {ns} get endpointslices "
        "-l kubernetes.io/service-name={name}",
        "B18, B16",
    ),
    _spec(
        "port-mismatch",
        E,
        "{why}",
        "{fix_hint}",
        "B17",
    ),
    _spec(
        "flows-contradict-policy",
        W,
        "Hubble shows {observed} for this pair, but the objects predict {predicted}: {why}",
        "check for objects missing from this view (RBAC, another policy source, a host firewall), "
        "audit mode, or stale endpoint identities: `hubble observe --from-pod {src} --to-pod {dst} "
        "--verdict DROPPED -o json`",
        "B23",
    ),
    _spec(
        "istio-fault-injection",
        E,
        "VirtualService {vs} {rule} injects {what} into {percent}% of requests on the route matching "
        "{method} {path}{effect}",
        "remove the fault block (or narrow its match / lower its percentage): "
        "kubectl -n {ns} edit virtualservice {name}   # delete {rule}",
        "issue 7: VirtualService http[].fault (B0.2)",
    ),
    _spec(
        "istio-subset-not-found",
        E,
        "VirtualService {vs} {rule} sends {weight}% of {method} {path} to subset {subset} of {host}, but "
        "{dr_state}; Envoy has no cluster for it and answers 503 (NC)",
        "define the subset in the DestinationRule for {host} (or route to an existing subset):\n{yaml}",
        "issue 7: VirtualService route[].destination.subset vs DestinationRule subsets (A4, B0.2)",
    ),
    _spec(
        "istio-route-no-match",
        E,
        "VirtualService {vs} owns host {host} but none of its http routes ({routes}) matches {method} {path}; "
        "the client's proxy answers 404 (NR)",
        "add a match for {path}, or a catch-all route (an http entry without match) at the end of "
        "{vs}: kubectl -n {ns} edit virtualservice {name}",
        "issue 7: VirtualService http[] match order (B0.1, B0.2)",
    ),
    _spec(
        "istio-destination-host-unknown",
        E,
        "VirtualService {vs} {rule} routes to {host}, which is neither a Service nor a ServiceEntry "
        "visible from {client_ns}; Envoy has no cluster for it and answers 503 (NC)",
        "point {rule}.host at an existing Service{suggest}, or add a ServiceEntry for {host}",
        "issue 7: VirtualService route[].destination.host and the service registry (B0.2)",
    ),
    _spec(
        "istio-egress-registry-only",
        E,
        "{why}; the client's sidecar sends {host} to BlackHoleCluster and answers 502",
        "{fix_hint}",
        "issue 7: outboundTrafficPolicy and Sidecar egress.hosts (B0.1)",
    ),
    _spec(
        "istio-circuit-breaker",
        INFO,
        "DestinationRule {dr} {rule} sets {limits} for {host}: under concurrency Envoy sheds requests with "
        "503 (UO){observed}",
        "raise or remove those limits: kubectl -n {ns} edit destinationrule {name}",
        "issue 7: DestinationRule trafficPolicy.connectionPool / outlierDetection (B0.2 UO)",
    ),
    _spec(
        "istio-timeout",
        W,
        "VirtualService {vs} {rule} sets timeout {timeout} but {method} {path} takes {latency}; "
        "Envoy gives up and answers 504 (UT)",
        "raise {rule}.timeout above the observed latency: kubectl -n {ns} edit virtualservice {name}",
        "issue 7: VirtualService http[].timeout (B0.2 UT)",
    ),
    # --- codes beyond contract §5 (semantics.md B25 suggestions and interop notes) ---
    _spec(
        "istio-gateway-selector-no-match",
        E,
        "Gateway {gateway} selects pods with {selector}, but no pod in view has those labels: no gateway "
        "proxy serves {hosts}",
        "set spec.selector to the labels of the ingress gateway pods (e.g. istio: ingressgateway): "
        "kubectl get pods -A -l {selector_arg} --show-labels",
        "issue 7 §4: Gateway selector",
    ),
    _spec(
        "ambient-probe-snat-blocked",
        E,
        "{server} is ambient and a default-deny ingress policy ({policy}) does not allow kubelet probes, "
        "which ztunnel SNATs to 169.254.7.127: the pods never become Ready",
        "apply a CiliumClusterwideNetworkPolicy allowing 169.254.7.127/32 ingress:\n{yaml}",
        "B16",
    ),
    _spec(
        "empty-rule-semantics",
        INFO,
        "{policy} {rule} is an empty rule ({{}}); meshdoctor reads it as allow-nothing (upstream "
        "examples), but newer Cilium engines may read it as allow-all [uncertain]",
        "write the intent explicitly: enableDefaultDeny: {{ingress: true}} with ingress: "
        "[{{fromEntities: []}}] for deny-all, or fromEntities: [all] for allow-all",
        "A1.8",
    ),
    _spec(
        "cilium-policy-audit",
        INFO,
        "policy-audit-mode is on: Cilium {would} but only logs it (AUDIT); nothing is dropped",
        "turn audit mode off once the policy is right: helm upgrade cilium ... --set policyAuditMode=false",
        "A1.11",
    ),
    _spec(
        "istio-mtls-disabled",
        INFO,
        "PeerAuthentication {pa} turns Istio mTLS off for {server}: traffic to it is unencrypted and "
        "identity-based AuthorizationPolicies cannot match",
        "accept the trade-off, or move L7 policy to Istio and restore mTLS",
        "C1.2 S3",
    ),
    _spec(
        "ambient-pa-disable-ignored",
        INFO,
        "PeerAuthentication {pa} sets DISABLE, but {server} is ambient: ztunnel ignores DISABLE (HBONE is always mTLS)",
        "to give Cilium plaintext, take the workload out of ambient: kubectl label ns {ns} istio.io/dataplane-mode-",
        "A3, C1.3",
    ),
    _spec(
        "cilium-l7-unreachable-ambient",
        W,
        "{policy} has L7 rules on port {port}, but ambient peers reach {server} over HBONE on 15008: "
        "these rules never see their traffic",
        "take {server_ns} out of ambient (kubectl label ns {server_ns} istio.io/dataplane-mode-) or "
        "enforce L7 in a waypoint",
        "C1.3",
    ),
    _spec(
        "cilium-l7-not-enforced",
        W,
        '{policy} has L7 rules but cilium-config sets enable-l7-proxy: "false"; they are not enforced',
        "set l7Proxy=true in the Cilium Helm values, or remove the L7 rules",
        "A1.9",
    ),
)

_SPECS += (
    _spec(
        "cilium-policy-invalid",
        E,
        "{policy} is invalid ({why}); Cilium rejects the whole object, so none of it is enforced",
        "fix the policy and re-apply it; `kubectl describe` shows the agent's status for it",
        "A1.1",
    ),
    _spec(
        "policy-selects-nothing",
        W,
        "{policy} selects no pod ({selector}): it has no effect (a typo in a label, or the wrong namespace?)",
        "compare the selector with `kubectl get pods --show-labels` in that namespace",
        "A1.2, A2, A3, A5",
    ),
)

_SPECS += (
    _spec(
        "istio-gateway-host-not-bound",
        E,
        "the ingress gateway {gateway} has no binding for host {host}: {why}; Envoy answers 404 (NR)",
        "{fix_hint}",
        "issue 7 §4",
    ),
    _spec(
        "istio-gateway-route-not-allowed",
        E,
        "HTTPRoute {route} attaches to Gateway {gateway}, whose listener admits routes from {from} namespaces "
        "only; the route is not accepted and the gateway answers 404",
        "set allowedRoutes.namespaces.from: All (or a Selector matching the route's namespace) on the listener, "
        "or move the HTTPRoute into the Gateway's namespace",
        "issue 7 §4",
    ),
)

# Contract §5 codes added for issues 10 and 11; each loses `planned=True` when a hop or reader produces it.
_SPECS += (
    _spec(
        "dns-name-unknown",
        E,
        "no Service or ServiceEntry answers the name {name}{suggestion}; the client cannot resolve it",
        "use an existing Service name ({closest}), or create the Service / ServiceEntry for {name}",
        "B24 (DNS)",
        planned=False,
    ),
    _spec(
        "istio-subset-no-endpoints",
        E,
        "subset {subset} of {host} ({dr}) selects no ready pod (labels {labels}: {why}); Envoy answers 503 "
        "'no healthy upstream' (UH){share}",
        "fix the subset labels in {dr} to match the pods' labels, or deploy that version",
        "issue 11 §2",
    ),
    _spec(
        "istio-route-port-unknown",
        E,
        "{vs} routes to {host} port {port}, which that Service does not expose; Envoy answers 503 (NC){share}",
        "set the route destination port to one of the Service's ports ({ports})",
        "issue 11 §2",
    ),
    _spec(
        "istio-host-not-exported",
        E,
        "{host} is not visible from namespace {client_ns} ({why}); the client's proxy treats it as unknown",
        'add {client_ns} (or "*") to exportTo on {object}',
        "issue 11 §3",
    ),
    _spec(
        "invalid-object",
        E,
        "{object}: the API server would reject it ({field}: {reason}); it does not exist in a real cluster and is "
        "evaluated as absent",
        "correct {field} (value {value}) and apply it again; `kubectl apply --dry-run=server -f FILE` shows "
        "every error the API server finds",
        "contract §7",
    ),
)

_SPECS += (
    _spec(
        "istio-injection-mismatch",
        W,
        "{what}",
        "{fix_hint}",
        "A6",
    ),
    _spec(
        "istio-route-shadowed",
        W,
        "VirtualService {vs} {rule} can never match: {earlier} before it already matches every request it would",
        "move {rule} above {earlier}, or narrow {earlier}'s match: kubectl -n {ns} edit virtualservice {name}",
        "B0.1",
    ),
    _spec(
        "istio-gateway-not-found",
        E,
        "VirtualService {vs} binds to Gateway {gateway}, which does not exist: its routes serve nothing there",
        "create the Gateway or fix spec.gateways of {vs} (namespace/name, or mesh for sidecars)",
        "issue 7 §4",
    ),
)

_SPECS += (
    _spec(
        "istio-authz-unknown-namespace",
        W,
        "AuthorizationPolicy {policy} {rule} names namespace pattern '{pattern}', which matches no namespace: "
        "that entry {effect} (a typo, or a namespace not created yet?)",
        "fix the name in {rule}, or remove it: kubectl -n <ns> edit authorizationpolicy <name>",
        "A5",
    ),
)

_SPECS += (
    _spec(
        "protocol-declaration",
        W,
        "{what}",
        "{fix_hint}",
        "B5, A1.9",
    ),
)

_SPECS += (
    _spec(
        "app-uid-1337",
        W,
        "{what}",
        "{fix_hint}",
        "A6",
    ),
)

_SPECS += (
    _spec(
        "failing-call-objects-allow",
        W,
        "Hubble shows {client} → {server}:{port} failing ({signature}, {flows} flow(s)), but the objects say this "
        "call works: {why}",
        "{fix_hint}",
        "issue 19 (triage), B23",
    ),
)

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
_CHECK: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "cilium-l7-vs-istio-mtls": ("every port with Cilium HTTP rules that a sidecar/ambient client reaches", ()),
    "cilium-l7-unreachable-ambient": ("L7 rules on app ports of ambient workloads", ()),
    "cilium-l7-not-enforced": ("L7 rules with enable-l7-proxy false", ()),
    "cilium-policy-denied": ("only the HBONE gap: an ambient peer allowed on the app port but not on 15008", ()),
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
    "istio-egress-registry-only": ("Services a REGISTRY_ONLY Sidecar scope hides", ()),
    "istio-circuit-breaker": ("tight connection-pool limits (info)", ()),
    "istio-gateway-selector-no-match": ("every Istio Gateway", ("ReferencedResourceNotFound",)),
    "istio-gateway-host-not-bound": (
        "VirtualService / HTTPRoute hosts missing from their Gateway",
        ("VirtualServiceHostNotFoundInGateway",),
    ),
    "istio-gateway-route-not-allowed": ("every HTTPRoute parentRef (allowedRoutes)", ()),
    "gateway-route-not-accepted": ("every HTTPRoute parentRef to a Gateway in view (Accepted and its reason)", ()),
    "gateway-backend-unresolved": ("every HTTPRoute backendRef (ResolvedRefs: BackendNotFound, InvalidKind)", ()),
    "gateway-refgrant-missing": ("every cross-namespace HTTPRoute backendRef (ResolvedRefs: RefNotPermitted)", ()),
    "gateway-status-disagrees": ("HTTPRoute status.parents Accepted vs the evaluation", ()),
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


# issue 20: gateways on the path (semantics-gateways.md Part B, GB1-GB5, GB7)
_SPECS += (
    _spec(
        "gateway-route-not-accepted",
        E,
        "{route} names Gateway {gateway} as parent, but the Gateway does not accept it ({reason}); requests it "
        "would match fall to other routes or 404",
        "fix the route's parentRefs (name, namespace, sectionName, port) or the listener's allowedRoutes "
        "(namespaces.from, kinds) or hostnames so they agree: {reason}",
        "semantics-gateways GB1",
    ),
    _spec(
        "gateway-route-no-match",
        E,
        "no rule of the routes attached to Gateway {gateway} listener {listener} ({routes}) matches {method} "
        "{host}{path}; the gateway answers 404",
        "add a rule whose matches cover the request (path type and value, headers, query, method) to a route "
        "attached to that listener, or correct the route's hostnames",
        "semantics-gateways GB4",
    ),
    _spec(
        "gateway-backend-unresolved",
        E,
        "{route} {rule}: {why}; the gateway answers 500 for {share} of the requests the rule matches",
        'point the backendRef at an existing Service and port (group "", kind Service), or give the rule a '
        "backend with a weight above 0",
        "semantics-gateways GB2",
    ),
    _spec(
        "gateway-refgrant-missing",
        E,
        "{route} {rule}: {why}; the gateway answers 500 for {share} of the requests the rule matches",
        "create a ReferenceGrant in {backend_ns}: from [{{group: gateway.networking.k8s.io, kind: {kind}, "
        'namespace: {route_ns}}}] to [{{group: "", kind: Service, name: {backend}}}]',
        "semantics-gateways GB3",
    ),
    _spec(
        "gateway-not-programmed",
        E,
        "Gateway {gateway} does not serve: {why}",
        "kubectl describe gateway for the reason; check the GatewayClass controller, the listener's certificate "
        "and the load balancer address",
        "semantics-gateways GB5",
    ),
    _spec(
        "gateway-listener-no-match",
        E,
        "Gateway {gateway}: {why}",
        "call a port and host a listener of the Gateway serves, or add a listener for them (spec.listeners)",
        "semantics-gateways G2",
    ),
    _spec(
        "gateway-status-disagrees",
        W,
        "{route} on Gateway {gateway}: its status says {condition}={status} (written by {controller}), the "
        "objects in view say {ours}",
        "one of the two is stale or rests on objects not in view: kubectl describe the route and compare its "
        "parentRefs, the listener's allowedRoutes and hostnames with what the controller reports",
        "semantics-gateways G2",
    ),
    _spec(
        "cilium-ingress-backend-denied",
        E,
        "Cilium's Envoy serves Gateway {gateway} and reaches {server}:{port} as the reserved identity ingress: "
        "{why}; the client of the gateway gets 503 (or 403 from an HTTP rule)",
        "allow the ingress identity at the backend's target port, e.g. in its CiliumNetworkPolicy: "
        'ingress: [{{fromEntities: [ingress], toPorts: [{{ports: [{{port: "{port}", protocol: TCP}}]}}]}}]',
        "semantics-gateways GB13",
    ),
    _spec(
        "cilium-ingress-vs-istio-mtls",
        E,
        "Cilium's Envoy serves Gateway {gateway} and sends plaintext to {server}:{port}, which is in the Istio mesh "
        "({mesh}) with PeerAuthentication STRICT; the connection is reset and the gateway answers 503",
        "set PERMISSIVE for that port (PeerAuthentication portLevelMtls) and restrict it by other means, or serve "
        "meshed backends through an Istio gateway (GatewayClass istio), which speaks Istio mTLS",
        "semantics-gateways GB15",
    ),
    _spec(
        "gateway-routes-elsewhere",
        E,
        "sent to Gateway {gateway}, {request} matches {route} {rule}, which sends it to {answering}, not to "
        "{destination}",
        "change that rule's backendRefs, or add a rule (or route) whose matches select this request for "
        "{destination}; a more specific match wins (Exact path, longer prefix, method, headers, query)",
        "semantics-gateways G3",
    ),
    _spec(
        "gamma-no-waypoint",
        W,
        "HTTPRoute(s) {routes} attach to Service {service}, but it has no usable waypoint: in ambient mode only a "
        "waypoint applies them, so ambient clients reach the Service's pods unrouted",
        "istioctl waypoint apply -n <namespace> --enroll-namespace (or label the Service istio.io/use-waypoint), "
        "then check the route's status (ResolvedWaypoints)",
        "semantics-gateways GB9",
    ),
    _spec(
        "gateway-redirect",
        INFO,
        "{route} {rule} answers {status} itself (RequestRedirect) to {location}; no backend is called",
        "if the redirect is not wanted, narrow that rule's matches or remove its RequestRedirect filter",
        "semantics-gateways GB7",
    ),
)


def _with_check(spec: CauseSpec) -> CauseSpec:
    import dataclasses

    how, related = _CHECK.get(spec.code, ("", ()))
    return dataclasses.replace(spec, check=how, related=tuple(ISTIOCTL_CODES.get(r, r) for r in related))


_SPECS = tuple(_with_check(s) for s in _SPECS)

CAUSES: Mapping[str, CauseSpec] = {s.code: s for s in _SPECS}

CONTRACT_CODES: tuple[str, ...] = (
    "cilium-policy-denied",
    "cilium-l7-denied",
    "cilium-l7-vs-istio-mtls",
    "istio-mtls-strict-plaintext",
    "istio-mtls-conflict",
    "istio-authz-denied",
    "istio-authz-needs-mtls",
    "cilium-socketlb-bypass",
    "cilium-cni-exclusive",
    "istiod-hostnetwork-overlay",
    "l7-split-brain",
    "dns-egress-blocked",
    "no-endpoints",
    "port-mismatch",
    "flows-contradict-policy",
    "istio-fault-injection",
    "istio-subset-not-found",
    "istio-route-no-match",
    "istio-destination-host-unknown",
    "istio-egress-registry-only",
    "istio-circuit-breaker",
    "istio-timeout",
    "dns-name-unknown",
    "istio-subset-no-endpoints",
    "istio-route-port-unknown",
    "istio-host-not-exported",
    "invalid-object",
)


# How every fix is proposed (issue 17); docs/causes.md and the contract quote it.
FIX_RULES: tuple[str, ...] = (
    "A fix is a proposal with proof: `explain` applies it in memory (what-if, static analysis) and shows the "
    "question's verdict before → after; a fix that clears one hop is completed with the next hop's fix.",
    "Blast radius: every other call whose verdict the fix changes, over the namespaces the fix names (its own, "
    "and every namespace its peers name; a cluster-scoped object: all) and every port of their Services, for "
    "the request and two near ones (another method, another path); none is stated as such. Offline every "
    "namespace of the input is read for it; live, the namespaces read (the proof says what was not compared).",
    "Intent: a request the user's policies refuse as written — Cilium L3/L4 and HTTP rules of both ends on the "
    "app port, an AuthorizationPolicy — for another reason than the question (another method, path, port or "
    "peer identity) must stay refused. A fix that would let it through is not proposed (WIDENS).",
    "Where ambient HBONE (15008) hides the HTTP from Cilium's proxy, the enforcement moves to a waypoint for "
    "the Service with an AuthorizationPolicy (targetRefs) holding the same methods and paths for the same "
    "source namespaces, and 15008 admits the waypoint (its service account), not the client. Rules with no "
    "exact form (regex paths or methods, header or host matches, label-selected or entity/CIDR peers) are "
    "named as lost, and taking the namespaces out of ambient is offered instead.",
    "Narrowest form: the exact peer identity (workload label and namespace, or the SPIFFE principal), the exact "
    "port and protocol; HTTP paths as exact regexes (a query string optional).",
    "Only a proposal proven to make the call work without widening is proposed; `--fix-yaml` prints it "
    "(otherwise the causes' YAML, with a note on stderr).",
)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, params: Mapping[str, str]) -> str:
    return template.format_map(_Defaults(params))


def severity(cause: Cause) -> Severity:
    return cause.severity or CAUSES[cause.code].severity


def summary(cause: Cause) -> str:
    return cause.detail or _fill(CAUSES[cause.code].summary, cause.params)


def related(cause: Cause) -> tuple[str, ...]:
    return CAUSES[cause.code].related


def fix(cause: Cause) -> str:
    return _fill(CAUSES[cause.code].fix, cause.params)
