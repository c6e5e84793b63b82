"""Destinations by address, as the client's resolver and the datapath see them (issue 10 §3).

* IPs: a pod IP is that pod; any of a Service's ``clusterIPs`` is that Service (what kube-proxy or
  Cilium's socket LB translates); anything else is outside the cluster.
* Cluster DNS names: ``svc.ns``, ``svc.ns.svc``, ``svc.ns.svc.<cluster domain>`` and, for headless
  Services, ``host.svc.ns.svc[.<domain>]`` (the pod whose hostname/subdomain is that). A name of
  that shape that no Service answers fails to resolve (kube-dns answers NXDOMAIN): that is a DNS
  failure, not a call to somewhere outside.
* ServiceEntry hosts (exact or ``*.`` wildcards) are mesh-known external names.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.validity import dropped_as_invalid
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class ClusterName:
    service: str
    namespace: str
    host: str | None  # headless: the pod's hostname
    explicit: bool  # written with ".svc": certainly a cluster name


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A name no Service answers: ``certain`` when it is unmistakably a cluster name."""

    name: str
    certain: bool
    why: str
    suggestions: tuple[str, ...]


def service_by_ip(model: Model, ip: str) -> Service | None:
    """The Service owning a cluster IP (the first by namespace/name should a snapshot hold two)."""
    owners = [svc for svc in model.services.values() if ip in svc.cluster_ips]
    return min(owners, key=lambda s: (s.namespace, s.name)) if owners else None


def parse_cluster_name(text: str) -> ClusterName | None:
    labels = text.rstrip(".").lower().split(".")
    if len(labels) < 2 or not all(labels):
        return None
    if "svc" in labels[2:]:
        at = labels.index("svc", 2)
        if at == 2:
            return ClusterName(labels[0], labels[1], None, True)
        if at == 3:
            return ClusterName(labels[1], labels[2], labels[0], True)
        return None
    if len(labels) == 2:
        return ClusterName(labels[0], labels[1], None, False)
    return None


def headless_pod(model: Model, svc: Service, host: str) -> Pod | None:
    """A headless Service's per-pod name: the pod with that hostname (or name) in the Service's namespace."""
    for pod in sorted(model.pods_by_ns.get(svc.namespace, []), key=lambda p: p.name):
        if pod.name == host or pod.labels.get("statefulset.kubernetes.io/pod-name") == host:
            return pod
    return None


def service_entry_host(model: Model, name: str) -> bool:
    name = name.rstrip(".").lower()
    for entry in model.traffic.service_entries:
        for host in entry.hosts:
            h = host.lower()
            if h == name or (h.startswith("*.") and name.endswith(h[1:])):
                return True
    return False


def suggest(model: Model, name: str) -> tuple[str, ...]:
    """Close existing Service names, spelled the way the user wrote theirs."""
    parsed = parse_cluster_name(name)
    pool = sorted(f"{s.name}.{s.namespace}" for s in model.services.values())
    wanted = f"{parsed.service}.{parsed.namespace}" if parsed else name
    import difflib  # only for a name that matches nothing (a "did you mean")

    return tuple(difflib.get_close_matches(wanted, pool, n=3, cutoff=0.6))


def unresolved(model: Model, name: str, parsed: ClusterName) -> Unresolved | None:
    """Why a cluster-shaped name resolves to nothing, or None when it may be an outside name."""
    known_ns = parsed.namespace in model.namespaces or parsed.namespace in model.pods_by_ns
    invalid = dropped_as_invalid(model.invalid, parsed.namespace, parsed.service, ("Service",))
    if invalid is not None:
        return Unresolved(name, True, f"{invalid}; the cluster DNS has no such name", ())
    hints = suggest(model, name)
    if parsed.explicit or known_ns:
        where = f"namespace {parsed.namespace}" if known_ns else f"no namespace {parsed.namespace!r}"
        why = f"no Service {parsed.service!r} in {where}"
        return Unresolved(name, True, why, hints)
    if hints:
        why = (
            f"{parsed.namespace!r} is not a namespace of this cluster, so the cluster DNS has no such Service; "
            "whether an outside resolver knows the name was not checked"
        )
        return Unresolved(name, False, why, hints)
    return None
