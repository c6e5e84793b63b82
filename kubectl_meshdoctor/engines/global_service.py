"""Cilium global Services (semantics-multicluster.md M5, MB6): does a client in one cluster reach the
backends another cluster holds for the Service of the same namespace and name?

* The Service must exist in the client's cluster: that is where its name resolves and where the
  frontend (ClusterIP) lives; without it the client's lookup fails.
* Both clusters must mark it ``service.cilium.io/global: "true"``, and the backends' cluster must not
  mark it ``service.cilium.io/shared: "false"`` (it would consume remote backends but not export its own).
* ``service.cilium.io/affinity: local`` in the client's cluster sends requests to healthy local
  backends first: remote ones are used only when none is healthy (said as a note).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import Cause, ObjectRef
from kubectl_meshdoctor.model.objects import Service

GLOBAL = "service.cilium.io/global"
SHARED = "service.cilium.io/shared"
AFFINITY = "service.cilium.io/affinity"


@dataclass(frozen=True, slots=True)
class GlobalView:
    """How the client's cluster sees the backends of the server's cluster: ``cause`` when it does not."""

    cause: Cause | None
    missing: bool  # no Service of that name in the client's cluster (its name does not resolve there)
    notes: tuple[str, ...] = ()


def _true(annotations: Mapping[str, str], key: str) -> bool:
    return annotations.get(key, "").strip().lower() == "true"


def _ports(svc: Service) -> set[tuple[int, str]]:
    return {(p.port, p.protocol) for p in svc.ports}


def judge(
    key: str,
    client_cluster: str,
    server_cluster: str,
    client_svc: Service | None,
    server_svc: Service,
    client_ann: Mapping[str, str],
    server_ann: Mapping[str, str],
) -> GlobalView:
    """M5's backend table for the pair (client's cluster C1, backends' cluster C2)."""
    ref = server_svc.ref()
    global_line = f'{GLOBAL}: "true"'
    if client_svc is None:
        reason = (
            f"Service {key} exists in {server_cluster} but not in {client_cluster}: a client in {client_cluster} "
            f"cannot resolve its name (a global Service must be defined in every cluster that calls it)"
        )
        fix = (
            f"create Service {key} in {client_cluster} with the same ports and the annotation {global_line} (its "
            f"selector may match no pod there), and keep {global_line} on {server_cluster}'s"
        )
        return GlobalView(_cause(reason, fix, (ref,), client_cluster, server_cluster, key), True)
    refs = (client_svc.ref(), ref)
    if not (_true(client_ann, GLOBAL) and _true(server_ann, GLOBAL)):
        lacking = [
            c for c, ann in ((client_cluster, client_ann), (server_cluster, server_ann)) if not _true(ann, GLOBAL)
        ]
        reason = (
            f"Service {key} is not global in {' and '.join(lacking)}: {client_cluster} load-balances only to its "
            f"own backends and never reaches those of {server_cluster}"
        )
        fix = f"annotate Service {key} with {global_line} in both {client_cluster} and {server_cluster}"
        return GlobalView(_cause(reason, fix, refs, client_cluster, server_cluster, key), False)
    if server_ann.get(SHARED, "").strip().lower() == "false":
        reason = (
            f'{server_cluster} marks Service {key} {SHARED}: "false": it uses remote backends but does not export '
            f"its own, so {client_cluster} never reaches them"
        )
        fix = f'remove the annotation {SHARED} from Service {key} in {server_cluster} (or set it to "true")'
        return GlobalView(_cause(reason, fix, refs, client_cluster, server_cluster, key), False)
    notes: list[str] = []
    if client_ann.get(AFFINITY, "").strip().lower() == "local":
        notes.append(
            f'{client_cluster} sets {AFFINITY}: "local" on Service {key}: requests go to its healthy local '
            f"backends first; {server_cluster}'s are used only when none is healthy"
        )
    if _ports(client_svc) != _ports(server_svc):
        notes.append(
            f"Service {key} exposes different ports in {client_cluster} and {server_cluster}: backends are merged "
            "by port name, so a port one cluster lacks has only the other's backends"
        )
    return GlobalView(None, False, tuple(notes))


def _cause(reason: str, fix: str, refs: tuple[ObjectRef, ...], client: str, server: str, key: str) -> Cause:
    return Cause(
        "clustermesh-global-service-missing",
        refs,
        {"reason": reason, "fix_hint": fix, "cluster": client, "peer_cluster": server, "service": key},
    )
