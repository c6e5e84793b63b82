"""GAMMA routes in ambient mode without a waypoint (issue 20 §6; semantics-gateways.md M3, GB9): for
every HTTPRoute attached to a Service, one ambient client (the route's namespace first, then the
Service's, then any) calls the Service through explain's own hops; the routing hop says whether a
waypoint applies the route (`gamma-no-waypoint` when none does). No ambient client in view: nobody is
affected, nothing to report."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.pairs import is_istio_proxy, representatives
from kubectl_meshdoctor.diagnosis.call import Query, resolve_call
from kubectl_meshdoctor.errors import MeshdoctorError
from kubectl_meshdoctor.findings.types import Cause, Mesh
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model

_KINDS = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}


def _source(model: Model, pod: Pod) -> str:
    kind = _KINDS.get(pod.workload_kind)
    named = kind is not None and (pod.namespace, pod.workload_name) in model.workloads
    return f"{pod.namespace}/{kind}/{pod.workload_name}" if named else f"{pod.namespace}/pod/{pod.name}"


def _witness(clients: list[Pod], *namespaces: str) -> Pod | None:
    for ns in namespaces:
        found = next((p for p in clients if p.namespace == ns), None)
        if found is not None:
            return found
    return clients[0] if clients else None


def _gamma(model: Model) -> list[Cause]:
    from kubectl_meshdoctor.diagnosis.explain import _walk

    clients = [p for p in representatives(model) if not is_istio_proxy(p) and model.pod_mesh(p)[0] is Mesh.AMBIENT]
    if not clients:
        return []
    out: list[Cause] = []
    seen: set[tuple[str, str, str]] = set()
    for route in sorted(model.gateway_api.routes, key=lambda r: (r.ref.namespace or "", r.ref.name)):
        if route.ref.kind != "HTTPRoute":
            continue
        for parent in route.parents:
            svc = model.services.get(f"{parent.namespace}/{parent.name}")
            if parent.group != "" or parent.kind != "Service" or svc is None or not svc.ports:
                continue
            client = _witness(clients, route.ref.namespace or "default", svc.namespace)
            if client is None:
                continue
            port = parent.port if parent.port is not None else svc.ports[0].port
            query = Query(
                _source(model, client),
                f"{svc.namespace}/svc/{svc.name}",
                client.namespace,
                port=port,
                no_flows=True,
                app_protocol="http",
            )
            try:
                results, _, _ = _walk(resolve_call(model, query))
            except MeshdoctorError:
                continue
            for cause in (c for r in results for c in r.causes if c.code == "gamma-no-waypoint"):
                key = (cause.code, cause.params.get("routes", ""), cause.params.get("service", ""))
                if key not in seen:
                    seen.add(key)
                    out.append(cause)
    return out


GAMMA_WAYPOINT = Check(
    "gateway.GammaWaypoint",
    "HTTPRoutes attached to a Service (GAMMA) that no waypoint applies for ambient clients",
    ("HTTPRoute", "Service", "Namespace", "Gateway", "Pod"),
    _gamma,
)
