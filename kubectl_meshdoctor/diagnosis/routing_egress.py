"""Where the client's sidecar sends what it has no route for (issue 7, B24 step 4): a Sidecar
`egress.hosts` scope, outboundTrafficPolicy REGISTRY_ONLY (BlackHoleCluster, 502) or ALLOW_ANY
(PassthroughCluster), and ServiceEntries, including ones exportTo hides (issue 11 §3)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import routing_fixes, visibility
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.istio_traffic import SidecarScope

HOP = Hop.CLIENT_ROUTE


def _skip(detail: str) -> HopResult:
    return HopResult(HOP, Decision.SKIP, (), detail)


def _break(by: tuple[ObjectRef, ...], detail: str, symptom: Symptom, cause: Cause) -> HopResult:
    return HopResult(HOP, Decision.BREAK, by, detail, symptom, Verdict.BROKEN, (cause,))


def egress_policy(call: Call) -> tuple[str, ObjectRef | None, SidecarScope | None]:
    m = call.model
    scope = rt.sidecar_for(m.traffic, call.client.labels, call.client.namespace, m.istio.mesh.root_namespace)
    if scope is not None and scope.outbound_policy:
        return scope.outbound_policy, scope.ref.with_rule("outboundTrafficPolicy"), scope
    ref = m.traffic.outbound_ref
    return m.traffic.outbound_policy, ref.with_rule("data.mesh.outboundTrafficPolicy") if ref else None, scope


def egress_scope(call: Call, host: str, host_ns: str) -> HopResult | None:
    policy, policy_ref, scope = egress_policy(call)
    if scope is None or rt.egress_allows(scope, host, host_ns, call.client.namespace) is not None:
        return None
    hosts = ", ".join(scope.egress_hosts or ())
    ref = scope.ref.with_rule("egress[].hosts")
    if policy != "REGISTRY_ONLY":
        detail = f"{scope.ref.key()} egress.hosts [{hosts}] hides {host}: ALLOW_ANY passes it through untouched"
        return HopResult(HOP, Decision.ALLOW, (ref,), detail + " (no routing rules, no mTLS origination)")
    why = f"Sidecar {scope.ref.namespace}/{scope.ref.name} egress.hosts [{hosts}] does not import {host}"
    fix = routing_fixes.sidecar_scope_fix(scope, host, host_ns)
    cause = Cause("istio-egress-registry-only", (ref,), {"why": why, "host": host, "fix_hint": fix})
    return _break(
        (ref,) + ((policy_ref,) if policy_ref else ()), why + " → BlackHoleCluster 502", Symptom.HTTP_502, cause
    )


def external(call: Call) -> HopResult:
    dst = call.dst
    policy, policy_ref, scope = egress_policy(call)
    entry = rt.service_entry_for(call.model.traffic, dst.dns_name, dst.external_ip, call.client.namespace)
    if entry is not None:
        host = dst.dns_name or (entry.hosts[0] if entry.hosts else dst.label)
        if (
            scope is not None
            and rt.egress_allows(scope, host, entry.ref.namespace or "", call.client.namespace) is None
        ):
            return egress_scope(call, host, entry.ref.namespace or "") or _skip("")
        return HopResult(HOP, Decision.ALLOW, (entry.ref,), f"{entry.ref.key()} registers {dst.label}")
    hidden = rt.service_entry_for(call.model.traffic, dst.dns_name, dst.external_ip, call.client.namespace, True)
    if hidden is not None and policy == "REGISTRY_ONLY":
        cause = visibility.entry_cause(call.model.traffic, hidden, dst.label, call.client.namespace)
        why = f"{cause.params['why']}: {dst.label} is unknown to the sidecar in {call.client.namespace}"
        symptom = Symptom.HTTP_502 if call.http else Symptom.RESET
        return _break(cause.objects, why + "; REGISTRY_ONLY → BlackHoleCluster", symptom, cause)
    if policy != "REGISTRY_ONLY":
        return HopResult(HOP, Decision.ALLOW, (), f"{dst.label} is not in the registry; ALLOW_ANY: PassthroughCluster")
    where = "the Sidecar" if policy_ref is not None and policy_ref.kind == "Sidecar" else "the mesh config"
    why = f"outboundTrafficPolicy is REGISTRY_ONLY ({where}) and no ServiceEntry registers {dst.label}"
    fix = routing_fixes.registry_only_fix(dst.dns_name, dst.external_ip, call.port, call.client.namespace, call.http)
    refs = (policy_ref,) if policy_ref else ()
    cause = Cause("istio-egress-registry-only", refs, {"why": why, "host": dst.label, "fix_hint": fix})
    symptom = Symptom.HTTP_502 if call.http else Symptom.RESET
    return _break(refs, why + " → BlackHoleCluster", symptom, cause)
