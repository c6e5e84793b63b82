"""Kubernetes Ingress backends (issue 20 items 4 and 6; semantics-gateways.md C2-C4, GB2, GB13, GB15):
for every Ingress Cilium or Istio serves, every backend it names must exist (else Envoy answers 503);
behind Cilium, the leg from Cilium's Envoy to it, as the reserved identity `ingress`, must pass the backend's policies
and its Istio mTLS mode. Through the same functions `explain world NS/ingress/NAME` runs: the backend
resolution of the Ingress hop and the Cilium Envoy leg."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis.cilium_envoy_leg import cilium_envoy_leg
from kubectl_meshdoctor.diagnosis.ingress_entry import ingress_entry
from kubectl_meshdoctor.diagnosis.ingress_hop import resolve_backend
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.ingress import Ingress, IngressBackend
from kubectl_meshdoctor.model.view import Model

LEG_CODES = frozenset(
    {"cilium-ingress-backend-denied", "cilium-ingress-vs-istio-mtls", "cilium-ingress-client-ip-invisible"}
)


def _backends(ing: Ingress) -> list[tuple[IngressBackend, str]]:
    """Each backend with a path that reaches it (the default backend: /)."""
    out = [(p.backend, p.path or "/") for r in ing.rules for p in r.paths]
    if ing.default_backend is not None:
        out.append((ing.default_backend, "/"))
    return out


def _ingress(model: Model, ing: Ingress) -> list[Cause]:
    key = f"{ing.ref.namespace}/{ing.ref.name}"
    e = ingress_entry(model, f"{ing.ref.namespace}/ingress/{ing.ref.name}")
    if e.implementation not in ("cilium", "istio"):
        return []  # a controller not modelled: what its proxy does with a missing backend is not known
    proxy = "Cilium's Envoy" if e.implementation == "cilium" else "Istio's ingress gateway"
    out: list[Cause] = []
    for backend, path in _backends(ing):
        if backend.service is None:
            continue  # a resource backend: not evaluated
        b, problem = resolve_backend(model, ing, backend)
        if problem is not None:
            where = backend.path.removesuffix(".backend")
            params = {"ingress": key, "rule": where, "why": problem, "proxy": proxy}
            out.append(Cause("ingress-backend-missing", (ing.ref.with_rule(backend.path),), params))
            continue
        if e.implementation != "cilium":
            continue  # Istio's gateway pods call backends as mesh clients: checked as pairs
        assert b is not None
        for hop in cilium_envoy_leg(model, key, b, "GET", path, front=f"Ingress {key}"):
            out += [c for c in hop.causes if c.code in LEG_CODES and c not in out]
    return out


def _run(model: Model) -> list[Cause]:
    out: list[Cause] = []
    for ing in sorted(model.ingress.ingresses, key=lambda i: (i.ref.namespace or "", i.ref.name)):
        out += [c for c in _ingress(model, ing) if c not in out]
    return out


INGRESS_BACKENDS = Check(
    "ingress.Backends",
    "Kubernetes Ingresses Cilium or Istio serves: every backend Service and port exists; behind Cilium, its "
    "policies admit the reserved identity ingress on the target port, and STRICT Istio backends reset plaintext",
    (
        "Ingress",
        "IngressClass",
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
