"""Write the N-cluster snapshot layout (semantics-multicluster.md Part S), so ``--from`` reads back the
same clusters: ``OUT/clusters/<cilium cluster-name>/`` (each written as ``snapshot`` writes one
cluster) and ``OUT/mesh.yaml`` naming each cluster's kube context."""

from __future__ import annotations

from pathlib import Path

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.multicluster import CLUSTERS_DIR, MESH_FILE
from kubectl_meshdoctor.sources.snapshot_write import is_archive, write_snapshot

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def cluster_name(raw: RawSnapshot, context: str) -> str:
    """The cilium-config ``cluster-name`` (M1), else the context name (made safe for a directory)."""
    for obj in raw.objects:
        doc = obj.doc
        meta = doc.get("metadata") or {}
        if doc.get("kind") == "ConfigMap" and meta.get("name") == "cilium-config":
            name = str((doc.get("data") or {}).get("cluster-name", "")).strip()
            if name and name != "default" and set(name) <= _NAME_CHARS:
                return name
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in context)


def write_mesh_snapshot(raws: dict[str, RawSnapshot], out: str) -> list[str]:
    """``raws``: context -> what was captured there. Returns the directories written."""
    if is_archive(out):
        raise UsageError(f"-o {out}: several contexts are written as a directory (clusters/<name>/), not an archive")
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"-o {out}: exists and is not an empty directory")
    names: dict[str, str] = {}
    for context, raw in raws.items():
        name = cluster_name(raw, context)
        if name in names.values():
            raise UsageError(f"contexts {', '.join(c for c, n in names.items() if n == name)} and {context} are "
                             f"the same cluster {name!r} (cilium-config cluster-name)")  # fmt: skip
        names[context] = name
    written = []
    for context, raw in raws.items():
        note = f"cluster {names[context]} (kube context {context}) of an N-cluster snapshot"
        write_snapshot(raw, str(target / CLUSTERS_DIR / names[context]), note)
        written.append(f"{CLUSTERS_DIR}/{names[context]}/")
    index = {"clusters": [{"name": names[c], "context": c} for c in raws]}
    (target / MESH_FILE).write_text(
        "# N-cluster snapshot (semantics-multicluster.md Part S): add network, istioClusterID, rootCA per cluster\n"
        + yamlcore.dump(index),
        encoding="utf-8",
    )
    return [*written, MESH_FILE]
