"""Offline input of N clusters (semantics-multicluster.md Part S): ``DIR/clusters/<name>/``, each the
single-cluster layout of contract §3, plus an optional ``DIR/mesh.yaml`` index. Bundled multi-cluster
demos (``kubectl_meshdoctor/demos_mc/<name>/``) have the same layout.

Each cluster's directory is read exactly as ``--from`` reads one cluster, so it stays readable alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubectl_meshdoctor.errors import InputError, UsageError
from kubectl_meshdoctor.raw import RawSnapshot

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CLUSTERS_DIR = "clusters"
MESH_FILE = "mesh.yaml"


@dataclass(slots=True)
class MeshRaw:
    """The raw input of every cluster, by directory name (sorted), and the mesh.yaml index."""

    label: str  # the --from path or demo:NAME, for messages
    clusters: dict[str, RawSnapshot] = field(default_factory=dict)
    index: dict[str, dict[str, str]] = field(default_factory=dict)  # cluster -> mesh.yaml facts
    warnings: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # live: context -> why nothing could be read


def _demo_root() -> Traversable:
    from importlib import resources  # only for the bundled demos: --from a directory never needs it

    return resources.files("kubectl_meshdoctor").joinpath("demos_mc")


def list_mc_demos() -> list[tuple[str, str]]:
    """(name, first DESCRIPTION line) of the bundled multi-cluster demos."""
    out: list[tuple[str, str]] = []
    root = _demo_root()
    if not root.is_dir():
        return out
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and entry.joinpath(CLUSTERS_DIR).is_dir():
            desc = entry.joinpath("DESCRIPTION")
            text = desc.read_text("utf-8").strip().splitlines()[0] if desc.is_file() else ""
            out.append((entry.name, text))
    return out


def is_mc_demo(name: str | None) -> bool:
    return name is not None and any(n == name for n, _ in list_mc_demos())


def is_multicluster(path_text: str | None) -> bool:
    """Is this ``--from`` input the N-cluster layout (a directory holding ``clusters/<name>/``)?"""
    if not path_text or "\0" in path_text:
        return False
    root = Path(path_text) / CLUSTERS_DIR
    return root.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir())


def _parse_index(text: str, shown: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """mesh.yaml: ``clusters: [{name, context, istioClusterID, network, meshID, trustDomain}]`` (a list)
    or a mapping of cluster name to those fields; top-level ``meshID``/``trustDomain`` apply to all."""
    from kubectl_meshdoctor.model import yamlcore

    try:
        doc = yamlcore.load(text)
    except Exception as err:  # the YAML library's own errors: one line naming the file
        raise InputError(shown, None, f"not valid YAML ({str(err).splitlines()[0]})") from None
    if doc is None:
        return {}, []
    if not isinstance(doc, dict):
        raise InputError(shown, None, "expected a mapping with a `clusters` list")
    shared = {k: str(v) for k, v in doc.items() if k in ("meshID", "trustDomain") and v is not None}
    raw = doc.get("clusters") or []
    items: list[tuple[str, Any]] = []
    if isinstance(raw, dict):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(str((v or {}).get("name", "")) if isinstance(v, dict) else "", v) for v in raw]
    else:
        raise InputError(shown, None, "`clusters` must be a list or a mapping")
    out: dict[str, dict[str, str]] = {}
    warnings: list[str] = []
    for name, value in items:
        if not name or not isinstance(value, dict):
            warnings.append(f"{shown}: a clusters entry without a name was ignored")
            continue
        facts = dict(shared)
        facts.update({str(k): _text(v) for k, v in value.items() if k != "name" and v is not None})
        out[name] = facts
    return out, warnings


def _text(value: Any) -> str:
    """A mesh.yaml value as text: lists (``istioRemoteClusters: [west]``) comma-joined, booleans lower-case."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_mesh(path_text: str, namespaces: Sequence[str] | None = None) -> MeshRaw:
    """Every ``clusters/<name>/`` directory read as one cluster (objects now, flows left to stream)."""
    from kubectl_meshdoctor.sources.snapshot import read_snapshot

    root = Path(path_text)
    mesh = MeshRaw(path_text.rstrip("/"))
    for sub in sorted(p for p in (root / CLUSTERS_DIR).iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            mesh.clusters[sub.name] = read_snapshot(str(sub), lazy_flows=True, namespaces=namespaces)
        except UsageError as err:
            raise UsageError(f"cluster {sub.name}: {err}") from None
    index = root / MESH_FILE
    if index.is_file():
        mesh.index, mesh.warnings = _parse_index(index.read_text("utf-8"), str(index))
    _check_index(mesh)
    return mesh


def read_mc_demo(name: str) -> MeshRaw:
    from kubectl_meshdoctor.sources.demo import walk_files
    from kubectl_meshdoctor.sources.snapshot import load_files

    root = _demo_root().joinpath(name)
    mesh = MeshRaw(f"demo:{name}")
    for sub in sorted(root.joinpath(CLUSTERS_DIR).iterdir(), key=lambda e: e.name):
        if sub.is_dir():
            mesh.clusters[sub.name] = load_files(walk_files(sub, ""), f"demo:{name}/{CLUSTERS_DIR}/{sub.name}")
    index = root.joinpath(MESH_FILE)
    if index.is_file():
        mesh.index, mesh.warnings = _parse_index(index.read_text("utf-8"), f"demo:{name}/{MESH_FILE}")
    _check_index(mesh)
    return mesh


def _check_index(mesh: MeshRaw) -> None:
    for name in sorted(set(mesh.index) - set(mesh.clusters)):
        mesh.warnings.append(f"{MESH_FILE} names cluster {name!r}, which has no {CLUSTERS_DIR}/{name}/ directory")
