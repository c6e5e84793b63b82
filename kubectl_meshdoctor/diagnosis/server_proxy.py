"""The server side of Istio (B24 step 7): PeerAuthentication vs what the client sends
(B8-B10), then AuthorizationPolicy (B11-B14) at the sidecar or ztunnel."""

from __future__ import annotations

import ipaddress

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.inputs import MEMBERSHIP
from kubectl_meshdoctor.engines.istio_authz import Conn
from kubectl_meshdoctor.engines.istio_authz import evaluate as authz_evaluate
from kubectl_meshdoctor.engines.istio_mtls import effective_pa
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, Mesh, Symptom, Verdict


def _conflict(call: Call, server_state: str, hint: str) -> HopResult:
    dr = call.tls.dr_ref
    by = ((dr,) if dr else ()) + (call.pa.by if call.pa else ())
    cause = Cause(
        "istio-mtls-conflict",
        by,
        {
            "client": call.src.label,
            "dr": f"{dr.namespace}/{dr.name}" if dr else "(auto-mTLS)",
            "tls_mode": call.tls.dr_mode or call.tls.payload,
            "server": call.dst.label,
            "server_state": server_state,
            "fix_hint": hint,
        },
    )
    detail = f"client sends {call.tls.payload} ({call.tls.detail}), but {call.dst.label} {server_state}"
    return HopResult(Hop.SERVER_PROXY, Decision.BREAK, by, detail, Symptom.HTTP_503, Verdict.BROKEN, (cause,))


def _dr_fix(call: Call, mode: str) -> str:
    dr = call.tls.dr_ref
    if dr is None:
        return f"add a DestinationRule for {call.dst.dns_name or call.dst.label} with trafficPolicy.tls.mode: {mode}"
    return (
        f"kubectl -n {dr.namespace} edit destinationrule {dr.name}   # set {dr.rule}.mode: {mode} "
        "(or delete the tls block for auto-mTLS)"
    )


def _socket_lb_bypass(call: Call) -> str:
    """B19: a sidecar client dialing a Service while socket LB runs in the pod namespace."""
    cfg = call.model.cilium_config
    if call.client_mesh is not Mesh.SIDECAR or call.svc is None or not cfg.present:
        return ""
    on, why = cfg.socket_lb
    return why if on and not cfg.socket_lb_hostns_only else ""


def _direct_pod_ip(call: Call) -> bool:
    """A sidecar client dialing a pod IP, not a Service: the sidecar sees direct pod-IP traffic, as
    when socket LB translates the address before it (B19): routing, and possibly mTLS, are bypassed."""
    if call.client_mesh is not Mesh.SIDECAR or call.svc is not None:
        return False
    try:
        ipaddress.ip_address(call.query.destination.strip())
    except ValueError:
        return False
    return True


def auto_mtls_unsure(call: Call) -> str | None:
    """A4 [I] / D4: a sidecar client on auto-mTLS (no DestinationRule tls) infers the server's mode
    from namespace/mesh PeerAuthentication only. When a workload- or port-level PA makes the
    sidecar server DISABLE, whether the client still sends Istio mTLS is version-dependent."""
    if call.server is None or call.client_mesh is not Mesh.SIDECAR or call.server_mesh is not Mesh.SIDECAR:
        return None
    if call.tls.payload != "istio-mtls" or call.tls.dr_mode is not None:
        return None
    pa = effective_pa(call.model, call.server, call.target_port)
    if pa.mode != "DISABLE":
        return None
    return (
        f"{pa.detail}, while the client's auto-mTLS reads only namespace/mesh PeerAuthentication and would "
        "send Istio mTLS; whether Istio also honours a workload/port-level DISABLE for auto-mTLS (then the "
        "client sends plaintext) is version-dependent [uncertain]; if it does not, the client sidecar answers 503"
    )


