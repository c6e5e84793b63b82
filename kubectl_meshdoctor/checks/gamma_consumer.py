"""Consumer GAMMA routes Cilium ignores, mesh-wide (issue 20 §6; semantics-gateways.md M4, GB10): for
every HTTPRoute whose parent is a Service of another namespace, one client of the route's namespace
outside the Istio mesh calls that Service through explain's own hops; the routing hop says whether the
route applies to it (`gamma-consumer-route-unsupported` when Cilium's GAMMA, producer routes only, is
all there is). No such client in view: nobody is affected, nothing to report."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.gamma_checks import _source
from kubectl_meshdoctor.checks.pairs import is_istio_proxy, representatives
from kubectl_meshdoctor.diagnosis.call import Query, resolve_call
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.types import Cause, Mesh
from kubectl_meshdoctor.model.view import Model

CODE = "gamma-consumer-route-unsupported"


def _consumer(model: Model) -> list[Cause]:
    from kubectl_meshdoctor.diagnosis.explain import _walk

    consumers = [
        r
        for r in model.gateway_api.routes
        if r.ref.kind == "HTTPRoute"
        and any(p.group == "" and p.kind == "Service" and p.namespace != r.ref.namespace for p in r.parents)
    ]
    if not model.cilium_config.present or not consumers:
        return []
    clients = [p for p in representatives(model) if not is_istio_proxy(p) and model.pod_mesh(p)[0] is Mesh.NONE]
    out: list[Cause] = []
    for route in sorted(consumers, key=lambda r: (r.ref.namespace or "", r.ref.name)):
        ns = route.ref.namespace or "default"
        client = next((p for p in clients if p.namespace == ns), None)
        if route.ref.kind != "HTTPRoute" or client is None:
            continue
        for parent in route.parents:
            svc = model.services.get(f"{parent.namespace}/{parent.name}")
            if parent.group != "" or parent.kind != "Service" or svc is None or not svc.ports or svc.namespace == ns:
                continue
            port = parent.port if parent.port is not None else svc.ports[0].port
            query = Query(
                _source(model, client), f"{svc.namespace}/svc/{svc.name}", ns, port=port, no_flows=True,
                app_protocol="http",
            )  # fmt: skip
            try:
                results, _, _ = _walk(resolve_call(model, query))
            except MeshdoctorError:
                continue
            out += [c for r in results for c in r.causes if c.code == CODE and c not in out]
    return out


GAMMA_CONSUMER = Check(
    "gateway.GammaConsumerRoute",
    "HTTPRoutes in a client's namespace for a Service of another namespace that Cilium's GAMMA does not apply",
    ("HTTPRoute", "Service", "Namespace", "Pod"),
    _consumer,
)
