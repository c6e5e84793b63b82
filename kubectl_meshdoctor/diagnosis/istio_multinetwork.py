"""A sidecar call across Istio networks (semantics-multicluster.md I4, I6, X1, X2; MB8, MB10, MB11,
MB12, MB14): client@C1 → C2's east-west gateway (port 15443, AUTO_PASSTHROUGH, routed by SNI) →
server@C2. Three legs, each checked where it is enforced:

* client → gateway: the client's DNS (the Service must resolve in C1), C1's egress policy towards the
  gateway's external address (a `world` peer), trust (one root for both clusters);
* world → gateway: C2's ingress policy at the gateway pod on its 15443 target port;
* gateway → server: C2's ingress policy at the server with the gateway pod as peer (the real client
  is invisible to Cilium), then the server sidecar: PeerAuthentication (plaintext endpoints are
  dropped from split-horizon EDS) and AuthorizationPolicy with the client's principal and the
  gateway's IP as source.

What the input cannot show (root CAs without mesh.yaml, client-side routing objects) is `unknown`.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis.istio_multinetwork_hops import (
    Path,
    discovery_hop,
    hop_result,
    server_proxy_hop,
    trust_hop,
    unknown_hop,
)
from kubectl_meshdoctor.diagnosis.istio_network_labels import network_labels_hop
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate
from kubectl_meshdoctor.findings.types import (
    Cause,
    Decision,
    Diagnosis,
    Endpoint,
    Evidence,
    Hop,
    HopResult,
    ObjectRef,
    Request,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import EastWest, dns_capture
from kubectl_meshdoctor.model.objects import Peer, Pod, pod_peer, world_peer


def _denied(hop: Hop, d: CiliumDecision, what: str, leg: str, cluster: Cluster, symptom: Symptom) -> HopResult:
    ref = d.selecting[0] if d.selecting else (d.by[0] if d.by else ObjectRef("CiliumNetworkPolicy", None, "?"))
    cause = Cause(
        "cilium-policy-denied",
        tuple(d.by or d.selecting),
        {"fix_hint": f"allow {what} in {ref.kind} {ref.namespace}/{ref.name} (cluster {cluster.name}; X2)"},
        detail=f"{d.detail} — {what} is dropped in cluster {cluster.name} (istio-mc-eastwest-blocked)",
    )
    return hop_result(
        hop,
        Decision.DENY,
        d.detail,
        leg,
        cluster,
        by=d.by or d.selecting,
        symptom=symptom,
        verdict=Verdict.DENIED,
        causes=(cause,),
    )


def _cilium(hop: Hop, d: CiliumDecision, what: str, leg: str, cluster: Cluster, symptom: Symptom) -> HopResult:
    if d.decision is Decision.DENY and not d.audit:
        return _denied(hop, d, what, leg, cluster, symptom)
    if d.unsure:
        return hop_result(
            hop, Decision.UNKNOWN, d.unsure, leg, cluster, by=d.by, symptom=Symptom.UNKNOWN, verdict=Verdict.UNKNOWN
        )
    return hop_result(hop, Decision.ALLOW, d.detail, leg, cluster, by=d.by)


_SNAT_NODE = Peer(
    labels={},
    reserved=frozenset({"remote-node"}),
    entities=frozenset({"remote-node", "cluster", "all"}),
    ip=None,
    name="a node of the cluster (the load balancer's SNAT)",
    node_ip=True,
)


def _at_gateway(c2: Cluster, gw: EastWest, gw_pod: Pod, leg: str, gaps: list[str]) -> HopResult:
    """X1: the gateway pod sees `world` when the load balancer keeps the client address
    (externalTrafficPolicy: Local); with Cluster it may see a node after SNAT [I, Part D q3]: when the
    two readings differ, the hop is unknown."""
    world = evaluate(c2.model, gw_pod, "ingress", world_peer(None), gw.target_port, "TCP")
    first = _cilium(Hop.CILIUM_INGRESS, world, f"ingress from world on {gw.target_port}", leg, c2, Symptom.HTTP_503)
    if gw.keeps_source:
        return first
    node = evaluate(c2.model, gw_pod, "ingress", _SNAT_NODE, gw.target_port, "TCP")
    if node.decision is world.decision:
        return first
    why = (
        f"east-west gateway {gw_pod.namespace}/{gw_pod.name}@{c2.name}: its Service has no "
        f"externalTrafficPolicy: Local, so the source may be world ({world.decision.value}) or a node after "
        f"SNAT ({node.decision.value})"
    )
    return unknown_hop(Hop.CILIUM_INGRESS, why, leg, c2, gaps)


def walk(p: Path, trust: tuple[str | None, str | None]) -> tuple[list[HopResult], list[str]]:
    """The hops in path order, and the gaps behind the unknown ones."""
    c1, c2, gw = p.client, p.server, p.gateway
    gw_label = (
        f"{gw.service.namespace}/{gw.service.name}@{c2.name}" if gw.service else f"east-west gateway of {c2.name}"
    )
    to_gw = f"{p.client_pod.namespace}/{p.client_pod.workload_name}@{c1.name} → {gw_label}:{gw.port}"
    at_gw = f"world → {gw_label}"
    to_server = f"{gw_label} → {p.server_pod.namespace}/{p.server_pod.name}@{c2.name}"
    hops: list[HopResult] = []
    gaps: list[str] = []
    key = f"{p.service.namespace}/{p.service.name}"
    discovery = discovery_hop(c1, c2, to_gw, gaps)
    if discovery.decision is Decision.BREAK:
        return [discovery], gaps
    labels = network_labels_hop(p, gaps)  # MB9: direct pod IPs instead of the gateway
    if labels is not None and labels.decision is Decision.BREAK:
        return [discovery, labels], gaps
    if gw.problem is not None:
        cause = Cause(
            "istio-mc-eastwest-missing",
            (gw.service.ref(),) if gw.service else (),
            {"network": c2.istio.get("network", "?"), "why": gw.problem},
        )
        hops.append(
            hop_result(
                Hop.RESOLVE,
                Decision.BREAK,
                f"no usable east-west gateway in {c2.name}: {gw.problem}",
                to_gw,
                c1,
                symptom=Symptom.HTTP_503,
                verdict=Verdict.BROKEN,
                causes=(cause,),
            )
        )
        return hops, gaps
    if discovery.decision is Decision.UNKNOWN:
        hops.append(discovery)
    else:
        hops.append(
            hop_result(
                Hop.RESOLVE,
                Decision.ALLOW,
                f"{key} endpoints in network of {c2.name} → east-west gateway {gw.address}:"
                f"{gw.port} ({gw.passthrough}, AUTO_PASSTHROUGH)",
                to_gw,
                c1,
                by=(gw.service.ref(),) if gw.service else (),
            )
        )
    if labels is not None:
        hops.append(labels)
    if key not in c1.model.services and not dns_capture(c1, p.client_pod):
        cause = Cause(
            "istio-mc-service-not-local",
            (p.service.ref(),),
            {"service": key, "cluster": c1.name, "peer_cluster": c2.name},
        )
        hops.append(
            hop_result(
                Hop.DNS,
                Decision.BREAK,
                f"{p.service.name}.{p.service.namespace} does not resolve in {c1.name} (no "
                "Service there, no Istio DNS proxying)",
                to_gw,
                c1,
                symptom=Symptom.DNS_FAILURE,
                verdict=Verdict.BROKEN,
                causes=(cause,),
            )
        )
    else:
        hops.append(
            hop_result(
                Hop.DNS, Decision.ALLOW, f"{p.service.name}.{p.service.namespace} resolves in {c1.name}", to_gw, c1
            )
        )
    egress = evaluate(c1.model, p.client_pod, "egress", world_peer(gw.address), gw.port, "TCP")
    hops.append(_cilium(Hop.CLIENT_EGRESS, egress, f"egress to {gw.address}:{gw.port}", to_gw, c1, Symptom.HTTP_503))
    hops.append(trust_hop(trust, to_gw, c1, c2, gaps))
    routing = [r.ref for r in c1.model.istio.dest_rules] + [v.ref for v in c1.model.traffic.virtual_services]
    if routing:
        why = f"client-side routing of {c1.name} (VirtualService/DestinationRule) is not evaluated across networks"
        hops.append(unknown_hop(Hop.CLIENT_ROUTE, why, to_gw, c1, gaps))
    else:
        hops.append(
            hop_result(
                Hop.CLIENT_ROUTE, Decision.ALLOW, f"no VirtualService or DestinationRule in {c1.name}", to_gw, c1
            )
        )
    gw_pod = next(pd for pd in gw.pods if pd.ready)
    hops.append(_at_gateway(c2, gw, gw_pod, at_gw, gaps))
    inner = evaluate(c2.model, p.server_pod, "ingress", pod_peer(gw_pod, gw_label), p.target_port, "TCP")
    hops.append(
        _cilium(
            Hop.CILIUM_INGRESS,
            inner,
            f"ingress from the east-west gateway on {p.target_port}",
            to_server,
            c2,
            Symptom.HTTP_503,
        )
    )
    if inner.redirect:
        why = f"Cilium L7 rules on {p.server_pod.name}:{p.target_port} would meet Istio mTLS (not evaluated here)"
        hops.append(unknown_hop(Hop.CILIUM_L7, why, to_server, c2, gaps))
    hops.append(server_proxy_hop(p, gw_pod, to_server))
    hops.append(
        hop_result(
            Hop.APP,
            Decision.ALLOW,
            f"port {p.target_port} of {p.server_pod.name}",
            to_server,
            c2,
            by=(p.server_pod.ref(),),
        )
    )
    return hops, gaps


_STEERING = (Hop.RESOLVE, Hop.CLIENT_ROUTE)


def diagnose(
    p: Path, trust: tuple[str | None, str | None], source: Endpoint, destination: Endpoint, request: Request
) -> Diagnosis:
    """The walk's first certain break decides (unless an unknown hop that steers the call comes first);
    hops after it are not reached; no break and an unknown hop: unknown."""
    hops, gaps = walk(p, trust)
    out: list[HopResult] = []
    broken: HopResult | None = None
    steering_unknown = False
    for h in hops:
        if broken is not None:
            out.append(
                replace(h, decision=Decision.SKIP, detail="not reached", by=(), symptom=None, verdict=None, causes=())
            )
            continue
        out.append(h)
        if h.decision is Decision.UNKNOWN and h.hop in _STEERING:
            steering_unknown = True
        if h.decision in (Decision.DENY, Decision.BREAK):
            broken = h
    unknown = any(h.decision is Decision.UNKNOWN for h in out)
    if broken is not None and not steering_unknown:
        verdict, symptom = broken.verdict or Verdict.BROKEN, broken.symptom or Symptom.UNKNOWN
    elif broken is not None or unknown:
        verdict, symptom = Verdict.UNKNOWN, Symptom.UNKNOWN
    else:
        verdict, symptom = Verdict.ALLOWED, Symptom.OK
    causes = [c for h in out for c in h.causes]
    evidence = Evidence(
        "none", summary="Hubble flows are not compared on the multi-network path (through the gateway) yet"
    )
    return Diagnosis(source, destination, request, verdict, symptom, out, causes, evidence, [str(g) for g in gaps])
