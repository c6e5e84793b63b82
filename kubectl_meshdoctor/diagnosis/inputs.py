"""Declared inputs of each hop (architecture habit 6; contract §7: `allowed` is earned).

Each hop of the call path names the kinds of objects it decides on and in which namespaces it
looks for them. A gap that hides one of those kinds there (a 403, a kind served at a version we do
not read, a list cut short by a deadline, an object we could not evaluate, a construct we do not
model) makes the hop `unknown`: whatever it would have said rests on a partial view. This module is
the one place that knows the table; explain() applies it to every hop result, so no hop has to
remember to check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import ALL_KINDS, Decision, Gap, Hop, HopResult, Symptom, Verdict

ROOT_NAMESPACE = "istio-system"  # Istio's root namespace: mesh-wide PeerAuthentication/AuthorizationPolicy
KUBE_SYSTEM = "kube-system"

_CILIUM_POLICY = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy", "CiliumConfig")
_PEERS = ("Pod", "Namespace")  # selectors in policies match peer pods and their namespaces' labels
_ENDPOINTS = ("Service", "EndpointSlice", "Endpoints", "Pod")
_ROUTING = ("VirtualService", "DestinationRule", "ServiceEntry", "Sidecar", "Gateway", "HTTPRoute", "MeshConfig")
_ENVOY = ("EnvoyFilter", "WasmPlugin")  # can change any proxy's behaviour; not modelled


@dataclass(frozen=True, slots=True)
class Inputs:
    kinds: tuple[str, ...]
    # which side's namespaces the hop reads: "client", "server", or both; plus fixed namespaces
    sides: tuple[str, ...]
    fixed: tuple[str, ...] = ()


INPUTS: dict[Hop, Inputs] = {
    Hop.RESOLVE: Inputs(_ENDPOINTS, ("server",)),
    Hop.DNS: Inputs(_CILIUM_POLICY + _PEERS + _ENDPOINTS, ("client",), (KUBE_SYSTEM,)),
    Hop.CLIENT_EGRESS: Inputs(_CILIUM_POLICY + _PEERS, ("client", "server")),
    Hop.CLIENT_PROXY: Inputs(
        ("PeerAuthentication", "DestinationRule", "MeshConfig", *_ENVOY), ("client", "server"), (ROOT_NAMESPACE,)
    ),
    Hop.CLIENT_ROUTE: Inputs(_ROUTING + _ENVOY, ("client", "server"), (ROOT_NAMESPACE,)),
    Hop.CILIUM_INGRESS: Inputs(_CILIUM_POLICY + _PEERS, ("client", "server")),
    Hop.CILIUM_L7: Inputs(_CILIUM_POLICY, ("client", "server")),
    Hop.SERVER_PROXY: Inputs(
        ("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "MeshConfig", *_ENVOY),
        ("server",),
        (ROOT_NAMESPACE,),
    ),
    Hop.APP: Inputs(("Pod",), ("server",)),
}


def hop_gaps(hop: Hop, gaps: list[str], client_ns: str | None, server_ns: str | None) -> list[Gap]:
    """The gaps that hide inputs of ``hop`` for a call between these namespaces."""
    spec = INPUTS.get(hop)
    if spec is None:  # a hop nobody declared: every structured gap concerns it (never silently green)
        return [g for g in gaps if isinstance(g, Gap) and g.kinds]
    namespaces: list[str | None] = list(spec.fixed)
    if "client" in spec.sides:
        namespaces.append(client_ns)
    if "server" in spec.sides:
        namespaces.append(server_ns)
    return [g for g in gaps if isinstance(g, Gap) and g.concerns(spec.kinds, namespaces)]


def mark_unknown(result: HopResult, missing: list[Gap]) -> HopResult:
    """A hop decided on a partial view is `unknown`; its own finding is kept in the detail.

    A DENY or BREAK found on readable objects may still be undone by objects we could not read (an
    allow rule in a policy behind a 403), so it is unknown too; the causes stay, as what the
    readable objects say.
    """
    if not missing or (result.decision is Decision.UNKNOWN and result.verdict is Verdict.UNKNOWN):
        return result
    what = "; ".join(dict.fromkeys(str(g) for g in missing))
    seen = result.detail or result.decision.value
    if result.decision is Decision.SKIP and result.detail == "not reached":
        return result
    detail = f"cannot decide: {what} (on what could be read: {seen})"
    return HopResult(result.hop, Decision.UNKNOWN, result.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, result.causes)


def everything_missing(gaps: list[str]) -> bool:
    """True when a gap hides every kind everywhere (e.g. flows-only input)."""
    return any(isinstance(g, Gap) and ALL_KINDS in g.kinds and g.namespace is None for g in gaps)


HopFn = Callable[..., HopResult]
