"""Which Gateway server and VirtualService bind a host at an ingress gateway (issue 11 §4), and why
a request finds none: a Gateway whose selector matches no pod, a VirtualService bound to `mesh`
only or to other gateways, or a server host `ns/host` that does not admit the VirtualService's
namespace."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.routing_hop import _break
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.findings.types import Cause, HopResult, Symptom
from kubectl_meshdoctor.model.istio_traffic import GatewayServer, IstioGateway, VirtualService
from kubectl_meshdoctor.model.view import Model


def server_host_matches(entry: str, host: str) -> bool:
    """Gateway server hosts are `[ns/]dnsName`; `*`, `*.example.com` wildcards."""
    _, _, name = entry.rpartition("/")
    return rt.host_matches(name, host)


def selector_no_match(call: Call, host: str) -> HopResult | None:
    """Issue 11 §4: the Gateway meant for this host selects no pod at all, so no gateway proxy
    serves it (the same cause `check` reports)."""
    pods = list(call.model.pods.values())
    for gw in call.model.traffic.gateways:
        accepts = any(server_host_matches(h, host) for s in gw.servers for h in s.hosts)
        if not gw.selector or (gw.servers and not accepts):
            continue  # a Gateway for other hosts (one without servers could be meant for any host)
        if any(all(p.labels.get(k) == v for k, v in gw.selector.items()) for p in pods):
            continue
        selector = ", ".join(f"{k}={v}" for k, v in gw.selector.items())
        params = {"gateway": f"{gw.ref.namespace}/{gw.ref.name}", "selector": selector, "hosts": host}
        params["selector_arg"] = ",".join(f"{k}={v}" for k, v in gw.selector.items())
        ref = gw.ref.with_rule("selector")
        cause = Cause("istio-gateway-selector-no-match", (ref,), params)
        detail = (
            f"Gateway {params['gateway']} accepts {host} but selects pods with {selector}, and no pod has them "
            f"(not {call.src.label}): no gateway proxy serves {host}"
        )
        return _break((ref,), detail, Symptom.HTTP_404, cause)
    return None


def _admits(entry: str, vs_ns: str, gw_ns: str) -> bool:
    """A Gateway server host `ns/host`: `*` any namespace, `.` the Gateway's own, else that one;
    no namespace part = any."""
    ns = entry.rpartition("/")[0] or "*"
    return ns == "*" or ns == vs_ns or (ns == "." and vs_ns == gw_ns)


def _lists(vs: VirtualService, gateway: str) -> bool:
    ns = vs.ref.namespace or "default"
    return any(rt.fqdn_gw(g, ns) == gateway for g in vs.gateways)


def _serves(vs: VirtualService, host: str) -> bool:
    ns = vs.ref.namespace or "default"
    return any(h == host or rt.host_matches(rt.fqdn(h, ns), host) for h in vs.hosts)


def bound_vs(call: Call, gw: IstioGateway, server: GatewayServer, host: str) -> VirtualService | None:
    """The VirtualService the gateway uses for host on this server: bound to the Gateway, serving the
    host, from a namespace the server's `ns/host` entry admits; exact host before wildcard."""
    return bound_vs_in(call.model, gw, server, host)


def bound_vs_in(model: Model, gw: IstioGateway, server: GatewayServer, host: str) -> VirtualService | None:
    """bound_vs for a gateway without a call at hand (an egress gateway in `check`, issue 20 §5)."""
    key = f"{gw.ref.namespace}/{gw.ref.name}"
    gw_ns = gw.ref.namespace or "default"
    entries = [h for h in server.hosts if server_host_matches(h, host)]
    found = [
        vs
        for vs in model.traffic.virtual_services
        if _lists(vs, key)
        and _serves(vs, host)
        and any(_admits(e, vs.ref.namespace or "default", gw_ns) for e in entries)
    ]
    found.sort(key=lambda vs: (host not in vs.hosts, vs.ref.namespace or "", vs.ref.name))
    return found[0] if found else None


def mesh_only_vs(
    call: Call, host: str, gateway: str, gw: IstioGateway | None = None, server: GatewayServer | None = None
) -> HopResult | None:
    """Issue 11 §4: a VirtualService for this host exists but is not bound to this gateway (no
    `gateways:` = bound to `mesh`, i.e. sidecars only), so traffic entering here does not use it."""
    for vs in call.model.traffic.virtual_services:
        ns = vs.ref.namespace or "default"
        if not _serves(vs, host):
            continue
        key = f"{ns}/{vs.ref.name}"
        bound = vs.gateways or ("mesh",)
        if _lists(vs, gateway) and gw is not None and server is not None:
            entries = ", ".join(h for h in server.hosts if server_host_matches(h, host))
            why = (
                f"Gateway {gateway} {server.path} hosts [{entries}] admit VirtualServices from other namespaces "
                f"than {ns}, where VirtualService {key} is"
            )
            hint = (
                f"move VirtualService {key} to the namespace the server host names, or write the server host as "
                f"*/{host} in Gateway {gateway}: kubectl -n {gw.ref.namespace} edit gateway {gw.ref.name}"
            )
            ref = gw.ref.with_rule(f"{server.path}.hosts")
            cause = Cause("istio-gateway-host-not-bound", (vs.ref, ref), {"gateway": gateway, "host": host})
            cause = Cause(cause.code, cause.objects, {**cause.params, "why": why, "fix_hint": hint})
            return _break((vs.ref, ref), f"{why} → 404 NR", Symptom.HTTP_404, cause)
        why = (
            f"VirtualService {key} has no gateways: field, so it binds to mesh (sidecars) only"
            if not vs.gateways
            else f"VirtualService {key} lists gateways [{', '.join(bound)}], not {gateway}"
        )
        edit = f"kubectl -n {ns} edit virtualservice {vs.ref.name}"
        if not vs.gateways:
            hint = (
                f"add `gateways: [{gateway}]` to VirtualService {key} (list mesh too, `gateways: [{gateway}, mesh]`, "
                f"if sidecars should keep using it): {edit}"
            )
        else:
            hint = f"add {gateway} to its gateways: `gateways: [{', '.join((*vs.gateways, gateway))}]`: {edit}"
        ref = vs.ref.with_rule("spec.gateways")
        cause = Cause("istio-gateway-host-not-bound", (ref,), {"gateway": gateway, "host": host, "why": why})
        cause = Cause(cause.code, cause.objects, {**cause.params, "fix_hint": hint})
        return _break((ref,), f"gateway {gateway} accepts {host}, but {why} → 404 NR", Symptom.HTTP_404, cause)
    return None
