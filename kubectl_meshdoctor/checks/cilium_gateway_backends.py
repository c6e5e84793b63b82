"""Backends of Gateway API Gateways Cilium serves (issue 20 items 4 and 6; semantics-gateways.md C2-C4,
GB13, GB14, GB15): for every route a listener of such a Gateway accepts, every backendRef that resolves
is reached by Cilium's Envoy as the reserved identity `ingress`: the backend's policies must admit it on
the target port (`cilium-ingress-backend-denied`, with `cilium-ingress-client-ip-invisible` beside a CIDR
rule that cannot see the client), and a backend in the Istio mesh with PeerAuthentication STRICT resets
Envoy's plaintext (`cilium-ingress-vs-istio-mtls`). Through the leg function `explain world
NS/gateway/NAME` runs (diagnosis/cilium_envoy_leg.py); the Kubernetes Ingress counterpart is
checks/ingress_backends.py."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.ingress_backends import LEG_CODES
from kubectl_meshdoctor.diagnosis.cilium_envoy_leg import cilium_envoy_leg
from kubectl_meshdoctor.diagnosis.gateway_l4_routes import is_l4
from kubectl_meshdoctor.diagnosis.northsouth_entry import implementation
from kubectl_meshdoctor.engines.gateway_api_attach import attach
from kubectl_meshdoctor.engines.gateway_api_backends import check_backend
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.gateway_api import ApiGateway, ApiListener, ApiRoute, ApiRule
from kubectl_meshdoctor.model.view import Model


def _path(rule: ApiRule) -> str:
    """A request path the rule takes (its first Exact or PathPrefix match; else /)."""
    for m in rule.matches:
        if m.path.type in ("Exact", "PathPrefix") and m.path.value.startswith("/"):
            return m.path.value
    return "/"


def _ports(model: Model, ns: str, name: str) -> tuple[int, ...] | None:
    svc = model.services.get(f"{ns}/{name}")
    return None if svc is None else tuple(p.port for p in svc.ports)


def _route(model: Model, gw: ApiGateway, x: ApiListener, route: ApiRoute) -> list[Cause]:
    key = f"{gw.ref.namespace or 'default'}/{gw.ref.name}"
    out: list[Cause] = []
    for rule in route.rules:
        total = sum(b.weight for b in rule.backends) or 1
        for b in rule.backends:
            problem, _ = check_backend(b, route, model.gateway_api.grants, lambda ns, n: _ports(model, ns, n))
            if problem is not None or b.weight <= 0:
                continue  # unresolved backends are gateway.RouteStatus's
            answer = BackendAnswer(b.kind, b.namespace, b.name, b.port, b.weight, b.weight / total)
            for hop in cilium_envoy_leg(model, key, answer, "GET", _path(rule), l4=is_l4(x)):
                out += [c for c in hop.causes if c.code in LEG_CODES and c not in out]
    return out


def _run(model: Model) -> list[Cause]:
    out: list[Cause] = []
    gateways = sorted(model.gateway_api.gateways, key=lambda g: (g.ref.namespace or "", g.ref.name))
    routes = sorted(model.gateway_api.routes, key=lambda r: (r.ref.namespace or "", r.ref.name))
    for gw in gateways:
        if implementation(model, gw)[0] != "cilium":
            continue
        for x in gw.listeners:
            for route in routes:
                if attach(route, gw, x, model.ns_labels).accepted:
                    out += [c for c in _route(model, gw, x, route) if c not in out]
    return out


CILIUM_GATEWAY_BACKENDS = Check(
    "gateway.CiliumBackends",
    "Gateway API Gateways Cilium serves: the backends of their accepted routes admit the reserved identity "
    "ingress on the target port, and STRICT Istio backends reset Cilium's plaintext",
    (
        "Gateway",
        "GatewayClass",
        "HTTPRoute",
        "TLSRoute",
        "TCPRoute",
        "ReferenceGrant",
        "Service",
        "Pod",
        "Namespace",
        "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy",
        "NetworkPolicy",
        "PeerAuthentication",
    ),
    _run,
)