def server_proxy(call: Call) -> HopResult:
    server = call.server
    if server is None:
        return HopResult(Hop.SERVER_PROXY, Decision.SKIP, (), "destination outside the cluster")
    payload = call.tls.payload
    if call.server_mesh is Mesh.NONE:
        if payload in ("istio-mtls", "tls") and call.tls.dr_mode:
            return _conflict(
                call,
                "has no sidecar and is not ambient, so nothing terminates the TLS",
                _dr_fix(call, "DISABLE"),
            )
        return HopResult(
            Hop.SERVER_PROXY,
            Decision.SKIP,
            (),
            f"{call.dst.label} is not in the mesh ({call.server_mesh_why})",
            reads=MEMBERSHIP,
        )
    port = call.target_port
    pa = effective_pa(call.model, server, port)
    call.pa = pa
    sidecar = call.server_mesh is Mesh.SIDECAR
    proxy = "sidecar" if sidecar else "ztunnel"
    mode = pa.mode
    notes: list[str] = [pa.detail]
    if not sidecar and mode == "DISABLE":
        notes.append("ztunnel ignores DISABLE (HBONE is always mTLS)")
        mode = "PERMISSIVE"
    mtls_in = payload in ("istio-mtls", "hbone")
    bypass = _socket_lb_bypass(call)
    if mode == "STRICT" and mtls_in and bypass:
        detail = (
            f"{pa.detail}; but Cilium's socket LB ({bypass}) without bpf-lb-sock-hostns-only translates the "
            f"Service address inside {call.src.label} before its sidecar sees it, so the sidecar may send "
            "plaintext that the server refuses (B19, [uncertain])"
        )
        return HopResult(Hop.SERVER_PROXY, Decision.UNKNOWN, pa.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
    if mode == "STRICT" and mtls_in and _direct_pod_ip(call):
        detail = (
            f"{pa.detail}; but {call.src.label} dials the pod IP {call.query.destination} directly: its sidecar "
            "has no Service route for it and may pass the connection through (PassthroughCluster) in "
            "plaintext, which the server refuses (B19, [uncertain]); call it through its Service"
        )
        return HopResult(Hop.SERVER_PROXY, Decision.UNKNOWN, pa.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
    if mode == "STRICT" and not mtls_in:
        if call.client_mesh is Mesh.NONE:
            pa_fix = fixes.pa_yaml(
                server.namespace,
                f"{call.dst.name}-port-{port}",
                "STRICT",
                {k: v for k, v in server.labels.items() if k == "app"} or dict(list(server.labels.items())[:1]),
                port,
                "PERMISSIVE",
            )
            yaml = fixes.heredoc(server.namespace, pa_fix)
            cause = Cause(
                "istio-mtls-strict-plaintext",
                pa.by,
                {
                    "server": call.dst.label,
                    "pa": pa.detail,
                    "port": str(port),
                    "client": call.src.label,
                    "proxy": proxy,
                    "client_ns": call.client.namespace,
                    "yaml": yaml,
                    "fix_yaml": pa_fix,
                },
            )
            hedge = "" if sidecar else " (expected for ztunnel [uncertain])"
            return HopResult(
                Hop.SERVER_PROXY,
                Decision.DENY,
                pa.by,
                f"{pa.detail}; plaintext from {call.src.label} is rejected{hedge}",
                Symptom.RESET,
                Verdict.DENIED,
                (cause,),
            )
        return _conflict(call, f"requires mTLS ({pa.detail})", _dr_fix(call, "ISTIO_MUTUAL"))
    unsure = auto_mtls_unsure(call)
    if unsure is not None:
        return HopResult(Hop.SERVER_PROXY, Decision.UNKNOWN, pa.by, unsure, Symptom.UNKNOWN, Verdict.UNKNOWN)
    if sidecar and mode == "DISABLE" and payload == "tls":
        # B10: DR SIMPLE/MUTUAL to a sidecar whose PA is DISABLE: nothing terminates that TLS
        return _conflict(call, f"accepts only plaintext ({pa.detail})", _dr_fix(call, "DISABLE"))
    if sidecar and payload == "tls":
        detail = (
            f"{pa.detail}; the client sidecar originates TLS that is not Istio mTLS ({call.tls.detail}), which "
            f"{call.dst.label}'s sidecar passes through to the app: the call works only if the app itself "
            "serves TLS on this port [uncertain]"
        )
        return HopResult(Hop.SERVER_PROXY, Decision.UNKNOWN, call.tls.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
    if sidecar and mode == "DISABLE" and payload == "istio-mtls":
        return _conflict(call, f"accepts only plaintext ({pa.detail})", _dr_fix(call, "DISABLE"))
    conn = Conn(
        mtls=mtls_in,
        principal=f"{call.model.istio.mesh.trust_domain}/ns/{call.client.namespace}/sa/{call.client.service_account}"
        if mtls_in
        else "",
        namespace=call.client.namespace if mtls_in else "",
        source_ip=call.client.ip,
        port=port or call.port,
        http=call.http,
        method=call.query.method,
        path=call.query.path,
        host=call.request.host,
        headers=tuple((k.lower(), v) for k, v in call.request.headers.items()),
        identity_if_mtls=(
            f"{call.model.istio.mesh.trust_domain}/ns/{call.client.namespace}/sa/{call.client.service_account}",
            call.client.namespace,
        ),
    )
    waypoint = call.waypoint.label if call.waypoint is not None and not call.waypoint.problem else None
    authz = authz_evaluate(call.model, server, conn, ztunnel=not sidecar, waypoint=waypoint)
    call.authz = authz
    tls_note = f"{'mTLS' if mtls_in else 'plaintext'} accepted ({'; '.join(notes)})"
    if authz.decision is Decision.UNKNOWN:
        return HopResult(
            Hop.SERVER_PROXY,
            Decision.UNKNOWN,
            authz.by,
            f"{tls_note}; {authz.detail}",
            Symptom.UNKNOWN,
            Verdict.UNKNOWN,
        )
    if authz.decision is Decision.DENY:
        http = call.http and sidecar
        symptom = Symptom.HTTP_403 if http else Symptom.RESET
        principal = (
            conn.principal
            or f"{call.model.istio.mesh.trust_domain}/ns/{call.client.namespace}/sa/{call.client.service_account}"
        )
        selector = {k: v for k, v in server.labels.items() if k == "app"} or dict(list(server.labels.items())[:1])
        if authz.l7_without_waypoint and waypoint:
            hint = (
                f"ztunnel enforces selector policies even behind waypoint {waypoint}: keep only L4 fields in "
                "them, and bind the HTTP rules to the waypoint with targetRefs (kind Service, or the waypoint Gateway)"
            )
        elif authz.l7_without_waypoint:
            hint = (
                f"deploy a waypoint (istioctl waypoint apply -n {server.namespace} --enroll-namespace) and attach the "
                "policy with targetRefs to the Service, or keep only L4 fields (principals, namespaces, ports)"
            )
        else:
            hint = "add an ALLOW rule for the caller (or remove the matching DENY rule):\n" + fixes.heredoc(
                server.namespace,
                fixes.authz_allow_yaml(
                    server.namespace,
                    selector,
                    principal,
                    call.query.method,
                    call.query.path,
                    port or call.port,
                    http,
                ),
            )
        reason = f"{authz.detail}: {proxy} of {call.dst.label} rejects {call.src.label} " + (
            "with 403 'RBAC: access denied'" if http else "by closing the connection"
        )
        fix_yaml = ""
        if not authz.l7_without_waypoint and not authz.deny_rule:
            fix_yaml = fixes.authz_allow_yaml(
                server.namespace,
                selector,
                conn.principal or None,
                call.query.method,
                call.query.path,
                port or call.port,
                http,
            )
        causes = [Cause("istio-authz-denied", authz.by, {"reason": reason, "fix_hint": hint, "fix_yaml": fix_yaml})]
        verdict = Verdict.DENIED
        if authz.needs_mtls:
            why = "client outside the mesh" if call.client_mesh is Mesh.NONE else call.tls.detail
            ap = authz.needs_mtls[0]
            causes.insert(
                0,
                Cause(
                    "istio-authz-needs-mtls",
                    authz.needs_mtls,
                    {
                        "policy": f"{ap.namespace}/{ap.name}",
                        "rule": ap.rule or "",
                        "fields": "peer identity (principals/namespaces)",
                        "client": call.src.label,
                        "why": why,
                    },
                ),
            )
            verdict = Verdict.BROKEN
        return HopResult(
            Hop.SERVER_PROXY,
            Decision.DENY,
            authz.by,
            f"{tls_note}; {authz.detail}",
            symptom,
            verdict,
            tuple(causes),
        )
    return HopResult(Hop.SERVER_PROXY, Decision.ALLOW, pa.by + authz.by, f"{tls_note}; {authz.detail}")
