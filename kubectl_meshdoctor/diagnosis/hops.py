"""One function per hop of the call path (B24). Each names what decided it.

A hop that breaks sets the verdict and the symptom the client sees; the
orchestrator (explain.py) marks every later hop as skipped.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.hop_base import allow_result as _allow
from kubectl_meshdoctor.diagnosis.hop_base import skip_result as _skip
from kubectl_meshdoctor.diagnosis.hop_cilium import egress_hop, ingress_hop
from kubectl_meshdoctor.diagnosis.hop_dns import dns_hop
from kubectl_meshdoctor.diagnosis.hop_l7 import l7_hop
from kubectl_meshdoctor.diagnosis.inputs import MEMBERSHIP
from kubectl_meshdoctor.findings.types import (
    Cause,
    Decision,
    Hop,
    HopResult,
    Mesh,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.refs import pods_for_service

__all__ = [
    "app_hop",
    "client_proxy_hop",
    "dns_hop",
    "egress_hop",
    "ingress_hop",
    "l7_hop",
    "resolve_hop",
    "server_proxy_hop",
]


def resolve_hop(call: Call) -> HopResult:
    if call.dst.unresolved is not None:
        return _skip(Hop.RESOLVE, f"no Service answers {call.dst.unresolved.name} (see DNS)", reads=("Service",))
    if call.dst.kind == "External":
        return _allow(Hop.RESOLVE, f"external destination {call.dst.label}:{call.port}{_via_alias(call)}")
    svc = call.svc
    if call.port_problem:
        fix = "call a declared port (kubectl -n {ns} get svc {name} -o wide) or fix targetPort / the container port"
        cause = Cause(
            "port-mismatch",
            (svc.ref(),) if svc else (),
            {
                "why": call.port_problem,
                "fix_hint": fix.format(ns=call.dst.namespace, name=svc.name if svc else ""),
            },
        )
        symptom = Symptom.HTTP_503 if call.client_mesh is Mesh.SIDECAR else Symptom.TIMEOUT
        return HopResult(
            Hop.RESOLVE,
            Decision.BREAK,
            (svc.ref(),) if svc else (),
            call.port_problem,
            symptom,
            Verdict.BROKEN,
            (cause,),
        )
    if svc is not None and not call.servers:
        selected = pods_for_service(call.model, svc)
        why = " (its selector matches no pod)" if not selected else f" ({len(selected)} pod(s) selected, none ready)"
        cause = Cause(
            "no-endpoints",
            (svc.ref(),),
            {"service": f"{svc.namespace}/{svc.name}", "why": why, "ns": svc.namespace, "name": svc.name},
        )
        if call.client_mesh is Mesh.SIDECAR:
            symptom = Symptom.HTTP_503
        else:
            symptom = Symptom.TIMEOUT if call.model.cilium_config.service_no_backend_drop else Symptom.REFUSED
        return HopResult(
            Hop.RESOLVE,
            Decision.BREAK,
            (svc.ref(),),
            f"Service {svc.namespace}/{svc.name}{why}",
            symptom,
            Verdict.BROKEN,
            (cause,),
        )
    if svc is not None:
        detail = (
            f"Service {svc.namespace}/{svc.name} port {call.port} → targetPort {call.target_port}, "
            f"{len(call.servers)} ready endpoint(s){_via_alias(call)}"
        )
        return _allow(Hop.RESOLVE, detail, (svc.ref(),) + ((call.dst.alias.ref(),) if call.dst.alias else ()))
    return _allow(
        Hop.RESOLVE, f"direct to pod {call.server.name if call.server else '?'} port {call.port} (no Service)"
    )


def _via_alias(call: Call) -> str:
    alias = call.dst.alias
    if alias is None:
        return ""
    chain = " → ".join(call.dst.alias_chain)
    svc = f"ExternalName Service {alias.namespace}/{alias.name}"
    return f" ({svc}: the cluster DNS answers a CNAME to {chain}; nothing is proxied)"


def client_proxy_hop(call: Call) -> HopResult:
    if call.client_mesh is Mesh.NONE:
        return _skip(
            Hop.CLIENT_PROXY, f"{call.src.label} is not in the mesh ({call.client_mesh_why}): plaintext", MEMBERSHIP
        )
    what = "sidecar" if call.client_mesh is Mesh.SIDECAR else "ztunnel"
    return _allow(Hop.CLIENT_PROXY, f"{what}: {call.tls.detail} (wire port {call.wire_port})", call.tls.by)


def server_proxy_hop(call: Call) -> HopResult:
    from kubectl_meshdoctor.diagnosis.server_proxy import server_proxy

    return server_proxy(call)


def app_hop(call: Call) -> HopResult:
    """Container ports are informational in Kubernetes: a process may listen on a port its container
    does not declare, so an undeclared numeric port is a note, never a certain break. (A named
    targetPort no container declares is a break, decided when the call is resolved.)"""
    server = call.server
    if server is None or call.target_port is None:
        return _skip(Hop.APP, "no server pod to check")
    declared = [p for p in server.ports if p.protocol == call.query.protocol]
    if not declared or any(p.port == call.target_port for p in declared):
        note = "declared by the container" if declared else "not declared (listening not verified)"
        return _allow(Hop.APP, f"port {call.target_port} {note}", (server.ref(),))
    listed = ", ".join(str(p.port) for p in declared)
    note = (
        f"port {call.target_port} is not among the container ports pod {server.name} declares ({listed}); "
        "container ports are informational, so the app may still listen there (not verified)"
    )
    return _allow(Hop.APP, note, (server.ref(),))
