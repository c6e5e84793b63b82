"""Issue 11 §3: a host that ``exportTo`` hides from the client's namespace is unknown to the
client's proxy. Called directly (a Service hidden by its networking.istio.io/exportTo annotation
or the mesh default), the sidecar treats the ClusterIP like any unknown address: with
REGISTRY_ONLY it goes to BlackHoleCluster (502); with ALLOW_ANY it is passed through untouched
(PassthroughCluster: no routing rules, no mTLS origination). As a route destination, Envoy has no
cluster for it (503 NC)."""

from __future__ import annotations

from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.istio_mtls import ClientTLS
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Severity, Symptom, Verdict
from kubectl_meshdoctor.model.istio_export import describe, effective
from kubectl_meshdoctor.model.istio_traffic import ServiceEntry, TrafficObjects, VirtualService
from kubectl_meshdoctor.model.objects import Service

HOP = Hop.CLIENT_ROUTE


def service_cause(traffic: TrafficObjects, svc: Service, client_ns: str, severity: Severity | None = None) -> Cause:
    export = effective(svc.export_to, "Service", traffic.default_export)
    why = f"Service {svc.namespace}/{svc.name} has {describe(export, bool(svc.export_to))}"
    params = {"host": rt.service_host(svc), "client_ns": client_ns, "why": why}
    params["object"] = (
        f"Service {svc.namespace}/{svc.name} (annotation networking.istio.io/exportTo)"
        if svc.export_to
        else "the Service (annotation networking.istio.io/exportTo), or defaultServiceExportTo in the mesh config"
    )
    ref = svc.ref().with_rule("metadata.annotations[networking.istio.io/exportTo]")
    return Cause("istio-host-not-exported", (ref,), params, severity=severity)


def entry_cause(traffic: TrafficObjects, se: ServiceEntry, host: str, client_ns: str) -> Cause:
    export = effective(se.export_to, "ServiceEntry", traffic.default_export)
    key = f"{se.ref.namespace}/{se.ref.name}"
    params = {
        "host": host,
        "client_ns": client_ns,
        "why": f"ServiceEntry {key} has {describe(export, bool(se.export_to))}",
    }
    params["object"] = f"ServiceEntry {key} (spec.exportTo)"
    return Cause("istio-host-not-exported", (se.ref.with_rule("spec.exportTo"),), params)


def hidden_service(
    traffic: TrafficObjects, svc: Service, client_ns: str, policy: str, policy_ref: ObjectRef | None
) -> tuple[HopResult, ClientTLS | None]:
    """The routing hop for a sidecar client calling a Service it cannot see; the TLS it then sends
    (passthrough = plaintext) when the call goes on."""
    host = rt.service_host(svc)
    if policy == "REGISTRY_ONLY":
        cause = service_cause(traffic, svc, client_ns)
        refs = cause.objects + ((policy_ref,) if policy_ref else ())
        detail = f"{cause.params['why']}: {host} is unknown to the sidecar in {client_ns}; REGISTRY_ONLY → 502"
        return HopResult(HOP, Decision.BREAK, refs, detail, Symptom.HTTP_502, Verdict.BROKEN, (cause,)), None
    cause = service_cause(traffic, svc, client_ns, Severity.WARNING)
    detail = (
        f"{cause.params['why']}: {host} is unknown to the sidecar in {client_ns}; ALLOW_ANY passes the "
        "connection through untouched (no routing rules, no mTLS origination: plaintext)"
    )
    tls = ClientTLS("plaintext", f"{host} is not exported to {client_ns}: the sidecar passes it through", (), None)
    return HopResult(HOP, Decision.ALLOW, cause.objects, detail, causes=(cause,)), tls


def hidden_objects(traffic: TrafficObjects, kind: str, host: str, client_ns: str) -> list[str]:
    """VirtualServices / DestinationRules for host that exportTo hides from client_ns, described
    ("VirtualService blue/httpbin (exportTo [.])"), so an answer can say why they do not apply."""
    out = []
    items = traffic.virtual_services if kind == "VirtualService" else traffic.traffic_rules
    for obj in items:
        ns = obj.ref.namespace or "default"
        hosts = obj.hosts if isinstance(obj, VirtualService) else (obj.host,)
        if not any(rt.host_matches(rt.fqdn(h, ns), host) for h in hosts):
            continue
        if rt.visible(obj.export_to, ns, client_ns, kind, traffic.default_export):
            continue
        export = effective(obj.export_to, kind, traffic.default_export)
        out.append(f"{kind} {ns}/{obj.ref.name} ({describe(export, bool(obj.export_to))})")
    return out
