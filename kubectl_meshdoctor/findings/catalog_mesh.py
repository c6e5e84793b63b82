"""Cause codes of the mesh path: Cilium, Kubernetes NetworkPolicy, Istio mTLS/authz/routing, DNS,
endpoints, waypoints, evidence and triage (contract §5 and the issues that added them). Codes are
never renamed or reused; a retired code stays, marked."""

from __future__ import annotations

from kubectl_meshdoctor.findings.cause_spec import INFO, CauseSpec, E, W, spec

SPECS: tuple[CauseSpec, ...] = (
    spec(
        "cilium-policy-denied",
        E,
        "{policy_kind} {policy} selects {subject} for {direction} and no rule allows {peer} on {port}"
        "{deny_note}; Cilium drops the packets",
        "{fix_hint}",
        "B1, B2, B3, B7",
    ),
    spec(
        "cilium-l7-denied",
        E,
        "Cilium's HTTP rules on {server}:{port} do not allow {method} {path}; its proxy answers 403 'Access denied'",
        'extend the rule, e.g. add {{method: "{method}", path: "{path}"}} to {rule} of {policy_kind} {policy}',
        "B4",
    ),
    spec(
        "cilium-l7-vs-istio-mtls",
        E,
        "Cilium's HTTP proxy sits on {server}:{port}, but {client} sends {payload} there; the proxy "
        "cannot parse it and {outcome}",
        "{fix_hint}",
        "B5, B6",
    ),
    spec(
        "istio-mtls-strict-plaintext",
        E,
        "{server} requires mTLS ({pa}) on port {port} but {client} is outside the mesh and sends "
        "plaintext; the server {proxy} resets the connection",
        "enrol the client (e.g. `kubectl label ns {client_ns} istio-injection=enabled` and restart it) "
        "or allow plaintext on that port:\n{yaml}",
        "B8",
    ),
    spec(
        "istio-mtls-conflict",
        E,
        "{client}'s DestinationRule {dr} sets tls.mode {tls_mode}, but {server} {server_state}; the "
        "client sidecar answers 503",
        "{fix_hint}",
        "B9, B10",
    ),
    spec(
        "istio-authz-denied",
        E,
        "{reason}",
        "{fix_hint}",
        "B11, B12, B14",
    ),
    spec(
        "istio-authz-needs-mtls",
        E,
        "AuthorizationPolicy {policy} {rule} keys on {fields}, but the connection from {client} is "
        "plaintext ({why}); a peer identity never exists, so the rule can never match",
        "restore mTLS on this hop (sidecar/ambient on the client, PeerAuthentication not DISABLE), or "
        "key the rule on ipBlocks / a Cilium fromEndpoints rule instead",
        "B13",
    ),
    spec(
        "cilium-socketlb-bypass",
        W,
        "cilium-config enables socket load-balancing ({why}) without bpf-lb-sock-hostns-only: "
        '"true": Service traffic is translated inside the pod before the sidecar sees it '
        "(no mTLS, no telemetry, routing rules ignored)",
        "helm upgrade cilium cilium/cilium -n kube-system --reuse-values "
        "--set socketLB.hostNamespaceOnly=true  (then restart the cilium agents)",
        "B19",
    ),
    spec(
        "cilium-cni-exclusive",
        W,
        'cilium-config has cni-exclusive: "true" while {istio_cni} needs its own CNI plugin; new '
        "pods may not be redirected into the mesh",
        "helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set cni.exclusive=false, "
        "then restart istio-cni-node and recreate affected pods",
        "B20",
    ),
    spec(
        "istiod-hostnetwork-overlay",
        W,
        "Cilium runs an overlay ({tunnel}) and istiod is not on hostNetwork: the API server may not "
        "reach the injection webhook, so pods start without sidecars or fail to create",
        "kubectl -n istio-system patch deploy istiod --type merge -p "
        '\'{{"spec":{{"template":{{"spec":{{"hostNetwork":true,'
        '"dnsPolicy":"ClusterFirstWithHostNet"}}}}}}}}\'',
        "B21",
    ),
    spec(
        "l7-split-brain",
        W,
        "both Cilium L7 rules ({cilium}) and Istio L7 authorization ({istio}) govern {server}; "
        "each side's edits change the other's outcome",
        "choose one owner of L7 policy: Cilium (PeerAuthentication DISABLE / leave ambient) or Istio "
        "(drop rules.http from the CiliumNetworkPolicy)",
        "B22",
    ),
    spec(
        "dns-egress-blocked",
        E,
        "{policy_kind} {policy} restricts egress of {client} and no rule allows kube-dns on port 53, "
        "so the name {host} cannot be resolved",
        "add an egress rule to {policy}:\n{yaml}",
        "B15",
    ),
    spec(
        "no-endpoints",
        E,
        "Service {service} selects no ready pod{why}",
        "fix the Service selector or pod readiness: kubectl -n {ns} get endpointslices "
        "-l kubernetes.io/service-name={name}",
        "B18, B16",
    ),
    spec(
        "port-mismatch",
        E,
        "{why}",
        "{fix_hint}",
        "B17",
    ),
    spec(
        "flows-contradict-policy",
        W,
        "Hubble shows {observed} for this pair, but the objects predict {predicted}: {why}",
        "check for objects missing from this view (RBAC, another policy source, a host firewall), "
        "audit mode, or stale endpoint identities: `hubble observe --from-pod {src} --to-pod {dst} "
        "--verdict DROPPED -o json`",
        "B23",
    ),
    spec(
        "istio-fault-injection",
        E,
        "VirtualService {vs} {rule} injects {what} into {percent}% of requests on the route matching "
        "{method} {path}{effect}",
        "remove the fault block (or narrow its match / lower its percentage): "
        "kubectl -n {ns} edit virtualservice {name}   # delete {rule}",
        "issue 7: VirtualService http[].fault (B0.2)",
    ),
    spec(
        "istio-subset-not-found",
        E,
        "VirtualService {vs} {rule} sends {weight}% of {method} {path} to subset {subset} of {host}, but "
        "{dr_state}; Envoy has no cluster for it and answers 503 (NC)",
        "define the subset in the DestinationRule for {host} (or route to an existing subset):\n{yaml}",
        "issue 7: VirtualService route[].destination.subset vs DestinationRule subsets (A4, B0.2)",
    ),
    spec(
        "istio-route-no-match",
        E,
        "VirtualService {vs} owns host {host} but none of its http routes ({routes}) matches {method} {path}; "
        "the client's proxy answers 404 (NR)",
        "add a match for {path}, or a catch-all route (an http entry without match) at the end of "
        "{vs}: kubectl -n {ns} edit virtualservice {name}",
        "issue 7: VirtualService http[] match order (B0.1, B0.2)",
    ),
    spec(
        "istio-destination-host-unknown",
        E,
        "VirtualService {vs} {rule} routes to {host}, which is neither a Service nor a ServiceEntry "
        "visible from {client_ns}; Envoy has no cluster for it and answers 503 (NC)",
        "point {rule}.host at an existing Service{suggest}, or add a ServiceEntry for {host}",
        "issue 7: VirtualService route[].destination.host and the service registry (B0.2)",
    ),
    spec(
        "istio-egress-registry-only",
        E,
        "{why}; the client's sidecar sends {host} to BlackHoleCluster and answers 502",
        "{fix_hint}",
        "issue 7: outboundTrafficPolicy and Sidecar egress.hosts (B0.1)",
    ),
    spec(
        "istio-circuit-breaker",
        INFO,
        "DestinationRule {dr} {rule} sets {limits} for {host}: under concurrency Envoy sheds requests with "
        "503 (UO){observed}",
        "raise or remove those limits: kubectl -n {ns} edit destinationrule {name}",
        "issue 7: DestinationRule trafficPolicy.connectionPool / outlierDetection (B0.2 UO)",
    ),
    spec(
        "istio-timeout",
        W,
        "VirtualService {vs} {rule} sets timeout {timeout} but {method} {path} takes {latency}; "
        "Envoy gives up and answers 504 (UT)",
        "raise {rule}.timeout above the observed latency: kubectl -n {ns} edit virtualservice {name}",
        "issue 7: VirtualService http[].timeout (B0.2 UT)",
    ),
    # --- codes beyond contract §5 (semantics.md B25 suggestions and interop notes) ---
    spec(
        "istio-gateway-selector-no-match",
        E,
        "Gateway {gateway} selects pods with {selector}, but no pod in view has those labels: no gateway "
        "proxy serves {hosts}",
        "set spec.selector to the labels of the ingress gateway pods (e.g. istio: ingressgateway): "
        "kubectl get pods -A -l {selector_arg} --show-labels",
        "issue 7 §4: Gateway selector",
    ),
    spec(
        "ambient-probe-snat-blocked",
        E,
        "{server} is ambient and a default-deny ingress policy ({policy}) does not allow kubelet probes, "
        "which ztunnel SNATs to 169.254.7.127: the pods never become Ready",
        "apply a CiliumClusterwideNetworkPolicy allowing 169.254.7.127/32 ingress:\n{yaml}",
        "B16",
    ),
    spec(
        "empty-rule-semantics",
        INFO,
        "{policy} {rule} is an empty rule ({{}}); meshdoctor reads it as allow-nothing (upstream "
        "examples), but newer Cilium engines may read it as allow-all [uncertain]",
        "write the intent explicitly: enableDefaultDeny: {{ingress: true}} with ingress: "
        "[{{fromEntities: []}}] for deny-all, or fromEntities: [all] for allow-all",
        "A1.8",
    ),
    spec(
        "cilium-policy-audit",
        INFO,
        "policy-audit-mode is on: Cilium {would} but only logs it (AUDIT); nothing is dropped",
        "turn audit mode off once the policy is right: helm upgrade cilium ... --set policyAuditMode=false",
        "A1.11",
    ),
    spec(
        "istio-mtls-disabled",
        INFO,
        "PeerAuthentication {pa} turns Istio mTLS off for {server}: traffic to it is unencrypted and "
        "identity-based AuthorizationPolicies cannot match",
        "accept the trade-off, or move L7 policy to Istio and restore mTLS",
        "C1.2 S3",
    ),
    spec(
        "ambient-pa-disable-ignored",
        INFO,
        "PeerAuthentication {pa} sets DISABLE, but {server} is ambient: ztunnel ignores DISABLE (HBONE is always mTLS)",
        "to give Cilium plaintext, take the workload out of ambient: kubectl label ns {ns} istio.io/dataplane-mode-",
        "A3, C1.3",
    ),
    spec(
        "cilium-l7-unreachable-ambient",
        W,
        "{policy} has L7 rules on port {port}, but ambient peers reach {server} over HBONE on 15008: "
        "these rules never see their traffic",
        "take {server_ns} out of ambient (kubectl label ns {server_ns} istio.io/dataplane-mode-) or "
        "enforce L7 in a waypoint",
        "C1.3",
    ),
    spec(
        "cilium-l7-not-enforced",
        W,
        '{policy} has L7 rules but cilium-config sets enable-l7-proxy: "false"; they are not enforced',
        "set l7Proxy=true in the Cilium Helm values, or remove the L7 rules",
        "A1.9",
    ),
)

