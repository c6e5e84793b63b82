"""Per-workload findings: DNS egress (B15) and Services without ready endpoints (B18), both found
by the same hops as explain on one witness call; namespace injection intent vs the pods (A6)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.pairs import Target, is_istio_proxy, probe, representatives
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.findings.types import Cause, Mesh, ObjectRef, Severity
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model


def _dns_target(model: Model, client: Pod) -> Target | None:
    """Any Service the client would call by name: the DNS hop is decided before anything else."""
    svc = model.services.get("kube-system/kube-dns") or next(
        (s for s in model.services_by_ns.get(client.namespace, []) if s.ports), None
    )
    if svc is None or not svc.ports:
        return None
    pods = pods_for_service(model, svc)
    if not pods:
        return None
    return Target(pods[0], svc, svc.ports[0].port, None)


def _dns(model: Model) -> list[Cause]:
    out: list[Cause] = []
    seen: set[tuple[object, ...]] = set()
    for client in representatives(model):
        if not any(r.has_egress_section for r in selecting_rules(model, client)):
            continue  # no egress policy: DNS cannot be blocked by one
        target = _dns_target(model, client)
        result = probe(model, client, target) if target is not None else None
        for cause in result[1] if result else []:
            key = (cause.code, cause.objects, cause.params.get("client"))
            if cause.code == "dns-egress-blocked" and key not in seen:
                seen.add(key)
                out.append(cause)
    return out


def _no_endpoints(model: Model) -> list[Cause]:
    out: list[Cause] = []
    reps = representatives(model)
    if not reps:
        return out
    for svc in sorted(model.services.values(), key=lambda s: (s.namespace, s.name)):
        if not svc.selector or not svc.ports or _has_ready(svc, pods_for_service(model, svc)):
            continue
        client = next((p for p in reps if p.namespace == svc.namespace), reps[0])
        result = probe(model, client, Target(client, svc, svc.ports[0].port, None))
        for cause in result[1] if result else []:
            if cause.code == "no-endpoints":
                out.append(cause)
    return out


def _has_ready(svc: Service, pods: list[Pod]) -> bool:
    if svc.ready_pods is not None:
        return any(p.key() in svc.ready_pods for p in pods)
    return any(p.ready for p in pods)


def _opted_out(pod: Pod) -> bool:
    flag = pod.labels.get("sidecar.istio.io/inject") or pod.annotations.get("sidecar.istio.io/inject")
    return flag == "false"


def _injection(model: Model) -> list[Cause]:
    out: list[Cause] = []
    for name, ns in sorted(model.namespaces.items()):
        labels = ns.labels
        wants = labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels
        ambient = labels.get("istio.io/dataplane-mode") == "ambient"
        if not (wants or ambient or labels.get("istio-injection") == "disabled"):
            continue  # no injection intent to hold the pods against
        # running pods only: injection happens at admission, so a pod template (a manifest repo) or a pod
        # not yet scheduled says nothing about what the webhook did
        # Istio's own proxies (waypoints, gateways, ztunnel) run istio-proxy as the app: not a sidecar
        pods = [
            p
            for p in model.pods_by_ns.get(name, [])
            if not p.host_network and (p.ip or p.node) and not is_istio_proxy(p)
        ]
        if wants:
            missing = [p for p in pods if not p.has_sidecar() and not _opted_out(p)]
            if missing:
                names = ", ".join(p.name for p in missing[:5]) + (" …" if len(missing) > 5 else "")
                what = (
                    f"namespace {name} is labelled for sidecar injection but {len(missing)} pod(s) run without "
                    f"istio-proxy ({names}): created before the label or the webhook was unreachable; they send "
                    "plaintext and STRICT servers reset them"
                )
                fix = f"restart them so the webhook injects the proxy: kubectl -n {name} rollout restart deploy"
                refs = (ns_ref(model, name), *(p.ref() for p in missing[:5]))
                out.append(Cause("istio-injection-mismatch", refs, {"what": what, "fix_hint": fix}))
        if labels.get("istio-injection") == "disabled":
            extra = [p for p in pods if p.has_sidecar()]
            if extra:
                what = (
                    f"namespace {name} has istio-injection=disabled but {len(extra)} pod(s) still carry istio-proxy "
                    f"({', '.join(p.name for p in extra[:5])}): they stay in the mesh until restarted"
                )
                fix = f"kubectl -n {name} rollout restart deploy   (or keep them on purpose with a pod-level label)"
                refs = (ns_ref(model, name), *(p.ref() for p in extra[:5]))
                out.append(Cause("istio-injection-mismatch", refs, {"what": what, "fix_hint": fix}))
        if ambient:
            both = [p for p in pods if p.has_sidecar()]
            if both:
                what = (
                    f"namespace {name} is ambient but {len(both)} pod(s) also have a sidecar "
                    f"({', '.join(p.name for p in both[:5])}): ztunnel leaves them to their sidecar, so calls to and "
                    "from them mix sidecar mTLS and HBONE (ports 15006 vs 15008 for Cilium policies)"
                )
                fix = (
                    f"pick one data plane: kubectl label ns {name} istio-injection-  (or dataplane-mode-), then restart"
                )
                refs = (ns_ref(model, name), *(p.ref() for p in both[:5]))
                out.append(
                    Cause("istio-injection-mismatch", refs, {"what": what, "fix_hint": fix}, severity=Severity.INFO)
                )
    return out


def ns_ref(model: Model, name: str) -> ObjectRef:
    ns = model.namespaces.get(name)
    return ObjectRef("Namespace", None, name, origin=ns.origin if ns else None)


DNS = Check(
    "cilium.DNSEgress",
    "clients whose egress policy does not allow kube-dns on port 53",
    ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy", "Pod", "Namespace", "Service"),
    _dns,
)
NO_ENDPOINTS = Check(
    "k8s.ServiceEndpoints",
    "Services whose selector matches no ready pod",
    ("Service", "Pod", "EndpointSlice"),
    _no_endpoints,
)
INJECTION = Check(
    "istio.Injection",
    "namespace injection / ambient labels vs the proxies the pods actually run",
    ("Namespace", "Pod"),
    _injection,
)


def _uid_1337(model: Model) -> list[Cause]:
    """B24 / A6: a sidecar pod's app running as UID 1337 is the proxy as far as iptables can tell, so its
    traffic skips the sidecar: no mTLS, no routing rules, no telemetry (istioctl IST0144)."""
    out: list[Cause] = []
    for pod in representatives(model):
        if not pod.uid_1337 or model.pod_mesh(pod)[0] is not Mesh.SIDECAR:
            continue
        what = (
            f"{pod.namespace}/{pod.workload_name or pod.name}: container(s) {', '.join(pod.uid_1337)} run as UID "
            "1337, the sidecar's own UID; istio-init's iptables rules let that UID's traffic bypass the sidecar "
            "(plaintext to STRICT servers is reset, identity-based AuthorizationPolicies never match it)"
        )
        fix = "run the app as another user: set securityContext.runAsUser (pod and containers) to anything but 1337"
        out.append(
            Cause(
                "app-uid-1337",
                (pod.ref().with_rule("spec.securityContext.runAsUser"),),
                {"what": what, "fix_hint": fix},
            )
        )
    return out


UID_1337 = Check(
    "istio.ApplicationUID",
    "sidecar pods whose app containers run as UID 1337 (traffic bypasses the proxy)",
    ("Pod", "Namespace"),
    _uid_1337,
)
