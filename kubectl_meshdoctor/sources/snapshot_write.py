"""Write a RawSnapshot in the contract §3 layout, so ``--from`` reads back the same input.

Layout (a directory, or the same files in a ``.tar.gz``):
    cluster.yaml     cluster-scoped objects (Namespaces, CCNPs) as one ``kind: List``
    <namespace>.yaml that namespace's objects as one ``kind: List``
    flows.jsonl      Hubble flows, one ``hubble observe -o jsonpb`` line each
    README           what was captured, and when (ignored by the reader)

Objects are written as ``kubectl get -o yaml`` prints them (managedFields dropped, as
kubectl does by default). Secrets are never read, so never written.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.raw import RawSnapshot

_SAFE_NAME = str.maketrans({"/": "_", "\\": "_", "\0": "_"})


def is_archive(path: str) -> bool:
    return path.endswith((".tar.gz", ".tgz"))


def snapshot_files(raw: RawSnapshot, note: str = "") -> dict[str, bytes]:
    """File name -> content, in the contract §3 layout."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in raw.objects:
        doc = {k: v for k, v in obj.doc.items()}
        meta = dict(doc.get("metadata") or {})
        meta.pop("managedFields", None)
        doc["metadata"] = meta
        ns = meta.get("namespace")
        groups[f"{str(ns).translate(_SAFE_NAME)}.yaml" if ns else "cluster.yaml"].append(doc)
    files: dict[str, bytes] = {}
    for name in sorted(groups):
        listing = {"apiVersion": "v1", "kind": "List", "items": groups[name]}
        files[name] = yamlcore.dump(listing).encode()
    if raw.flows:
        from kubectl_meshdoctor.sources.flowjson import flow_to_jsonpb

        files["flows.jsonl"] = "".join(flow_to_jsonpb(f) + "\n" for f in raw.flows).encode()
    readme = [
        "meshdoctor snapshot (contract §3): read it with `kubectl meshdoctor explain SRC DST --from PATH`.",
        f"captured: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        f"objects: {len(raw.objects)}, flows: {len(raw.flows)} ({raw.flow_source})",
    ]
    if note:
        readme.append(note)
    readme += [f"gap: {g}" for g in raw.gaps] + [f"warning: {w}" for w in raw.warnings]
    files["README"] = ("\n".join(readme) + "\n").encode()
    return files


def write_snapshot(raw: RawSnapshot, path: str, note: str = "") -> list[str]:
    """Write to a directory (created; must be empty or new) or a ``.tar.gz``; returns the file names."""
    files = snapshot_files(raw, note)
    target = Path(path)
    if is_archive(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        root = target.name.removesuffix(".tar.gz").removesuffix(".tgz")
        with tarfile.open(target, "w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(f"{root}/{name}")
                info.size = len(data)
                info.mtime = int(time.time())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        return sorted(files)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"-o {path}: exists and is not an empty directory (or name a .tar.gz)")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (target / name).write_bytes(data)
    return sorted(files)
