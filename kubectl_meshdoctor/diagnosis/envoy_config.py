"""CiliumEnvoyConfig / CiliumClusterwideEnvoyConfig on the path (issue 20 item 4; semantics-gateways.md
C5, GB11, GB16): a CEC whose `spec.services` names the Service (and port) a client calls makes Cilium
redirect that Service's frontend traffic to an Envoy listener the CEC defines, which may route, split,
rewrite, retry or answer itself. Its Envoy resources are not evaluated, so the routing hop of such a
call is `unknown`, with a gap naming the CEC, never a silent pass; the upstream leg keeps the client's
identity (C5), so the policy hops after it are walked as before. Istio clients likely bypass the
redirect (they connect to a pod, not to the Service address) [I]: said, not assumed. A CEC for another
Service (or another port) leaves the call as it was. A Cilium policy port rule with `listener` (it
sends the traffic it admits through a CEC's listener) is put on the path the same way."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.client_route import client_route_hop
from kubectl_meshdoctor.diagnosis.envoy_conflicts import on_path
from kubectl_meshdoctor.diagnosis.gamma_cilium import bypass_cause
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, Mesh, Symptom, Verdict
from kubectl_meshdoctor.model.ingress import EnvoyConfig
from kubectl_meshdoctor.model.objects import Service
from kubectl_meshdoctor.model.view import Model


def redirecting(model: Model, svc: Service, port: int) -> list[EnvoyConfig]:
    """The CECs/CCECs that redirect this Service port's frontend traffic to their Envoy listener."""
    return [
        c
        for c in model.ingress.envoy_configs
        if any(
            s.namespace == svc.namespace and s.name == svc.name and (not s.ports or port in s.ports) for s in c.services
        )
    ]


def _name(c: EnvoyConfig) -> str:
    ns = f"{c.ref.namespace}/" if c.ref.namespace else ""
    return f"{c.ref.kind} {ns}{c.ref.name}"


def envoy_listener_gap(call: Call, configs: list[EnvoyConfig]) -> str:
    svc = call.svc
    assert svc is not None
    names = ", ".join(_name(c) for c in configs)
    kinds = sorted({t for c in configs for t in c.resource_types}) or ["no resources"]
    text = (
        f"Envoy listener ({names}): Cilium redirects Service {svc.namespace}/{svc.name}:{call.port} to Cilium's "
        f"Envoy, whose configuration ({', '.join(kinds)}) is not evaluated: it may route, rewrite or answer itself"
    )
    if len(configs) > 1:
        text += "; several configs redirect the same Service and Cilium does not resolve conflicts between them"
    if call.client_mesh is not Mesh.NONE:
        text += (
            f"; a {call.client_mesh.value} client likely bypasses the redirect (it connects to a pod, not to the "
            "Service address) [inferred]"
        )
    return text


def policy_listener_gaps(call: Call) -> list[str]:
    """Cilium policies whose port rule for this call redirects it to a CEC's Envoy listener
    (`toPorts[].listener`): at the client's egress, or at the server's ingress, on the target port."""
    model = call.model
    port = str(call.target_port if call.target_port is not None else call.port)
    ends = [("egress", call.client)] + ([("ingress", call.server)] if call.server is not None else [])
    out: list[str] = []
    for direction, pod in ends:
        for rule in selecting_rules(model, pod):
            key = (rule.policy.kind, rule.policy.namespace, rule.policy.name, rule.path)
            for pl in model.ingress.policy_listeners.get(key, ()):
                numeric = [p for p in pl.ports if p.isdigit()]
                if pl.direction != direction or (numeric and len(numeric) == len(pl.ports) and port not in numeric):
                    continue
                out.append(
                    f"Envoy listener ({pl.config}, listener {pl.listener}): {rule.policy.key()} {pl.where} redirects "
                    f"{direction} traffic of {pod.namespace}/{pod.name} on port {port} to it; not evaluated"
                )
    return out


def route_hop(call: Call) -> HopResult:
    """The client-side routing hop, then the Envoy listener a CEC puts on the Service or a policy port."""
    base = client_route_hop(call)
    if base.decision in (Decision.DENY, Decision.BREAK):
        return base  # a route that already fails in the client's own proxy never reaches the Service address
    configs = redirecting(call.model, call.svc, call.port) if call.svc is not None else []
    gaps = ([envoy_listener_gap(call, configs)] if configs else []) + policy_listener_gaps(call)
    if not gaps:
        return base
    gap = "; ".join(gaps)
    call.gaps.extend(gaps)
    detail = f"cannot decide: {gap}"
    if base.decision is not Decision.SKIP and base.detail:
        detail += f" (routing before it: {base.detail})"
    by = (*base.by, *(c.ref for c in configs))
    causes: list[Cause] = on_path(call.model, configs)  # GB16
    if configs and call.client_mesh is not Mesh.NONE and call.svc is not None:  # GB11 [inferred]
        causes.append(bypass_cause(call, call.svc, tuple(c.ref for c in configs), ", ".join(map(_name, configs))))
    unknown = (Decision.UNKNOWN, by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, tuple(causes))
    return HopResult(Hop.CLIENT_ROUTE, *unknown, gaps=tuple(gaps))
