"""Cause codes of calls that cross clusters (issue 21; semantics-multicluster.md Part B, MB1-MB20).
Codes the diagnosis does not produce yet are listed as planned, so that nobody reuses their names."""

from __future__ import annotations

from kubectl_meshdoctor.findings.cause_spec import INFO, CauseSpec, E, W, spec

SPECS: tuple[CauseSpec, ...] = (
    spec(
        "clustermesh-policy-local-cluster",
        E,
        "{rule} in cluster {cluster} would admit this peer, but its selector names no cluster and {option} is "
        "on ({why}): it matches only peers of {cluster}, and the peer runs in {peer_cluster}",
        "add `matchExpressions: [{{key: {key}, operator: In, values: [{peer_cluster}]}}]` to that peer "
        'selector (operator Exists: any cluster); the cluster-wide revert `{option}: "false"` in '
        "{cluster}'s cilium-config is deprecated",
        "semantics-multicluster MB1 (M4.1)",
    ),
    spec(
        "clustermesh-cluster-entity-local",
        E,
        "{rule} in cluster {cluster} allows the `cluster` entity, which covers only {cluster}'s own pods and "
        "nodes; the peer is a pod of {peer_cluster}",
        "select the peer with toEndpoints/fromEndpoints carrying `{key}: {peer_cluster}` (or the entity `all`, "
        "which is broad)",
        "semantics-multicluster MB2 (M4.2)",
    ),
    spec(
        "clustermesh-global-service-missing",
        E,
        "{reason}",
        "{fix_hint}",
        "semantics-multicluster MB6 (M5)",
    ),
    spec(
        "clustermesh-remote-unreachable",
        E,
        "cluster {cluster} is not connected ({why}): agents keep its last known endpoints and identities, so calls "
        "to its pods may time out and its new pods are unknown",
        "restore 2379/TCP reachability and certificates of the clustermesh-apiserver "
        "(`cilium-dbg troubleshoot clustermesh`); consider clustermesh.cacheTTL",
        "semantics-multicluster MB5 (M6)",
    ),
    spec(
        "clustermesh-misconfigured",
        E,
        "{reason}",
        "give every cluster a unique cluster-name and cluster-id at install (restart workloads after a change), "
        "non-overlapping pod CIDRs and the same max-connected-clusters",
        "semantics-multicluster MB4 (M1, M8)",
    ),
    spec(
        "clustermesh-istio-view-mismatch",
        W,
        "Cilium load-balances {service} across clusters, but Istio's view of the mesh differs ({why}); mesh "
        "clients likely ignore Cilium's global Service (inferred)",
        "make Istio's multicluster view match (remote secrets, no clusterLocal for the host), or expect mesh "
        "clients to stay local",
        "semantics-multicluster MB18 (X3)",
    ),
    spec(
        "clustermesh-remote-node-peer",
        E,
        "{rule} in cluster {cluster} does not admit remote-node: the caller runs on the host network of "
        "{peer_cluster}, so Cilium in {cluster} sees it as remote-node, which no pod selector matches",
        "allow `fromEntities: [remote-node]` (every node of every cluster), or `fromNodes` with "
        "`{key}: {peer_cluster}` (needs enable-node-selector-labels; from Cilium 1.19 a node selector without "
        "the key matches local nodes only)",
        "semantics-multicluster MB20",
    ),
    spec(
        "istio-mc-no-remote-secret",
        E,
        "istiod of {cluster} has no view of {peer_cluster} (remote secret missing or broken)",
        "istioctl create-remote-secret --context=<{peer_cluster}> --name={peer_cluster} | kubectl apply -f - "
        "--context=<{cluster}>",
        "semantics-multicluster MB7",
    ),
    spec(
        "istio-mc-eastwest-missing",
        E,
        "network {network} has no usable east-west gateway ({why})",
        "install the gateway (gen-eastwest-gateway.sh --network {network}), apply expose-services.yaml, give its "
        "Service a reachable address",
        "semantics-multicluster MB8",
    ),
    spec(
        "istio-mc-network-mislabeled",
        E,
        "{why}: istiod sends direct pod IPs across networks",
        "label istio-system with topology.istio.io/network, set values.global.network, restart the pods",
        "semantics-multicluster MB9",
    ),
    spec(
        "istio-mc-trust-mismatch",
        E,
        "clusters {cluster} and {peer_cluster} do not share a root of trust ({why}); the client sidecar fails TLS "
        "verification (503)",
        "plug in intermediates signed by one root in every cluster, or configure a multi-root trust bundle with "
        "trustDomainAliases",
        "semantics-multicluster MB11",
    ),
    spec(
        "istio-mc-plaintext-remote",
        E,
        "{service} endpoints in {peer_cluster} would receive plaintext, so split-horizon EDS drops them",
        "keep Istio mTLS for services called across networks",
        "semantics-multicluster MB12",
    ),
    spec(
        "istio-mc-cluster-local",
        INFO,
        "{host} is cluster-local in {cluster}'s mesh config: requests stay in {cluster}",
        "add a serviceSettings entry with clusterLocal: false for {host}",
        "semantics-multicluster MB13",
    ),
    spec(
        "istio-mc-service-not-local",
        E,
        "Service {service} exists only in {peer_cluster}; a client in {cluster} cannot resolve its name",
        "create the Service (its selector may match nothing) in {cluster}, or enable Istio DNS proxying",
        "semantics-multicluster MB14",
    ),
    spec(
        "istio-ambient-mc-unsupported",
        E,
        "ambient multicluster outside its support envelope ({why})",
        "use multi-primary multi-network with uniform waypoints (Istio ≥1.27)",
        "semantics-multicluster MB15",
    ),
    spec(
        "istio-mc-locality",
        INFO,
        "locality load balancing likely keeps requests in {cluster} while its endpoints are healthy",
        "none needed; add outlierDetection or failoverPriority to fail over",
        "semantics-multicluster MB17",
    ),
    spec(
        "flows-cluster-gap",
        W,
        "flows of cluster {cluster} are missing ({why}): no drop seen there proves nothing",
        "share the Hubble CA and open 4244/TCP between clusters, or capture each cluster's Relay",
        "semantics-multicluster MB19",
    ),
)
