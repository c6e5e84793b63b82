"""Which route object an Istio sidecar uses for a host that both a VirtualService and GAMMA HTTPRoutes
route (semantics-gateways.md M2, GB8). A sidecar uses one virtual service per host; Istio orders the
candidates for a proxy in namespace N: VirtualServices private to N (exportTo "."), then those
exported to N by name, then Gateway API routes in N, then every other public one, oldest first. We
follow that order and always report the pair as a conflict (`istio-route-api-conflict`); when the
order rests on creation times the objects do not carry, the winner is not guessed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubectl_meshdoctor.model.gateway_api import ApiRoute
from kubectl_meshdoctor.model.istio_export import effective
from kubectl_meshdoctor.model.istio_traffic import VirtualService

_TIERS = (
    "a VirtualService private to the client's namespace (exportTo .)",
    "a VirtualService exported to the client's namespace by name",
    "Gateway API routes in the client's namespace",
    "public routes, oldest first",
)


@dataclass(frozen=True, slots=True)
class Precedence:
    winner: str  # "VirtualService" | "HTTPRoute" | "" (not decidable from the objects in view)
    why: str


def _vs_tier(vs: VirtualService, client_ns: str, defaults: Mapping[str, tuple[str, ...]]) -> int:
    ns = vs.ref.namespace or "default"
    export = effective(vs.export_to, "VirtualService", defaults)
    if ns == client_ns and ("." in export or client_ns in export):
        return 0
    if client_ns in export:
        return 1
    return 3


def decide(
    vs: VirtualService, routes: list[ApiRoute], client_ns: str, defaults: Mapping[str, tuple[str, ...]]
) -> Precedence:
    vs_tier = _vs_tier(vs, client_ns, defaults)
    route_tier = 2 if all((r.ref.namespace or "default") == client_ns for r in routes) else 3
    vs_name = f"VirtualService {vs.ref.namespace or 'default'}/{vs.ref.name}"
    if vs_tier < route_tier:
        return Precedence("VirtualService", f"{vs_name} is {_TIERS[vs_tier]}, which Istio orders first")
    if route_tier < vs_tier:
        return Precedence("HTTPRoute", f"the HTTPRoute(s) are {_TIERS[route_tier]}, ordered before {vs_name}")
    oldest = min((r.created for r in routes), default="")
    if not vs.created or not oldest or vs.created == oldest:
        missing = "the same creationTimestamp" if vs.created and oldest else "no creationTimestamp in view"
        return Precedence(
            "", f"both are public routes, ordered oldest first, and they carry {missing}: which one wins is unknown"
        )
    if vs.created < oldest:
        return Precedence("VirtualService", f"both are public; {vs_name} is older ({vs.created} < {oldest})")
    return Precedence("HTTPRoute", f"both are public; the HTTPRoute is older ({oldest} < {vs.created})")
