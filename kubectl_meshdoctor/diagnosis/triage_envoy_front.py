"""triage for failures Cilium's Envoy answered an outside client (issue 19 with issue 20 §4; Part H).

Hubble records the outside client's request to Cilium's Envoy (identity ``ingress``) and Envoy's
answer (an HTTP 503 when the backend leg fails, a 403 when the policy at the entry denies): the
server end is no pod. The call asked is the north-south one from that client's address to the entry
point, with the request the HTTP records show. The entry point is the Cilium-served Gateway whose
addresses (or whose Service ``cilium-gateway-NAME``) hold the address the client called, else, when
the records carry a host, every Cilium-served entry point (Gateway or Ingress) on which a route
matches that request, each confirmed by explain's north-south walk (diagnosis/triage_envoy.settle
says which, or that several fit).
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.envoy_entries import Candidate
from kubectl_meshdoctor.diagnosis.ingress_entry import ingress_entry
from kubectl_meshdoctor.diagnosis.northsouth_entry import implementation
from kubectl_meshdoctor.diagnosis.triage_envoy import ENVOY, Asked, ask, ends, is_envoy, observed, settle
from kubectl_meshdoctor.diagnosis.triage_groups import Group
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.types import Diagnosis
from kubectl_meshdoctor.model.view import Model

__all__ = ["envoy_server", "explain_envoy_front"]


def envoy_server(model: Model, group: Group) -> bool:
    """Cilium's Envoy answered: the server end is the identity ingress (no pod), the client no pod."""
    if group.server.kind != "external" or group.client.kind != "external" or not group.kept:
        return False
    client, server = ends(group.kept[-1])
    return is_envoy(server) and not client.pod_name and group.client.name != "?"


def _cilium_entries(model: Model) -> list[str]:
    out = [
        f"{g.ref.namespace}/gateway/{g.ref.name}"
        for g in model.gateway_api.gateways
        if implementation(model, g)[0] == "cilium"
    ]
    for ing in model.ingress.ingresses:
        entry = f"{ing.ref.namespace or 'default'}/ingress/{ing.ref.name}"
        try:
            if ingress_entry(model, entry).implementation == "cilium":
                out.append(entry)
        except MeshdoctorError:
            continue
    return out


def _by_address(model: Model, ip: str) -> list[str]:
    out = []
    for g in model.gateway_api.gateways:
        svc = model.services.get(f"{g.ref.namespace}/cilium-gateway-{g.ref.name}")
        held = ip in g.addresses or (svc is not None and ip in (*svc.cluster_ips, svc.cluster_ip))
        if held and implementation(model, g)[0] == "cilium":
            out.append(f"{g.ref.namespace}/gateway/{g.ref.name}")
    return out


def _server_ip(group: Group) -> str:
    flow = group.kept[-1]
    client, _ = ends(flow)
    return str(flow.IP.source if client is flow.destination else flow.IP.destination)


def explain_envoy_front(model: Model, group: Group) -> Asked:
    source, ip = group.client.name, _server_ip(group)
    seen = observed(group)
    host, method, path = seen if seen is not None else (None, "GET", "/")
    entries = _by_address(model, ip)
    by_address = bool(entries)  # the entry point is known; else a route must match the request
    matched_by = f"the entry point whose address is {ip}"
    if not by_address and host is not None:
        entries, matched_by = _cilium_entries(model), f"a route of it matches host {host}"
    head = f"{ENVOY} answered {source} at {ip}"
    confirmed: list[tuple[Candidate, Diagnosis]] = []
    for entry in entries:
        c = Candidate(entry, group.port or None, host, method, path, (), matched_by)
        d = ask(model, c, source)
        if d is not None and (by_address or (d.gateway is not None and d.gateway.rule)):
            confirmed.append((c, d))
    if not confirmed:
        why = (
            f"{head}, but no entry point Cilium serves in this view (a Gateway of a Cilium GatewayClass, an Ingress "
            f"of Cilium's class) has that address" + (f" or a route for host {host}" if host else "")
        )
        return Asked(group, None, why, "")
    how = "the request its HTTP records show" if seen is not None else "GET / (no HTTP record)"
    return settle(group, confirmed, source, head, f"{how}, {matched_by}")
