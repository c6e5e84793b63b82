"""Which Cilium-served entry points can send a request to a backend (issue 19 with issue 20 §4).

Cilium's Envoy is no pod: its upstream connections carry the reserved identity ``ingress`` (8), so a
failing flow from it names the backend but not the entry point, nor the request. The candidates
are the route rules of the entry points Cilium serves (Gateway API Gateways of a GatewayClass whose
controllerName is Cilium's, with their HTTPRoutes, GRPCRoutes, TLSRoutes and TCPRoutes; Ingresses of
Cilium's class) that name a Service selecting the backend pod, each with a request that rule
selects: its hostname (a wildcard made concrete), its path match (Exact or PathPrefix value), its
method, its exact header and query matches. A match we cannot write a request for (a regular
expression) is left out and said. ``diagnosis/triage_envoy.py`` confirms each candidate with the
north-south engine itself: the candidate holds only when the walk's answer sends to that Service.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.ingress_entry import ingress_entry
from kubectl_meshdoctor.diagnosis.northsouth_entry import implementation
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.model.gateway_api import ApiGateway, ApiRoute, ApiRule, RuleMatch
from kubectl_meshdoctor.model.objects import Service
from kubectl_meshdoctor.model.view import Model

__all__ = ["Candidate", "candidates"]

_API_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"})
_CORE = ("", "core")


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: str  # NS/gateway/NAME or NS/ingress/NAME, as explain takes it
    port: int | None  # the listener the route attaches to (None: let the walk pick)
    host: str | None
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    rule: str  # "HTTPRoute ns/name spec.rules[0]" (what the request was inferred from)


def _concrete(host: str | None) -> str | None:
    """A wildcard hostname (``*.example.com``) as one host it matches."""
    if host is None or not host.startswith("*"):
        return host
    return "any" + host[1:] if host.startswith("*.") else None


def _gateway_of(model: Model, ns: str, name: str) -> ApiGateway | None:
    return next((g for g in model.gateway_api.gateways if g.ref.namespace == ns and g.ref.name == name), None)


def _listener(gw: ApiGateway, section: str | None, port: int | None) -> tuple[int | None, str | None]:
    for lst in gw.listeners:
        if (section is None or lst.name == section) and (port is None or lst.port == port):
            return lst.port, lst.hostname
    return port, None


def _match_request(m: RuleMatch) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """(method, path, headers) a request this match selects; None when we cannot write one."""
    if m.grpc is not None or m.path.type not in ("Exact", "PathPrefix"):
        return None
    if any(h.type != "Exact" for h in (*m.headers, *m.query)):
        return None
    path = m.path.value or "/"
    if m.query:
        path += "?" + "&".join(f"{q.name}={q.value}" for q in m.query)
    return m.method or "GET", path, tuple((h.name, h.value) for h in m.headers)


def _sends_to(rule: ApiRule, route_ns: str, svc: Service) -> bool:
    return any(
        b.kind == "Service" and b.group in _CORE and (b.namespace or route_ns) == svc.namespace and b.name == svc.name
        for b in rule.backends
    )


def _api_candidates(model: Model, route: ApiRoute, svc: Service, skipped: list[str]) -> list[Candidate]:
    out: list[Candidate] = []
    ns = route.ref.namespace or "default"
    for parent in route.parents:
        if parent.kind != "Gateway":
            continue
        gw = _gateway_of(model, parent.namespace, parent.name)
        if gw is None or implementation(model, gw)[0] != "cilium":
            continue
        port, listener_host = _listener(gw, parent.section, parent.port)
        hosts: list[str | None] = [*route.hostnames] or [listener_host]
        for rule in route.rules:
            if not _sends_to(rule, ns, svc):
                continue
            where = f"{route.ref.kind} {ns}/{route.ref.name} {rule.where}"
            requests = [_match_request(m) for m in rule.matches] if rule.matches else [("GET", "/", ())]
            if route.ref.kind in ("TLSRoute", "TCPRoute"):
                requests = [("GET", "/", ())]
            if None in requests:
                skipped.append(f"{where}: a match with a regular expression or a gRPC method")
            for req in requests:
                if req is None:
                    continue
                for host in dict.fromkeys(_concrete(h) for h in hosts):
                    entry = f"{gw.ref.namespace}/gateway/{gw.ref.name}"
                    out.append(Candidate(entry, port, host, req[0], req[1], req[2], where))
    return out


def _ingress_candidates(model: Model, svc: Service) -> list[Candidate]:
    out: list[Candidate] = []
    for ing in model.ingress.ingresses:
        ns = ing.ref.namespace or "default"
        if ns != svc.namespace:
            continue
        entry = f"{ns}/ingress/{ing.ref.name}"
        try:
            if ingress_entry(model, entry).implementation != "cilium":
                continue
        except MeshdoctorError:
            continue
        for rule in ing.rules:
            for p in rule.paths:
                if p.backend.service == svc.name:
                    path = p.path or "/"
                    where = f"Ingress {ns}/{ing.ref.name} {p.where}"
                    out.append(Candidate(entry, None, _concrete(rule.host), "GET", path, (), where))
        if ing.default_backend is not None and ing.default_backend.service == svc.name:
            out.append(Candidate(entry, None, None, "GET", "/", (), f"Ingress {ns}/{ing.ref.name} spec.defaultBackend"))
    return out


def candidates(model: Model, services: list[Service]) -> tuple[list[Candidate], list[str]]:
    """Every (entry point, request) Cilium's Envoy may have sent to these Services, and the route
    rules left out (a match no concrete request can be written for)."""
    out: list[Candidate] = []
    skipped: list[str] = []
    for svc in services:
        for route in model.gateway_api.routes:
            if route.ref.kind in _API_KINDS:
                out += _api_candidates(model, route, svc, skipped)
        out += _ingress_candidates(model, svc)
    return list(dict.fromkeys(out)), list(dict.fromkeys(skipped))
