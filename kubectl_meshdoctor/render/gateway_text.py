"""The text lines that name what a gateway on the path did (issue 20): listener, route and rule,
and who answers (the gateway itself, or the backends with their share)."""

from __future__ import annotations

from kubectl_meshdoctor.findings.gateway_types import GatewayAnswer, MeshRouteAnswer


def gateway_lines(g: GatewayAnswer) -> list[str]:
    impl = g.implementation if g.implementation != "unknown" else f"class {g.gateway_class} (implementation unknown)"
    listener = f"listener {g.listener} ({g.protocol} {g.port}{', ' + g.hostname if g.hostname else ''})"
    where = listener if g.listener else f"port {g.port}" if g.kind in ("Gateway (Istio)", "Ingress") else "no listener"
    lines = [f"  gateway: {g.namespace}/{g.name} [{impl}] {where}"]
    if g.route:
        name = f" ({g.rule_name})" if g.rule_name else ""
        lines.append(f"  route:   {g.route} {g.match or g.rule}{name}")
    if g.status is not None and g.status < 400:
        lines.append(f"  answer:  the gateway answers {g.status} → {g.location}")
    elif g.status is not None and not g.backends:
        lines.append(f"  answer:  the gateway answers {g.status}")
    for b in g.backends:
        share = f" {b.share:.0%} of requests" if len(g.backends) > 1 else ""
        if b.problem is not None:
            lines.append(f"  answer:  {g.status or 500} for{share or ' all requests'}: {b.why} ({b.problem})")
        elif b.share > 0:
            lines.append(f"  answer:  {b.kind} {b.namespace}/{b.name}:{b.port}{share}")
    if g.forwarded_path and g.status is None and g.filters:
        lines.append(f"  filters: {', '.join(g.filters)}; the backend receives {g.forwarded_path}")
    for key, value in g.timeouts:
        lines.append(f"  timeout: {key} {value}")
    return lines


def mesh_route_lines(m: MeshRouteAnswer) -> list[str]:
    """GAMMA (issue 20 §3): the route attached to the called Service, and whether a proxy applies it."""
    lines = []
    if m.route:
        name = f" ({m.rule_name})" if m.rule_name else ""
        applied = f"applied by {m.applied_by}" if m.applied else f"not applied: {m.reason}"
        where = " ".join(x for x in (m.route, m.match or m.rule) if x)
        lines.append(f"  route:   {where}{name} on {m.parent} [{applied}]")
    else:
        applied = f"applied by {m.applied_by}" if m.applied else f"not applied: {m.reason}"
        lines.append(f"  route:   GAMMA route(s) on {m.parent} [{applied}]")
    if not m.applied:
        return lines
    if m.status is not None and m.status < 400:
        lines.append(f"  answer:  the proxy answers {m.status} → {m.location}")
    elif m.status is not None and not m.backends:
        lines.append(f"  answer:  the proxy answers {m.status}")
    for b in m.backends:
        share = f" {b.share:.0%} of requests" if len(m.backends) > 1 else ""
        if b.problem is not None:
            lines.append(f"  answer:  500 for{share or ' all requests'}: {b.why} ({b.problem})")
        elif b.share > 0:
            lines.append(f"  answer:  {b.kind} {b.namespace}/{b.name}:{b.port}{share}")
    return lines
