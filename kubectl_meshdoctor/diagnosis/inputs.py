"""Declared inputs of each hop (architecture habit 6; contract §7: `allowed` is earned).

Each hop of the call path names the kinds of objects it decides on and in which namespaces it
looks for them. A gap that hides one of those kinds there (a 403, a kind served at a version we do
not read, a list cut short by a deadline, an object we could not evaluate, a construct we do not
model) makes the hop `unknown`: whatever it would have said rests on a partial view. This module is
the one place that knows the table; explain() applies it to every hop result, so no hop has to
remember to check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubectl_meshdoctor.findings.types import Decision, Gap, Hop, HopResult, Symptom, Verdict

ROOT = "istio-system"  # Istio's root namespace: mesh-wide PeerAuthentication/AuthorizationPolicy
KUBE_SYSTEM = "kube-system"

_CILIUM_POLICY = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy", "CiliumConfig")
_PEERS = ("Pod", "Namespace")  # selectors in policies match peer pods and their namespaces' labels
_ENDPOINTS = ("Service", "EndpointSlice", "Endpoints", "Pod")
_ROUTING = ("VirtualService", "DestinationRule", "ServiceEntry", "Sidecar", "Gateway", "HTTPRoute", "MeshConfig")
_ENVOY = ("EnvoyFilter", "WasmPlugin")  # can change any proxy's behaviour; not modelled


@dataclass(frozen=True, slots=True)
class Read:
    """Kinds a hop reads, and where: the client's and/or the server's namespace, plus fixed ones."""

    kinds: tuple[str, ...]
    sides: tuple[str, ...]  # "client", "server"
    fixed: tuple[str, ...] = ()


CLIENT, SERVER, BOTH = ("client",), ("server",), ("client", "server")

# other route kinds attached to the listener are gaps the hop names itself (gateway_api_hop.py)
_GATEWAY_API = ("Gateway", "GatewayClass", "HTTPRoute", "ReferenceGrant")

INPUTS: dict[Hop, tuple[Read, ...]] = {
    # issue 20: the gateway (client side = its namespace), its routes and the backends they name
    # (the client side is the gateway's namespace: its own Service and endpoints lead to its proxy pods)
    # (an Istio egress gateway's hop also reads its Gateway, VirtualServices, ServiceEntries and DRs, issue 20 §5)
    Hop.GATEWAY: (Read((*_GATEWAY_API, "Namespace"), BOTH), Read(_ENDPOINTS, BOTH), Read(_ROUTING, BOTH, (ROOT,))),
    Hop.RESOLVE: (Read(_ENDPOINTS, SERVER),),
    Hop.DNS: (Read(_CILIUM_POLICY, CLIENT), Read(_PEERS + _ENDPOINTS, (), (KUBE_SYSTEM,))),
    Hop.CLIENT_EGRESS: (Read(_CILIUM_POLICY, CLIENT), Read(_PEERS, BOTH)),
    Hop.CLIENT_PROXY: (Read(("PeerAuthentication", "DestinationRule", "MeshConfig", *_ENVOY), BOTH, (ROOT,)),),
    # routing also reads the Services and endpoints it sends to (subsets, ports, retargeting)
    Hop.CLIENT_ROUTE: (Read(_ROUTING + _ENVOY, BOTH, (ROOT,)), Read(_ENDPOINTS, SERVER)),
    Hop.CILIUM_INGRESS: (Read(_CILIUM_POLICY, SERVER), Read(_PEERS, BOTH)),
    Hop.CILIUM_L7: (Read(_CILIUM_POLICY, BOTH),),
    Hop.SERVER_PROXY: (
        Read(
            ("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "MeshConfig", *_ENVOY),
            SERVER,
            (ROOT,),
        ),
    ),
    # issue 11 §1: which waypoint (Gateway, use-waypoint labels on Namespace/Service/Pod, its pods) and
    # the targetRefs AuthorizationPolicies it enforces (Service / waypoint namespace, root for GatewayClass)
    Hop.WAYPOINT: (
        Read(("Gateway", "AuthorizationPolicy", "Service", "Pod", "Namespace", "MeshConfig", *_ENVOY), SERVER, (ROOT,)),
    ),
    Hop.APP: (Read(("Pod",), SERVER),),
}
MEMBERSHIP = ("Pod", "Namespace")  # what a "not in the mesh" decision rests on


def declared_kinds(hop: Hop) -> frozenset[str]:
    return frozenset(k for read in INPUTS.get(hop, ()) for k in read.kinds)


def hop_gaps(
    hop: Hop, gaps: list[str], client_ns: str | None, server_ns: str | None, reads: tuple[str, ...] | None = None
) -> list[Gap]:
    """The gaps that hide inputs of ``hop`` for a call between these namespaces.

    ``reads`` narrows the declared kinds to those a particular result rested on (HopResult.reads).
    """
    structured = [g for g in gaps if isinstance(g, Gap) and g.kinds]
    if hop not in INPUTS:  # a hop nobody declared: every structured gap concerns it (never silently green)
        return structured
    out: list[Gap] = []
    for read in INPUTS[hop]:
        kinds = [k for k in read.kinds if reads is None or k in reads]
        namespaces: list[str | None] = list(read.fixed)
        if "client" in read.sides:
            namespaces.append(client_ns)
        if "server" in read.sides:
            namespaces.append(server_ns)
        out += [g for g in structured if g not in out and g.concerns(kinds, namespaces)]
    return out


def mark_unknown(result: HopResult, missing: list[Gap]) -> HopResult:
    """A hop decided on a partial view is `unknown`; its own finding is kept in the detail.

    A DENY or BREAK found on readable objects may still be undone by objects we could not read (an
    allow rule in a policy behind a 403), so it is unknown too; the causes stay, as what the
    readable objects say.
    """
    if not missing or (result.decision is Decision.UNKNOWN and result.verdict is Verdict.UNKNOWN):
        return result
    if result.decision is Decision.SKIP and result.detail == "not reached":
        return result
    named = tuple(dict.fromkeys(str(g) for g in missing))
    seen = result.detail or result.decision.value
    detail = f"cannot decide: {'; '.join(named)} (on what could be read: {seen})"
    return replace(
        result, decision=Decision.UNKNOWN, detail=detail, symptom=Symptom.UNKNOWN, verdict=Verdict.UNKNOWN, gaps=named
    )
