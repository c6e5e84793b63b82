"""Hops of the multi-network sidecar path (diagnosis/istio_multinetwork.py): trust between the clusters
(I6) and the server sidecar reached through the east-west gateway (I4 case 5, I7)."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.istio_mc_authz import gateway_ip_cause
from kubectl_meshdoctor.engines.istio_authz import Conn
from kubectl_meshdoctor.engines.istio_authz import evaluate as authz
from kubectl_meshdoctor.engines.istio_mtls import effective_pa
from kubectl_meshdoctor.findings.types import Cause, Decision, Gap, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.eastwest import EastWest
from kubectl_meshdoctor.model.objects import Pod, Service


@dataclass(frozen=True, slots=True)
class Path:
    client: Cluster
    server: Cluster
    client_pod: Pod
    server_pod: Pod
    service: Service
    port: int
    target_port: int
    gateway: EastWest
    http: bool
    method: str
    path: str


def hop_result(
    hop: Hop,
    decision: Decision,
    detail: str,
    leg: str | None,
    cluster: Cluster,
    by: tuple[ObjectRef, ...] = (),
    symptom: Symptom | None = None,
    verdict: Verdict | None = None,
    causes: tuple[Cause, ...] = (),
    gaps: tuple[str, ...] = (),
) -> HopResult:
    return HopResult(
        hop,
        decision,
        by,
        detail,
        symptom=symptom,
        verdict=verdict,
        causes=causes,
        gaps=gaps,
        leg=leg,
        cluster=cluster.name,
    )


def unknown_hop(hop: Hop, why: str, leg: str | None, cluster: Cluster, gaps: list[str]) -> HopResult:
    """A hop the input cannot decide: its gap joins the answer's gaps and the hop says it."""
    gap = Gap(why, {"*"})
    gaps.append(gap)
    return hop_result(
        hop, Decision.UNKNOWN, f"cannot decide: {gap}", leg, cluster, symptom=Symptom.UNKNOWN,
        verdict=Verdict.UNKNOWN, gaps=(str(gap),),
    )  # fmt: skip


def trust_hop(
    trust: tuple[str | None, str | None], leg: str | None, c1: Cluster, c2: Cluster, gaps: list[str]
) -> HopResult:
    """I6: one root for both clusters. cacerts Secrets are never read; mesh.yaml ``rootCA`` says it."""
    mine, theirs = trust
    if mine is None or theirs is None:
        why = (
            f"the roots of trust of {c1.name} and {c2.name} are unknown (cacerts Secrets are not read; give each "
            "cluster's rootCA fingerprint in mesh.yaml)"
        )
        return unknown_hop(Hop.CLIENT_PROXY, why, leg, c1, gaps)
    if mine != theirs:
        why = f"rootCA {mine} in {c1.name}, {theirs} in {c2.name}"
        cause = Cause("istio-mc-trust-mismatch", (), {"cluster": c1.name, "peer_cluster": c2.name, "why": why})
        return hop_result(
            Hop.CLIENT_PROXY,
            Decision.BREAK,
            f"mTLS across clusters fails: {why}",
            leg,
            c1,
            symptom=Symptom.HTTP_503,
            verdict=Verdict.BROKEN,
            causes=(cause,),
        )
    return hop_result(Hop.CLIENT_PROXY, Decision.ALLOW, f"sidecar mTLS through the gateway (one root: {mine})", leg, c1)


def server_proxy_hop(p: Path, gw_pod: Pod, leg: str) -> HopResult:
    c1, c2 = p.client, p.server
    pa = effective_pa(c2.model, p.server_pod, p.target_port)
    if pa.mode == "DISABLE":
        cause = Cause(
            "istio-mc-plaintext-remote",
            pa.by,
            {"service": f"{p.service.namespace}/{p.service.name}", "peer_cluster": c2.name},
        )
        return hop_result(
            Hop.SERVER_PROXY,
            Decision.BREAK,
            f"{pa.detail}: split-horizon EDS drops endpoints that would get plaintext across networks (503 UH)",
            leg,
            c2,
            by=pa.by,
            symptom=Symptom.HTTP_503,
            verdict=Verdict.BROKEN,
            causes=(cause,),
        )
    domain = c1.istio.get("trustDomain") or c1.model.istio.mesh.trust_domain
    principal = f"{domain}/ns/{p.client_pod.namespace}/sa/{p.client_pod.service_account}"
    conn = Conn(
        True,
        principal,
        p.client_pod.namespace,
        gw_pod.ip,
        p.target_port,
        p.http,
        p.method,
        p.path,
        f"{p.service.name}.{p.service.namespace}",
    )
    result = authz(c2.model, p.server_pod, conn, False)
    if result.decision is Decision.DENY:
        detail = f"{result.detail} (principal {principal}; source IP = the east-west gateway {gw_pod.ip})"
        cause = gateway_ip_cause(c2, p.server_pod, conn, result, p.client_pod, gw_pod, c1) or Cause(
            "istio-authz-denied", result.by, {"reason": detail, "fix_hint": "allow the client's principal"}
        )
        return hop_result(
            Hop.SERVER_PROXY,
            Decision.DENY,
            detail,
            leg,
            c2,
            by=result.by,
            symptom=Symptom.HTTP_403 if p.http else Symptom.RESET,
            verdict=Verdict.DENIED,
            causes=(cause,),
        )
    return hop_result(Hop.SERVER_PROXY, Decision.ALLOW, f"{pa.detail}; {result.detail}", leg, c2, by=result.by)


def discovery_hop(c1: Cluster, c2: Cluster, leg: str | None, gaps: list[str]) -> HopResult:
    """I2/I3 (MB7): the client's istiod learns the server cluster's endpoints only through a remote
    secret, which is never read. mesh.yaml ``istioRemoteClusters`` (what `istioctl remote-clusters`
    shows synced) says it; absent, unknown."""
    listed = c1.istio.get("istioRemoteClusters")
    if listed is None:
        why = (
            f"whether istiod of {c1.name} reads {c2.name} (its remote secret) is unknown: Secrets are not read; list "
            f"istioRemoteClusters for {c1.name} in mesh.yaml (istioctl remote-clusters)"
        )
        return unknown_hop(Hop.RESOLVE, why, leg, c1, gaps)
    names = {n.strip() for n in listed.split(",") if n.strip()}
    if not names & set(c2.names):
        why = f"mesh.yaml: istioRemoteClusters of {c1.name} is {listed or 'empty'}"
        cause = Cause("istio-mc-no-remote-secret", (), {"cluster": c1.name, "peer_cluster": c2.name, "why": why})
        return hop_result(
            Hop.RESOLVE, Decision.BREAK, f"istiod of {c1.name} has no view of {c2.name} ({why}): no endpoint there",
            leg, c1, symptom=Symptom.HTTP_503, verdict=Verdict.BROKEN, causes=(cause,),
        )  # fmt: skip
    return hop_result(Hop.RESOLVE, Decision.ALLOW, f"istiod of {c1.name} reads {c2.name}", leg, c1)
