"""North-south through an Istio Gateway (networking.istio.io; issue 20 §1): `explain world
NS/gateway/NAME --host H`. The Gateway's selector names the proxy pods, a server on the port takes
the host, the VirtualService bound to the Gateway picks the route and its destinations; each
destination is then asked from a gateway pod with the same host, so the existing gateway-SOURCE walk
(issue 7 §4: binding, route match, faults, subsets) and the later hops decide it."""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.diagnosis import explain as walk
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.gateway_binding import _admits, _lists, _serves, server_host_matches
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.findings.gateway_types import BackendAnswer, GatewayAnswer
from kubectl_meshdoctor.findings.types import (
    Cause,
    Decision,
    Diagnosis,
    Endpoint,
    Evidence,
    Hop,
    HopResult,
    Mesh,
    Request,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.istio_traffic import IstioGateway, VirtualService
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model


def gateway_pods(model: Model, gw: IstioGateway) -> list[Pod]:
    sel = gw.selector
    pods = [p for p in model.pods.values() if sel and all(p.labels.get(k) == v for k, v in sel.items())]
    return sorted(pods, key=lambda p: (not p.ready, p.namespace, p.name))


def _bound(model: Model, gw: IstioGateway, host: str) -> VirtualService | None:
    key = f"{gw.ref.namespace}/{gw.ref.name}"
    gw_ns = gw.ref.namespace or "default"
    entries = [h for s in gw.servers for h in s.hosts if server_host_matches(h, host)]
    found = [
        vs
        for vs in model.traffic.virtual_services
        if _lists(vs, key)
        and _serves(vs, host)
        and any(_admits(e, vs.ref.namespace or "default", gw_ns) for e in entries)
    ]
    found.sort(key=lambda vs: (host not in vs.hosts, vs.ref.namespace or "", vs.ref.name))
    return found[0] if found else None


def destinations(
    model: Model, gw: IstioGateway, pod: Pod, q: Query, port: int
) -> tuple[GatewayAnswer, list[tuple[str, int | None]]]:
    """The answer so far (route and destinations) and the Services to ask from the gateway pod as
    (NS/svc/NAME, port); none when the binding or the route does not take the request (the walk from
    the gateway pod then says why, with the existing causes)."""
    host = q.host or ""
    answer = GatewayAnswer(
        "Gateway (Istio)", gw.ref.namespace or "default", gw.ref.name, None, "istio", "istio",
        None, port, None, host or None, None,
    )  # fmt: skip
    vs = _bound(model, gw, host) if host else None
    if vs is None:
        return answer, []
    key = f"{gw.ref.namespace}/{gw.ref.name}"
    req = rt.RouteRequest(q.method, q.path, dict(q.headers), port, pod.labels, pod.namespace, key)
    matched = rt.match_route(vs.http, req)
    if matched is None:
        return answer, []
    route, match = matched
    ns = vs.ref.namespace or "default"
    total = sum(d.weight for d in route.destinations) or 1
    backends, asks = [], []
    for d in route.destinations:
        fqdn = rt.fqdn(d.host, ns)
        svc = next((s for s in model.services.values() if rt.service_host(s) == fqdn), None)
        share = d.weight / total
        if svc is None:
            backends.append(BackendAnswer("Host", "", d.host, d.port, d.weight, share, "NotAService", fqdn))
            continue
        backends.append(BackendAnswer("Service", svc.namespace, svc.name, d.port, d.weight, share))
        if share > 0:
            asks.append((f"{svc.namespace}/svc/{svc.name}", d.port))
    answer = replace(
        answer,
        route=f"VirtualService {ns}/{vs.ref.name}",
        rule=route.path,
        rule_name=route.name,
        match=match.path if match is not None else route.path,
        backends=tuple(backends),
    )
    return answer, asks


_ORDER = {Verdict.DENIED: 0, Verdict.BROKEN: 0, Verdict.UNKNOWN: 1, Verdict.ALLOWED: 2}


def _first_hop(model: Model, gw: IstioGateway, pods: list[Pod], port: int, host: str) -> HopResult:
    key = f"{gw.ref.namespace}/{gw.ref.name}"
    if not pods:
        selector = ", ".join(f"{k}={v}" for k, v in gw.selector.items())
        params = {"gateway": key, "selector": selector, "hosts": host}
        params["selector_arg"] = ",".join(f"{k}={v}" for k, v in gw.selector.items())
        ref = gw.ref.with_rule("selector")
        cause = Cause("istio-gateway-selector-no-match", (ref,), params)
        detail = f"Gateway {key} selects pods with {selector or '(nothing)'}, and no pod has them: nothing serves it"
        return HopResult(Hop.GATEWAY, Decision.BREAK, (ref,), detail, Symptom.REFUSED, Verdict.BROKEN, (cause,))
    servers = [s for s in gw.servers if s.port == port]
    if not servers:
        ref = gw.ref.with_rule("spec.servers")
        why = f"no server on port {port}"
        cause = Cause("gateway-listener-no-match", (ref,), {"gateway": key, "why": why})
        return HopResult(
            Hop.GATEWAY, Decision.BREAK, (ref,), f"Gateway {key} has {why}", Symptom.REFUSED, Verdict.BROKEN, (cause,)
        )
    names = ", ".join(f"{p.namespace}/{p.name}" for p in pods[:3])
    return HopResult(Hop.GATEWAY, Decision.ALLOW, (gw.ref,), f"Istio Gateway {key} selects {names}; port {port}")


def explain_istio(model: Model, q: Query, gw: IstioGateway) -> Diagnosis:
    """World → an Istio Gateway: its pods, a server on the port, then the walk from a gateway pod
    to each destination the bound VirtualService picks."""
    if not q.host:
        raise UsageError("an Istio Gateway routes by host: give --host (the Host the outside client sends)")
    pods = gateway_pods(model, gw)
    port = q.port or 80
    first = _first_hop(model, gw, pods, port, q.host)
    answer = GatewayAnswer(
        "Gateway (Istio)",
        gw.ref.namespace or "default",
        gw.ref.name,
        None,
        "istio",
        "istio",
        None,
        port,
        None,
        q.host,
        None,
    )
    hops, causes, gaps = [first], list(first.causes), list(model.gaps)
    verdict, symptom = (
        (first.verdict or Verdict.BROKEN, first.symptom or Symptom.UNKNOWN)
        if first.decision is Decision.BREAK
        else (Verdict.ALLOWED, Symptom.OK)
    )
    evidence = Evidence(source="none", summary="no flows requested (--no-flows)" if q.no_flows else "")
    if first.decision is not Decision.BREAK:
        pod = pods[0]
        answer, asks = destinations(model, gw, pod, q, port)
        # nothing routable: ask toward the gateway pod itself, whose routing hop then says why (404)
        for dest, dport in asks or [(f"{pod.namespace}/pod/{pod.name}", None)]:
            sub = Query(
                f"{pod.namespace}/pod/{pod.name}",
                dest,
                q.namespace,
                dport,
                q.protocol,
                q.method,
                q.path,
                q.since_seconds,
                q.last,
                q.no_flows,
                q.headers,
                q.host,
            )
            leg = walk.explain(model, sub)
            label = f"gateway {answer.namespace}/{answer.name} → {dest}"
            hops += [replace(h, leg=h.leg or label) for h in leg.hops]
            causes += [c for c in leg.causes if c not in causes]
            gaps += [g for g in leg.gaps if g not in gaps]
            if _ORDER[leg.verdict] < _ORDER[verdict]:
                verdict, symptom = leg.verdict, leg.symptom
            if evidence.source == "none" and leg.evidence.source != "none":
                evidence = leg.evidence
    return Diagnosis(
        source=Endpoint("", "world", "World", (), Mesh.NONE, external=q.source),
        destination=Endpoint(
            answer.namespace, answer.name, "Gateway", tuple(p.name for p in pods), Mesh.NONE, port=port
        ),
        request=Request(q.protocol, q.method, q.path, q.host, dict(q.headers)),
        verdict=verdict,
        symptom=symptom,
        hops=hops,
        causes=causes,
        evidence=evidence,
        gaps=list(dict.fromkeys(gaps)),
        warnings=list(dict.fromkeys(model.warnings)),
        gateway=answer,
    )
