"""The waypoint hop (issue 11 §1, A5, A6): the waypoint terminates the client's HBONE, applies the
destination's L7 policy (AuthorizationPolicies bound with ``targetRefs``: Service, ServiceEntry,
the waypoint Gateway, GatewayClass istio-waypoint) with HTTP attributes, and opens a new HBONE
connection to the server under its own identity. A waypoint that is missing or has no ready pod
cannot take the connection the client's ztunnel hands it."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.fixes import to_yaml
from kubectl_meshdoctor.engines.istio_authz import Conn, decide, waypoint_policies
from kubectl_meshdoctor.engines.istio_waypoint import WaypointBinding
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, Mesh, Symptom, Verdict

HOP = Hop.WAYPOINT


def _missing(call: Call, wp: WaypointBinding) -> HopResult:
    by = (wp.enrolled_by, wp.ref)
    if not wp.in_view:
        call.gaps.append(f"waypoint {wp.label}: namespace {wp.namespace} is not in this view")
        detail = f"{wp.enrolled_by.key()} names waypoint {wp.label}, whose namespace is not in this view"
        return HopResult(HOP, Decision.UNKNOWN, by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
    why = (
        f" (the waypoint named by istio.io/use-waypoint on {wp.enrolled_by.kind} "
        f"{wp.enrolled_by.namespace + '/' if wp.enrolled_by.namespace else ''}{wp.enrolled_by.name}: {wp.problem})"
    )
    cause = Cause(
        "no-endpoints",
        by,
        {"service": wp.label, "why": why, "ns": wp.namespace, "name": wp.name},
    )
    detail = (
        f"{wp.problem}: the client's ztunnel has no waypoint to hand the connection to; the client is expected to "
        "see the connection reset or time out [uncertain]"
    )
    return HopResult(HOP, Decision.BREAK, by, detail, Symptom.RESET, Verdict.BROKEN, (cause,))


def _allow_yaml(wp: WaypointBinding, service: str | None, principal: str, call: Call) -> str:
    """An ALLOW policy bound like the waypoint's own policies: to the Service (service traffic) or the
    waypoint Gateway (workload traffic), keyed on the caller's identity and this request (A5)."""
    target = (
        {"kind": "Service", "group": "", "name": service}
        if service
        else {"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": wp.name}
    )
    ns = call.dst.namespace if service else wp.namespace
    q = call.query
    rule = {
        "from": [{"source": {"principals": [principal]}}],
        "to": [{"operation": {"methods": [q.method], "paths": [q.path]}}],
    }
    return to_yaml(
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": f"allow-{call.client.namespace}-{call.client.service_account}", "namespace": ns},
            "spec": {"targetRefs": [target], "action": "ALLOW", "rules": [rule]},
        }
    )


def waypoint_hop(call: Call) -> HopResult:
    wp = call.waypoint
    if wp is None:
        return HopResult(HOP, Decision.SKIP, (), "no waypoint on this path")
    if wp.problem or not wp.in_view:
        return _missing(call, wp)
    svc = call.svc if wp.traffic == "service" else None
    policies = waypoint_policies(
        call.model, wp.namespace, wp.name, svc.namespace if svc else call.dst.namespace, svc.name if svc else None
    )
    model, client = call.model, call.client
    principal = f"{model.istio.mesh.trust_domain}/ns/{client.namespace}/sa/{client.service_account}"
    conn = Conn(
        mtls=True,
        principal=principal,
        namespace=client.namespace,
        source_ip=client.ip,
        port=call.target_port or call.port,
        http=call.http,
        method=call.query.method,
        path=call.query.path,
        host=call.request.host,
        headers=tuple((k.lower(), v) for k, v in call.request.headers.items()),
    )
    hedge = (
        " (a sidecar client sending to a waypoint: expected [uncertain])" if call.client_mesh is Mesh.SIDECAR else ""
    )
    lead = f"waypoint {wp.label} ({wp.traffic} traffic, enrolled by {wp.enrolled_by.key()}){hedge}"
    result = decide(policies, conn)
    if result.decision is Decision.UNKNOWN:
        return HopResult(HOP, Decision.UNKNOWN, result.by, f"{lead}: {result.detail}", Symptom.UNKNOWN, Verdict.UNKNOWN)
    if result.decision is Decision.DENY:
        http = call.http
        reason = f"{result.detail}: waypoint {wp.label} rejects {call.src.label} " + (
            "with 403 'RBAC: access denied'" if http else "by closing the connection"
        )
        ref = result.by[0]
        hint = (
            f"add an ALLOW rule for {principal} ({call.query.method} {call.query.path}) to "
            f"AuthorizationPolicy {ref.namespace}/{ref.name}: kubectl -n {ref.namespace} edit authorizationpolicy "
            f"{ref.name}   (or remove the matching DENY rule)"
        )
        fix_yaml = "" if result.deny_rule else _allow_yaml(wp, svc.name if svc else None, principal, call)
        if fix_yaml:
            hint += "\nor apply:\n" + fix_yaml
        cause = Cause("istio-authz-denied", result.by, {"reason": reason, "fix_hint": hint, "fix_yaml": fix_yaml})
        symptom = Symptom.HTTP_403 if http else Symptom.RESET
        return HopResult(HOP, Decision.DENY, result.by, f"{lead}: {result.detail}", symptom, Verdict.DENIED, (cause,))
    detail = f"{lead}: {result.detail}; then a new HBONE connection to {call.dst.label} under the waypoint's identity"
    return HopResult(HOP, Decision.ALLOW, result.by, detail)