SPECS += (
    spec(
        "cilium-policy-invalid",
        E,
        "{policy} is invalid ({why}); Cilium rejects the whole object, so none of it is enforced",
        "fix the policy and re-apply it; `kubectl describe` shows the agent's status for it",
        "A1.1",
    ),
    spec(
        "policy-selects-nothing",
        W,
        "{policy} selects no pod ({selector}): it has no effect (a typo in a label, or the wrong namespace?)",
        "compare the selector with `kubectl get pods --show-labels` in that namespace",
        "A1.2, A2, A3, A5",
    ),
)

SPECS += (
    spec(
        "istio-gateway-host-not-bound",
        E,
        "the ingress gateway {gateway} has no binding for host {host}: {why}; Envoy answers 404 (NR)",
        "{fix_hint}",
        "issue 7 §4",
    ),
    spec(
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
SPECS += (
    spec(
        "dns-name-unknown",
        E,
        "no Service or ServiceEntry answers the name {name}{suggestion}; the client cannot resolve it",
        "use an existing Service name ({closest}), or create the Service / ServiceEntry for {name}",
        "B24 (DNS)",
        planned=False,
    ),
    spec(
        "istio-subset-no-endpoints",
        E,
        "subset {subset} of {host} ({dr}) selects no ready pod (labels {labels}: {why}); Envoy answers 503 "
        "'no healthy upstream' (UH){share}",
        "fix the subset labels in {dr} to match the pods' labels, or deploy that version",
        "issue 11 §2",
    ),
    spec(
        "istio-route-port-unknown",
        E,
        "{vs} routes to {host} port {port}, which that Service does not expose; Envoy answers 503 (NC){share}",
        "set the route destination port to one of the Service's ports ({ports})",
        "issue 11 §2",
    ),
    spec(
        "istio-host-not-exported",
        E,
        "{host} is not visible from namespace {client_ns} ({why}); the client's proxy treats it as unknown",
        'add {client_ns} (or "*") to exportTo on {object}',
        "issue 11 §3",
    ),
    spec(
        "invalid-object",
        E,
        "{object}: the API server would reject it ({field}: {reason}); it does not exist in a real cluster and is "
        "evaluated as absent",
        "correct {field} (value {value}) and apply it again; `kubectl apply --dry-run=server -f FILE` shows "
        "every error the API server finds",
        "contract §7",
    ),
)

SPECS += (
    spec(
        "istio-injection-mismatch",
        W,
        "{what}",
        "{fix_hint}",
        "A6",
    ),
    spec(
        "istio-route-shadowed",
        W,
        "VirtualService {vs} {rule} can never match: {earlier} before it already matches every request it would",
        "move {rule} above {earlier}, or narrow {earlier}'s match: kubectl -n {ns} edit virtualservice {name}",
        "B0.1",
    ),
    spec(
        "istio-gateway-not-found",
        E,
        "VirtualService {vs} binds to Gateway {gateway}, which does not exist: its routes serve nothing there",
        "create the Gateway or fix spec.gateways of {vs} (namespace/name, or mesh for sidecars)",
        "issue 7 §4",
    ),
)

SPECS += (
    spec(
        "istio-authz-unknown-namespace",
        W,
        "AuthorizationPolicy {policy} {rule} names namespace pattern '{pattern}', which matches no namespace: "
        "that entry {effect} (a typo, or a namespace not created yet?)",
        "fix the name in {rule}, or remove it: kubectl -n <ns> edit authorizationpolicy <name>",
        "A5",
    ),
)

SPECS += (
    spec(
        "protocol-declaration",
        W,
        "{what}",
        "{fix_hint}",
        "B5, A1.9",
    ),
)

SPECS += (
    spec(
        "app-uid-1337",
        W,
        "{what}",
        "{fix_hint}",
        "A6",
    ),
)

SPECS += (
    spec(
        "failing-call-objects-allow",
        W,
        "Hubble shows {client} → {server}:{port} failing ({signature}, {flows} flow(s)), but the objects say this "
        "call works: {why}",
        "{fix_hint}",
        "issue 19 (triage), B23",
    ),
)
