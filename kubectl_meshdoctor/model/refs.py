"""Workload references (contract §1): NS/NAME, NS/KIND/NAME, NAME, DNS names, IPs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model import external_name, flow_refs
from kubectl_meshdoctor.model.addresses import (
    Unresolved,
    headless_pod,
    parse_cluster_name,
    service_by_ip,
    service_entry_host,
    unresolved,
)
from kubectl_meshdoctor.model.index import pods_selected, services_selecting
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.validity import dropped_as_invalid
from kubectl_meshdoctor.model.view import Model

_KIND_ALIASES = {
    "deploy": "Deployment",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "sts": "StatefulSet",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "ds": "DaemonSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "po": "Pod",
    "pod": "Pod",
    "pods": "Pod",
    "svc": "Service",
    "service": "Service",
    "services": "Service",
}


@dataclass(slots=True)
class Target:
    namespace: str
    name: str
    kind: str  # Deployment | StatefulSet | DaemonSet | Pod | Service | External
    pods: list[Pod] = field(default_factory=list)
    service: Service | None = None
    external_ip: str | None = None
    dns_name: str | None = None  # the name the client resolves (DNS hop applies)
    text: str = ""
    unresolved: Unresolved | None = None  # a name no Service answers (the DNS hop decides)
    alias: Service | None = None  # the ExternalName Service the client named (its CNAME led here)
    alias_chain: tuple[str, ...] = ()  # the CNAME chain from the alias

    @property
    def label(self) -> str:
        if self.kind == "External":
            return self.dns_name or self.external_ip or self.name
        return f"{self.namespace}/{self.name}"


def closest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    import difflib  # only for a name that matches nothing (a "did you mean")

    return difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)


def _known_names(model: Model, namespace: str | None) -> list[str]:
    names = {f"{ns}/{n}" for (ns, n) in model.workloads if namespace in (None, ns)}
    names |= {f"{p.namespace}/{p.workload_name}" for p in model.pods.values() if namespace in (None, p.namespace)}
    names |= {f"{s.namespace}/svc/{s.name}" for s in model.services.values() if namespace in (None, s.namespace)}
    return sorted(names)


_REFERABLE = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Service")


def _unknown(model: Model, text: str, namespace: str, name: str, kind: str | None = None) -> UsageError:
    invalid = dropped_as_invalid(model.invalid, namespace, name, (kind,) if kind else _REFERABLE, prefix=kind is None)
    if invalid is not None:
        return UsageError(f"unknown reference {text!r}: {invalid}")
    pool = _known_names(model, None)
    hint = closest(f"{namespace}/{name}", pool) or closest(name, [p.split("/")[-1] for p in pool])
    if hint and "/" not in hint[0]:
        hint = [p for p in pool if p.split("/")[-1] in hint][:3]
    more = f"; did you mean {', '.join(hint)}?" if hint else ""
    if namespace not in model.namespaces and model.namespaces:
        return UsageError(f"unknown reference {text!r}: namespace {namespace!r} not found{more}")
    return UsageError(f"unknown reference {text!r}: no workload, pod or service {name!r} in {namespace}{more}")


def services_for(model: Model, pods: list[Pod]) -> list[Service]:
    """The Services selecting the first of ``pods`` (its workload's), sorted by name."""
    return services_selecting(model, pods[0]) if pods else []


def pods_for_service(model: Model, svc: Service) -> list[Pod]:
    return pods_selected(model, svc.namespace, svc.selector) if svc.selector else []


def _service_target(model: Model, svc: Service, text: str) -> Target:
    """A Service destination: its selected pods, and the name a client resolves. An ExternalName
    Service is a CNAME: the destination is where it leads (model.external_name)."""
    if svc.type == "ExternalName":
        return _alias_target(model, svc, text)
    return Target(
        svc.namespace,
        svc.name,
        "Service",
        pods_for_service(model, svc),
        svc,
        dns_name=f"{svc.name}.{svc.namespace}",
        text=text,
    )


def _alias_target(model: Model, svc: Service, text: str) -> Target:
    alias = external_name.follow(model, svc)
    name = external_name.client_name(svc)
    if alias.service is not None:
        target = _service_target(model, alias.service, text)
        target.dns_name = name  # the client resolves the alias; the cluster DNS answers with the chain
    elif alias.outside is not None:
        target = Target("", text, "External", dns_name=alias.outside, text=text)
    else:
        target = Target("", text, "External", dns_name=name, text=text, unresolved=alias.unresolved)
    target.alias, target.alias_chain = svc, alias.chain
    return target


def _by_kind(model: Model, text: str, namespace: str, kind: str, name: str) -> Target:
    if kind == "Service":
        svc = model.services.get(f"{namespace}/{name}")
        if svc is None:
            raise _unknown(model, text, namespace, name, kind)
        return _service_target(model, svc, text)
    if kind == "Pod":
        pod = model.pods.get(f"{namespace}/{name}")
        if pod is None:
            raise _unknown(model, text, namespace, name, kind)
        return Target(namespace, name, "Pod", [pod], text=text)
    w = model.workloads.get((namespace, name))
    if w is None or (w.kind != kind):
        raise _unknown(model, text, namespace, name, kind)
    return Target(namespace, name, w.kind, sorted(w.pods, key=lambda p: p.name), text=text)


def _dns(model: Model, text: str) -> Target | None:
    """A cluster DNS name: its Service (a headless per-pod name: that pod), or an unresolved target."""
    parsed = parse_cluster_name(text)
    if parsed is None:
        return None
    svc = model.services.get(f"{parsed.namespace}/{parsed.service}")
    if svc is not None:
        if parsed.host is not None:
            pod = headless_pod(model, svc, parsed.host)
            if pod is not None:
                return Target(pod.namespace, pod.name, "Pod", [pod], dns_name=text, text=text)
            missing = Unresolved(
                text, True, f"headless Service {svc.namespace}/{svc.name} has no pod {parsed.host!r}", ()
            )
            return Target("", text, "External", dns_name=text, text=text, unresolved=missing)
        if svc.type == "ExternalName":
            target = _alias_target(model, svc, text)
            if target.kind != "External" or target.unresolved is not None:
                target.dns_name = text
            return target
        return Target(svc.namespace, svc.name, "Service", pods_for_service(model, svc), svc, dns_name=text, text=text)
    if service_entry_host(model, text):
        return None  # a mesh-known outside name (ServiceEntry)
    why = unresolved(model, text, parsed)
    if why is None:
        return None
    return Target("", text, "External", dns_name=text, text=text, unresolved=why)


def _by_ip(model: Model, text: str, ip: str, allow_external: bool) -> Target:
    """A pod IP is that pod; a Service's cluster IP is that Service; else outside the cluster."""
    pod = model.pods_by_ip.get(ip)
    if pod is not None:
        return Target(pod.namespace, pod.name, "Pod", [pod], text=text)
    if not allow_external:
        raise UsageError(f"SOURCE {text!r}: no pod in this view has IP {ip}; name the client workload (NS/NAME)")
    svc = service_by_ip(model, ip)
    if svc is not None:
        target = _service_target(model, svc, text)
        target.dns_name = None  # the client dials the IP: nothing to resolve
        return target
    return Target("", text, "External", external_ip=ip, text=text)


def resolve(model: Model, text: str, default_ns: str, allow_external: bool) -> Target:
    """Resolve a reference; an unknown one is a UsageError with 'did you mean'."""
    text = text.strip()
    if not text:
        raise UsageError("empty workload reference")
    if model.flow_endpoints is not None and not (model.pods or model.workloads or model.services):
        found = flow_refs.resolve(model.flow_endpoints, text, default_ns, allow_external)  # flows only (issue 13)
        return Target(found.namespace, found.name, found.kind, found.pods, external_ip=found.external_ip, text=text)
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        net = None
    if net is not None:
        if net.num_addresses == 1:
            return _by_ip(model, text, str(net.network_address), allow_external)
        if not allow_external:
            raise UsageError(f"SOURCE {text!r} is a CIDR; name one client workload (NS/NAME) or pod IP")
        return Target("", text, "External", external_ip=str(net.network_address), text=text)
    parts = text.split("/")
    if len(parts) == 3:
        namespace, kind_text, name = parts
        kind = _KIND_ALIASES.get(kind_text.lower())
        if kind is None:
            raise UsageError(f"unknown kind {kind_text!r} in {text!r}; use pod, deploy, sts, ds or svc")
        return _by_kind(model, text, namespace, kind, name)
    if len(parts) > 3 or not all(parts):
        raise UsageError(f"bad reference {text!r}: use NS/NAME, NS/KIND/NAME or NAME")
    if len(parts) == 1 and "." in text:
        target = _dns(model, text)
        if target is not None:
            return target
        if allow_external:
            return Target("", text, "External", dns_name=text, text=text)
    namespace, name = (parts[0], parts[1]) if len(parts) == 2 else (default_ns, parts[0])
    w = model.workloads.get((namespace, name))
    if w is not None and w.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        return Target(namespace, name, w.kind, sorted(w.pods, key=lambda p: p.name), text=text)
    pods = [p for p in model.pods_by_ns.get(namespace, []) if p.name == name or p.name.startswith(name + "-")]
    if pods:
        exact = [p for p in pods if p.name == name]
        chosen = exact or pods
        first = chosen[0]
        if not exact and first.workload_kind != "Pod":
            return Target(
                namespace,
                first.workload_name,
                first.workload_kind,
                sorted(chosen, key=lambda p: p.name),
                text=text,
            )
        return Target(namespace, first.name, "Pod", chosen[:1], text=text)
    svc = model.services.get(f"{namespace}/{name}")
    if svc is not None:
        return _service_target(model, svc, text)
    raise _unknown(model, text, namespace, name)
