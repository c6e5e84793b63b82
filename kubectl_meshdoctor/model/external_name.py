"""ExternalName Services (issue 17): the cluster DNS answers a CNAME and nothing is proxied, so a
call goes wherever ``spec.externalName`` resolves — another Service of the cluster (whose path,
ports and policies then apply; ``NAME.NS.svc.cluster.local``) or a name outside (the peer is
``world``, subject to the client's egress policy). A CNAME to a cluster name no Service answers,
a loop, or an IP written as the name (Kubernetes treats it as a DNS name of digits) resolve to
nothing."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.model.addresses import Unresolved
from kubectl_meshdoctor.model.objects import Service
from kubectl_meshdoctor.model.view import Model

CLUSTER_SUFFIX = ".svc.cluster.local"


@dataclass(frozen=True, slots=True)
class Alias:
    """Where an ExternalName Service leads: ``service`` (in the cluster) or ``outside`` (a name),
    else ``unresolved``; ``chain`` is the CNAME chain as the client's resolver follows it."""

    service: Service | None
    outside: str | None
    unresolved: Unresolved | None
    chain: tuple[str, ...]


def client_name(svc: Service) -> str:
    return f"{svc.name}.{svc.namespace}"


def fqdn(svc: Service) -> str:
    return f"{svc.name}.{svc.namespace}{CLUSTER_SUFFIX}"


def follow(model: Model, svc: Service) -> Alias:
    first = client_name(svc)
    chain: list[str] = []
    current = svc
    while current.type == "ExternalName":
        label = f"ExternalName Service {current.namespace}/{current.name}"
        target = (current.external_name or "").rstrip(".").lower()
        chain.append(target)
        if not target:
            return Alias(None, None, Unresolved(first, True, f"{label} has no spec.externalName", ()), tuple(chain))
        try:
            ipaddress.ip_address(target)
        except ValueError:
            pass
        else:
            why = f"{label} names {target}, an IP: Kubernetes answers it as a CNAME to a DNS name of digits"
            return Alias(None, None, Unresolved(first, True, why, ()), tuple(chain))
        if not target.endswith(CLUSTER_SUFFIX):
            return Alias(None, target, None, tuple(chain))
        labels = target[: -len(CLUSTER_SUFFIX)].split(".")
        if len(labels) != 2:
            why = f"{label} points to {target}, which is not a Service name (NAME.NAMESPACE{CLUSTER_SUFFIX})"
            return Alias(None, None, Unresolved(first, False, why, ()), tuple(chain))
        name, namespace = labels
        found = model.services.get(f"{namespace}/{name}")
        if found is None:
            in_view = namespace in model.namespaces or namespace in model.pods_by_ns
            why = f"{label} points to {target}, and no Service {namespace}/{name} " + (
                "exists: the CNAME resolves to nothing" if in_view else "is in this view"
            )
            return Alias(None, None, Unresolved(first, in_view, why, ()), tuple(chain))
        if len(chain) > 8 or found is svc:
            why = f"{label}: the CNAME chain {' → '.join(chain)} loops"
            return Alias(None, None, Unresolved(first, True, why, ()), tuple(chain))
        current = found
    return Alias(current, None, None, tuple(chain))


def target_namespaces(docs: Iterable[Mapping[str, Any]], namespaces: Iterable[str]) -> set[str]:
    """Namespaces the ExternalName Services of ``namespaces`` point into (followed through chains),
    so a question scoped to the alias also reads where the CNAME leads."""
    aliases: dict[str, list[str]] = {}
    for doc in docs:
        spec, meta = doc.get("spec"), doc.get("metadata")
        if doc.get("kind") != "Service" or not isinstance(spec, dict) or not isinstance(meta, dict):
            continue
        target = str(spec.get("externalName") or "").rstrip(".").lower()
        if spec.get("type") == "ExternalName" and target.endswith(CLUSTER_SUFFIX):
            aliases.setdefault(str(meta.get("namespace") or "default"), []).append(target)
    wanted = set(namespaces)
    out: set[str] = set()
    todo = list(wanted)
    while todo:
        for target in aliases.get(todo.pop(), []):
            labels = target[: -len(CLUSTER_SUFFIX)].split(".")
            if len(labels) == 2 and labels[1] not in wanted | out:
                out.add(labels[1])
                todo.append(labels[1])
    return out
