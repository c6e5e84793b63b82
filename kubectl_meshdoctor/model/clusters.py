"""One cluster of a ClusterMesh as the diagnosis needs it (semantics-multicluster.md M1, M4.1, S2):
its Cilium name, its ID, its Cilium version and whether peer selectors without a cluster key match
only local peers (``policy-default-local-cluster``). Pure: reads the cluster's raw objects and model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kubectl_meshdoctor.model.objects import CLUSTER_KEY
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.raw import RawSnapshot

LOCAL_DEFAULT_KEY = "policy-default-local-cluster"
_VERSION = re.compile(r":v?(\d+)\.(\d+)(?:\.(\d+))?")
# cilium-config keys that change how a policy decides; the clusters of one call must agree on them
POLICY_KEYS = (
    "enable-policy",
    "policy-audit-mode",
    "allow-localhost",
    "policy-cidr-match-mode",
    "enable-l7-proxy",
    "policy-deny-response",
)


@dataclass(frozen=True, slots=True)
class LocalDefault:
    """``policy-default-local-cluster`` of one cluster: on, off, or unknown (None), and why."""

    on: bool | None
    why: str


@dataclass(slots=True)
class Cluster:
    directory: str  # clusters/<directory>/
    name: str  # the Cilium cluster-name (the directory name when cilium-config does not say)
    model: Model
    raw: RawSnapshot
    cluster_id: str = ""
    version: tuple[int, int] | None = None
    local_default: LocalDefault = field(default_factory=lambda: LocalDefault(None, ""))
    istio: Mapping[str, str] = field(default_factory=dict)  # mesh.yaml facts (istioClusterID, network...)
    notes: list[str] = field(default_factory=list)  # what the reader had to assume about this cluster
    unreadable: str = ""  # live: why nothing of this cluster could be read

    @property
    def names(self) -> tuple[str, ...]:
        """The names a reference may use: the Cilium name, the directory, Istio's cluster ID."""
        found = [self.name, self.directory, self.istio.get("istioClusterID", "")]
        return tuple(dict.fromkeys(n for n in found if n))


def cilium_version(raw: RawSnapshot) -> tuple[int, int] | None:
    """The agent version from the image tag of DaemonSet kube-system/cilium (S2), None when unknown."""
    for obj in raw.objects:
        doc = obj.doc
        meta = doc.get("metadata") or {}
        if doc.get("kind") != "DaemonSet" or meta.get("name") != "cilium":
            continue
        spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in spec.get("containers") or []:
            match = _VERSION.search(str((container or {}).get("image", "")))
            if match:
                return int(match.group(1)), int(match.group(2))
    return None


def local_default(model: Model, version: tuple[int, int] | None) -> LocalDefault:
    """M4.1: the key in cilium-config decides; absent, the version's default (≤1.17 no such option,
    1.18 false, 1.19+ true); neither known: unknown, never a guess."""
    config = model.cilium_config
    if config.present and LOCAL_DEFAULT_KEY in config.data:
        value = config.get(LOCAL_DEFAULT_KEY).strip().lower()
        return LocalDefault(value == "true", f'cilium-config {LOCAL_DEFAULT_KEY}: "{value}"')
    shown = f"{version[0]}.{version[1]}" if version else ""
    if version is not None and config.present:
        if version < (1, 18):
            return LocalDefault(False, f"Cilium {shown}: selectors match peers of every cluster (no such option)")
        if version < (1, 19):
            return LocalDefault(False, f"Cilium {shown}: {LOCAL_DEFAULT_KEY} defaults to false")
        return LocalDefault(True, f"Cilium {shown}: {LOCAL_DEFAULT_KEY} defaults to true")
    missing = (
        "cilium-config is not in the input" if not config.present else f"cilium-config does not set {LOCAL_DEFAULT_KEY}"
    )
    return LocalDefault(
        None,
        f"{missing} and the Cilium version is unknown (no DaemonSet kube-system/cilium): its default "
        "differs by version (false up to 1.18, true from 1.19)",
    )


def make_cluster(directory: str, raw: RawSnapshot, model: Model, istio: Mapping[str, str]) -> Cluster:
    """The cluster's Cilium name from cilium-config ``cluster-name`` (else the directory name, said so),
    and every pod's identity labelled with it (``io.cilium.k8s.policy.cluster``, M3)."""
    config = model.cilium_config
    configured = config.get("cluster-name").strip() if config.present else ""
    notes: list[str] = []
    if configured and configured != "default":
        name = configured
        if configured != directory:
            notes.append(
                f"clusters/{directory}: cilium-config cluster-name is {configured!r}; the cluster is named "
                f"{configured} (the directory name {directory!r} is accepted as an alias)"
            )
    else:
        name = directory
        why = "cilium-config is not in the input" if not config.present else "cilium-config sets no cluster-name"
        if configured == "default":
            why = "cilium-config cluster-name is 'default' (not set: ClusterMesh needs a unique name, M1)"
        notes.append(f"clusters/{directory}: {why}; its pods are taken to carry cluster label {directory!r}")
    for pod in model.pods.values():
        if pod.identity.get(CLUSTER_KEY) != name:
            pod.identity = {**pod.identity, CLUSTER_KEY: name}
    version = cilium_version(raw)
    cluster = Cluster(directory, name, model, raw, config.get("cluster-id"), version, istio=dict(istio), notes=notes)
    cluster.local_default = local_default(model, version)
    return cluster


def mesh_notes(clusters: list[Cluster]) -> list[str]:
    """Mesh-wide misconfigurations the reader sees at once (MB4): duplicate names or IDs."""
    notes: list[str] = []
    by_name: dict[str, list[str]] = {}
    by_id: dict[str, list[str]] = {}
    for c in clusters:
        by_name.setdefault(c.name, []).append(c.directory)
        if c.cluster_id and c.cluster_id != "0":
            by_id.setdefault(c.cluster_id, []).append(c.name)
    for name, dirs in sorted(by_name.items()):
        if len(dirs) > 1:
            notes.append(f"clusters {', '.join(dirs)} all carry the Cilium cluster-name {name!r}: names must be unique")
    for cid, names in sorted(by_id.items()):
        if len(names) > 1:
            notes.append(f"clusters {', '.join(names)} share cluster-id {cid}: an agent refuses a peer with its own ID")
    return notes


def annotations_of(cluster: Cluster, kind: str, namespace: str, name: str) -> dict[str, str]:
    """metadata.annotations of one object of the cluster's input (Services carry the M5 annotations)."""
    for obj in cluster.raw.objects:
        doc = obj.doc
        meta = doc.get("metadata") or {}
        if doc.get("kind") == kind and meta.get("name") == name and (meta.get("namespace") or "default") == namespace:
            raw = meta.get("annotations") or {}
            return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return {}
