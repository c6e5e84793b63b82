"""Names for shell completion: namespaces, workloads, pods and Services.

Completion runs on every <TAB>, so it must answer in well under a second. Offline
(``--from``, ``--demo``) the names come from the snapshot's objects. Live, they come
from ``kubectl get`` rather than the kubernetes client: kubectl is on the PATH whenever
``kubectl meshdoctor`` is being completed, it honours the same kubeconfig, context and
auth plugins, and it saves the ~0.5 s the client costs to import. Any failure gives no
names (completion never prints an error).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.raw import RawObject

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
LIVE_KINDS = "deployments,statefulsets,daemonsets,pods,services"
LIVE_COLUMNS = "KIND:.kind,NAMESPACE:.metadata.namespace,NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].kind"


@dataclass(frozen=True, slots=True)
class Names:
    """Names per namespace, each tuple sorted."""

    namespaces: tuple[str, ...] = ()
    workloads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # deploy/sts/ds + bare pods
    deployments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pods: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def from_rows(rows: Iterable[tuple[str, str, str, str | None]], namespaces: Iterable[str] = ()) -> Names:
    """Build Names from (kind, namespace, name, first owner kind) rows."""
    spaces: set[str] = set(namespaces)
    groups: dict[str, dict[str, set[str]]] = {k: {} for k in ("workloads", "deployments", "pods", "services")}

    def add(group: str, ns: str, name: str) -> None:
        groups[group].setdefault(ns, set()).add(name)

    for kind, ns, name, owner in rows:
        if kind == "Namespace":
            spaces.add(name)
            continue
        if not ns or not name:
            continue
        spaces.add(ns)
        if kind in WORKLOAD_KINDS:
            add("workloads", ns, name)
            if kind == "Deployment":
                add("deployments", ns, name)
        elif kind == "Pod":
            add("pods", ns, name)
            if not owner:  # a bare pod is its own workload; owned pods are reached by prefix
                add("workloads", ns, name)
        elif kind == "Service":
            add("services", ns, name)

    def freeze(group: str) -> dict[str, tuple[str, ...]]:
        return {ns: tuple(sorted(names)) for ns, names in groups[group].items()}

    return Names(tuple(sorted(spaces)), freeze("workloads"), freeze("deployments"), freeze("pods"), freeze("services"))


def _object_row(obj: RawObject) -> tuple[str, str, str, str | None]:
    doc = obj.doc
    raw_meta = doc.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    owners = meta.get("ownerReferences") or []
    owner = owners[0].get("kind") if owners and isinstance(owners[0], dict) else None
    return (
        str(doc.get("kind") or ""),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
        str(owner) if owner else None,
    )


def from_objects(objects: Iterable[RawObject]) -> Names:
    return from_rows(_object_row(o) for o in objects)


def offline(from_path: str | None, demo_name: str | None) -> Names:
    """Names from ``--demo NAME`` or ``--from PATH``."""
    if demo_name:
        from kubectl_meshdoctor.sources.demo import read_demo

        return from_objects(read_demo(demo_name).objects)
    if from_path:
        from kubectl_meshdoctor.sources.snapshot import read_snapshot

        return from_objects(read_snapshot(from_path, lazy_flows=True).objects)  # objects only: flows stay unread
    return Names()


def _kubectl(args: list[str], kubeconfig: str | None, context: str | None, timeout: float) -> list[str]:
    exe = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not exe:
        return []
    cmd = [exe, *args, "--no-headers", f"--request-timeout={int(timeout)}s"]
    if kubeconfig:
        cmd.append(f"--kubeconfig={kubeconfig}")
    if context:
        cmd.append(f"--context={context}")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 1, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return done.stdout.splitlines() if done.returncode == 0 else []


def live(namespace: str | None, kubeconfig: str | None, context: str | None, timeout: float = 5.0) -> Names:
    """Namespaces, and with ``namespace`` the workloads, pods and Services in it, via kubectl."""
    spaces = _kubectl(["get", "namespaces", "-o", "custom-columns=NAME:.metadata.name"], kubeconfig, context, timeout)
    rows: list[tuple[str, str, str, str | None]] = []
    if namespace:
        lines = _kubectl(
            ["get", LIVE_KINDS, "-n", namespace, "-o", f"custom-columns={LIVE_COLUMNS}"], kubeconfig, context, timeout
        )
        for line in lines:
            parts = line.split()
            if len(parts) == 4:
                rows.append((parts[0], parts[1], parts[2], None if parts[3] == "<none>" else parts[3]))
    return from_rows(rows, (s.strip() for s in spaces if s.strip()))
