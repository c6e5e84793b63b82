"""What is behind a route's destination (issue 11 §2): the Service port the route names, the pods
its DestinationRule subset selects, and which workload the later hops must be evaluated for.

Envoy builds one cluster per (host, port, subset). A destination port the Service does not expose
has no cluster (503 NC); a subset whose labels select no ready pod has a cluster without healthy
endpoints (503 'no healthy upstream', UH). The server hops (Cilium ingress, L7, server proxy, app)
then concern the pods the route really sends to, not the Service the client named.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis import routing_fixes, visibility
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.partial import SplitTarget
from kubectl_meshdoctor.engines import istio_routing as rt
from kubectl_meshdoctor.engines.istio_mesh import workload_mesh
from kubectl_meshdoctor.engines.istio_mtls import ClientTLS, client_tls
from kubectl_meshdoctor.findings.types import Cause, ObjectRef
from kubectl_meshdoctor.model.istio_traffic import VirtualService
from kubectl_meshdoctor.model.objects import Pod, Service, ServicePort
from kubectl_meshdoctor.model.refs import pods_for_service
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class RoutedTarget:
    """Where one route destination lands: the Service, its port and the ready pods it reaches."""

    svc: Service
    port: ServicePort | None
    pods: list[Pod]
    weight: int
    subset: str | None


def service_of(model: Model, host: str) -> Service | None:
    """The Kubernetes Service behind a registry FQDN (name.ns.svc.cluster.local)."""
    parts = host.split(".")
    if host.endswith("." + rt.DOMAIN) and len(parts) == 5:
        return model.services.get(f"{parts[1]}/{parts[0]}")
    return None


def _ready(svc: Service, pods: list[Pod]) -> list[Pod]:
    if svc.ready_pods is not None:
        return [p for p in pods if p.key() in svc.ready_pods]
    return [p for p in pods if p.ready]


def _share(weight: int, total: int) -> str:
    pct = round(100 * weight / total) if total else 100
    return "" if pct >= 100 else f" for {pct}% of requests"


def check_endpoints(
    model: Model,
    check: rt.DestinationCheck,
    ref: ObjectRef,
    vs_key: str,
    total: int,
    default_port: int,
) -> tuple[Cause | None, RoutedTarget | None]:
    """The route-port and subset-endpoint problems of one destination (None, target) when fine.
    Destinations that are ServiceEntries or outside the view are not judged here."""
    svc = service_of(model, check.host)
    if svc is None:
        return None, None
    dest = check.dest
    share = _share(dest.weight, total)
    port: ServicePort | None = None
    if svc.ports:
        wanted = dest.port if dest.port is not None else default_port
        port = next((p for p in svc.ports if p.port == wanted), None)
        if port is None and dest.port is None and len(svc.ports) == 1:
            port = svc.ports[0]  # one-port Service: Istio uses it when the route names no port
        if port is None:
            listed = ", ".join(str(p.port) for p in svc.ports)
            params = {"vs": f"VirtualService {vs_key} {dest.path}", "host": check.host, "port": str(wanted)}
            params |= {"ports": listed, "share": share}
            return Cause("istio-route-port-unknown", (ref, svc.ref()), params), None
    pods = pods_for_service(model, svc)
    rule = check.rule
    subset = next((s for s in rule.subsets if s.name == dest.subset), None) if rule and dest.subset else None
    if subset is not None:
        pods = [p for p in pods if all(p.labels.get(k) == v for k, v in subset.labels.items())]
    ready = _ready(svc, pods)
    if subset is not None and rule is not None and not ready:
        labels = ", ".join(f"{k}={v}" for k, v in subset.labels.items()) or "(none)"
        why = "no pod of the Service has them" if not pods else f"{len(pods)} pod(s) match, none ready"
        params = {
            "subset": subset.name,
            "host": check.host,
            "dr": f"DestinationRule {rule.ref.namespace}/{rule.ref.name}",
        }
        params |= {"share": share, "labels": labels, "why": why}
        objects = (ref, rule.ref.with_rule(f"{subset.path}.labels"))
        return Cause("istio-subset-no-endpoints", objects, params), None
    return None, RoutedTarget(svc, port, ready, dest.weight, dest.subset)


def _routed_tls(call: Call, main: RoutedTarget) -> ClientTLS:
    """What the client's proxy sends to the routed destination (its subset's TLS settings apply, A4)."""
    return client_tls(
        call.model,
        call.client_mesh,
        call.server,
        call.server_mesh,
        main.svc,
        call.port,
        call.client.namespace,
        call.client.labels,
        main.subset,
    )


def retarget(call: Call, targets: list[RoutedTarget], total: int) -> str:
    """Point the later hops at the pods the route really sends to: the heaviest destination, or the
    one a split's own walk pins (``Query.pin``). The other destinations of a weighted split are
    recorded on ``call.split``; explain() walks each of them too (issue 17). Returns a note for the hop."""
    if not targets:
        return ""
    total = total or 1
    main = max(targets, key=lambda t: t.weight)
    pin = call.query.pin
    if pin is not None:
        main = next((t for t in targets if (f"{t.svc.namespace}/{t.svc.name}", t.subset) == pin), main)
    others = [t for t in targets if t is not main and (t.svc is not main.svc or t.subset != main.subset)]
    same = sum(t.weight for t in targets if t.svc is main.svc and t.subset == main.subset)
    call.split_main = 100 * same / total
    if pin is None:
        seen: set[tuple[str, str | None]] = set()
        for t in others:
            key = (f"{t.svc.namespace}/{t.svc.name}", t.subset)
            if key not in seen:
                seen.add(key)
                weight = sum(o.weight for o in others if (f"{o.svc.namespace}/{o.svc.name}", o.subset) == key)
                call.split.append(SplitTarget(key[0], key[1], 100 * weight / total))
    same_pods = [p.key() for p in main.pods] == [p.key() for p in call.servers]
    if main.svc is call.svc and same_pods:
        if main.subset:  # the subset's own TLS settings apply (A4)
            call.tls = _routed_tls(call, main)
        return ""
    if not main.pods:
        return ""
    call.svc, call.svc_port, call.servers, call.server = main.svc, main.port, main.pods, main.pods[0]
    if main.port is not None:
        tp = main.port.target_port
        call.target_port = tp if isinstance(tp, int) else call.server.named_port(tp)
    call.server_mesh, call.server_mesh_why = workload_mesh(call.model, main.pods)
    call.tls = _routed_tls(call, main)
    sub = f" subset {main.subset}" if main.subset else ""
    return (
        f"server hops evaluated for {main.svc.namespace}/{main.svc.name}{sub}: "
        f"pod(s) {', '.join(p.name for p in main.pods)}"
    )


def dest_cause(
    call: Call, vs: VirtualService, check: rt.DestinationCheck, ref: ObjectRef, common: dict[str, str], total: int
) -> Cause:
    dest = check.dest
    if check.problem == "not-exported":
        svc = service_of(call.model, check.host)
        if svc is not None and check.entry is None:
            cause = visibility.service_cause(call.model.traffic, svc, call.client.namespace)
        else:
            assert check.entry is not None
            cause = visibility.entry_cause(call.model.traffic, check.entry, check.host, call.client.namespace)
        return Cause(cause.code, (ref, *cause.objects), cause.params)
    if check.problem == "unknown-host":
        owner = vs.ref.namespace or "default"
        near = sorted(
            (s.namespace != owner, s.namespace, s.name) for s in call.model.services.values() if s.name in dest.host
        )
        params = common | {"rule": dest.path, "host": check.host, "client_ns": call.client.namespace}
        params["suggest"] = f" (e.g. {near[0][2]}.{near[0][1]})" if near else ""
        return Cause("istio-destination-host-unknown", (ref,), params)
    rule = check.rule
    subset = dest.subset or ""
    if rule is None:
        hidden = visibility.hidden_objects(call.model.traffic, "DestinationRule", check.host, call.client.namespace)
        dr_state = (
            f"{', '.join(hidden)} defines subsets for that host, but exportTo hides it from {call.client.namespace}"
            if hidden
            else "no DestinationRule for that host is visible from the client"
        )
    else:
        names = ", ".join(s.name for s in rule.subsets) or "none"
        dr_state = f"DestinationRule {rule.ref.namespace}/{rule.ref.name} defines only [{names}]"
    labels = {"version": call.server.labels["version"]} if call.server and "version" in call.server.labels else {}
    objects = (ref, rule.ref.with_rule("subsets")) if rule is not None else (ref,)
    params = common | {"rule": dest.path, "weight": f"{round(100 * dest.weight / total)}", "subset": subset}
    params |= {"host": check.host, "dr_state": dr_state}
    params["yaml"] = routing_fixes.subset_fix(rule, check.host, subset, labels, call.client.namespace)
    return Cause("istio-subset-not-found", objects, params)
