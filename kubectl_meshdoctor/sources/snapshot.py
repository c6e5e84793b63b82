"""Offline input (contract §3): directories, .tar.gz archives, single files and stdin.

Objects: ``*.yaml``, ``*.yml``, ``*.json`` (decoded when read). Flows: ``*.jsonl``,
``*.flows.json``, NDJSON ``*.json``, Hubble exporter ``*.log``, each optionally ``.gz``, and ``-``
(sources/flowfiles.py); they are listed here and streamed later, for the question asked
(sources/flowscan.py). Anything else (README, DESCRIPTION) is ignored.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kubectl_meshdoctor.errors import InputError, UsageError
from kubectl_meshdoctor.findings.types import Gap
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.decode import Scope, decode_documents, decode_json
from kubectl_meshdoctor.sources.flowfiles import (
    file_flow,
    head_of,
    is_flow_name,
    is_object_name,
    sniff_flows,
    stdin_flow,
    strip_gz,
    tar_flow,
)


def is_flow_file(name: str) -> bool:
    return is_flow_name(name)


def is_object_file(name: str) -> bool:
    return is_object_name(name)


def _visible(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def _add_objects(snap: RawSnapshot, data: bytes, shown: str, scope: frozenset[str] | None = None) -> None:
    """Decode objects; with a ``scope``, keep the cluster-scoped ones and those of its namespaces
    (what the live reader lists for the same question) and only count the others."""
    keep = Scope(scope) if scope is not None else None
    if shown.endswith(".json") and data[:64].lstrip()[:1] in (b"{", b"["):
        objects, gaps = decode_json(data, shown, keep)
    else:
        objects, gaps = decode_documents(_text(data, shown), shown, keep)
    snap.out_of_scope += keep.left_out if keep is not None else 0
    snap.objects.extend(objects)
    snap.gaps.extend(gaps)


class Unreadable:
    """The object files of one directory or archive that cannot be read (a Helm template, a binary):
    each is left out with a gap naming it and the kinds it may hold (every kind when it says none),
    so the hops reading them become unknown; when nothing at all was readable, the first error stands
    (exit 2)."""

    def __init__(self) -> None:
        self.read = False
        self.errors: list[tuple[InputError, bytes]] = []

    def add_objects(self, snap: RawSnapshot, data: bytes, shown: str, scope: frozenset[str] | None) -> None:
        try:
            _add_objects(snap, data, shown, scope)
        except InputError as err:
            self.errors.append((err, data))
        else:
            self.read = True

    def done(self, snap: RawSnapshot) -> None:
        if self.errors and not self.read:
            raise self.errors[0][0]
        for err, data in self.errors:
            kinds = _kinds_named(data)
            held = ", ".join(sorted(kinds)) if kinds else "any kind"
            if "ConfigMap" in kinds:  # it may hold cilium-config or Istio's mesh config (inputs by role)
                kinds |= _config_roles(data)
            snap.gaps.append(Gap(f"{err}; file left out, so its objects ({held}) are not seen", kinds or {"*"}))


_KIND_LINE = re.compile(rb"^[ \t-]*kind:[ \t]*(.*?)[ \t]*$", re.M)
_PLAIN_KIND = re.compile(rb"^[\"']?([A-Z][A-Za-z0-9]*)[\"']?$")


_NAME_LINE = re.compile(rb"^[ \t]*name:[ \t]*(.*?)[ \t]*$", re.M)


def _config_roles(data: bytes) -> set[str]:
    """The configuration inputs an unreadable file of ConfigMaps may hold: cilium-config and Istio's
    mesh config (ConfigMap ``istio``) when it names them, or when a name is a template (any name)."""
    names = {m.group(1).strip(b"\"'") for m in _NAME_LINE.finditer(data[: 1 << 22])}
    templated = any(b"{{" in n for n in names)
    roles = set()
    if templated or b"cilium-config" in names:
        roles.add("CiliumConfig")
    if templated or b"istio" in names:
        roles.add("MeshConfig")
    return roles


def _kinds_named(data: bytes) -> set[str]:
    """The kinds an unreadable file's ``kind:`` lines name; empty (= any kind) when one of them is not
    a plain kind name (a template) or there is none."""
    kinds: set[str] = set()
    for m in _KIND_LINE.finditer(data[: 1 << 22]):
        plain = _PLAIN_KIND.match(m.group(1))
        if plain is None:
            return set()
        kinds.add(plain.group(1).decode("ascii"))
    return kinds


def _collect_dir(root: Path, label: str, snap: RawSnapshot, scope: frozenset[str] | None) -> bool:
    seen = False
    unreadable = Unreadable()
    for path in _visible(root):
        name = str(path.relative_to(root))
        shown = f"{label}/{name}"
        if is_flow_name(name) or (strip_gz(name).endswith(".json") and sniff_flows(head_of(path))):
            snap.flow_files.append(file_flow(path, shown))
            seen = unreadable.read = True
        elif is_object_name(name):
            unreadable.add_objects(snap, path.read_bytes(), shown, scope)
            seen = True
    unreadable.done(snap)
    return seen


def _collect_tar(path: Path, snap: RawSnapshot, scope: frozenset[str] | None) -> bool:
    import tarfile  # only for archives: a directory of JSON files never needs it

    seen = False
    try:
        with tarfile.open(path, "r:*") as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
            unreadable = Unreadable()
            for member in members:
                name = member.name.removeprefix("./")
                shown = f"{path}/{name}"
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                if is_flow_name(name) or (strip_gz(name).endswith(".json") and sniff_flows(handle.read(1 << 16))):
                    snap.flow_files.append(tar_flow(path, member.name, shown))
                    seen = unreadable.read = True
                elif is_object_name(name):
                    unreadable.add_objects(snap, handle.read(), shown, scope)
                    seen = True
            unreadable.done(snap)
    except (tarfile.TarError, OSError, EOFError) as err:
        first = str(err).splitlines()[0].rstrip(":") if str(err) else type(err).__name__
        raise InputError(str(path), None, f"cannot read archive ({first}); expected a .tar.gz") from None
    return seen


def collect(path_text: str, snap: RawSnapshot, scope: frozenset[str] | None = None) -> None:
    """Add one ``--from`` input to ``snap``: objects decoded now, flow files listed for streaming."""
    if path_text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("--from -: standard input is a terminal; pipe flows in (hubble observe -o jsonpb | …)")
        snap.flow_files.append(stdin_flow())
        return
    path = Path(path_text)
    if not path_text or not path.exists():
        raise UsageError(f"--from {path_text!r}: no such file or directory")
    if path.is_dir():
        label = path_text.rstrip("/")
        if not _collect_dir(path, label, snap, scope):
            raise UsageError(f"{label}: no *.yaml, *.json, *.jsonl or *.log files found (contract §3 layout)")
        return
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        if not _collect_tar(path, snap, scope):
            raise UsageError(f"{path_text}: no *.yaml, *.json, *.jsonl or *.log files found (contract §3 layout)")
        return
    name = path.name
    if is_flow_name(name) or (strip_gz(name).endswith(".json") and sniff_flows(head_of(path))):
        snap.flow_files.append(file_flow(path, path_text))
    elif is_object_name(name):
        _add_objects(snap, path.read_bytes(), path_text, scope)
    else:
        raise UsageError(
            f"--from {path_text!r}: expected a directory, a .tar.gz, a flows file (.jsonl, .log, "
            "optionally .gz), an objects file (.yaml, .json) or - for stdin"
        )


def load_files(files: Iterator[tuple[str, bytes]], label: str) -> RawSnapshot:
    """Decode (name, bytes) pairs into a RawSnapshot; names are shown as ``label/name``."""
    from kubectl_meshdoctor.sources.flowjson import read_flow_lines

    snap = RawSnapshot(flow_source="snapshot")
    seen_any = False
    for name, data in files:
        shown = f"{label}/{name}" if label else name
        if is_flow_file(name) or (name.endswith(".json") and sniff_flows(data[: 1 << 16])):
            seen_any = True
            result = read_flow_lines(_text(data, shown).splitlines(), shown)
            snap.flows.extend(result.flows)
            snap.warnings.extend(result.warnings)
        elif is_object_file(name):
            seen_any = True
            objects, gaps = decode_documents(_text(data, shown), shown)
            snap.objects.extend(objects)
            snap.gaps.extend(gaps)
    if not seen_any:
        raise UsageError(f"{label}: no *.yaml, *.json or *.jsonl files found (contract §3 layout)")
    return snap


def _text(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(shown, None, f"not UTF-8 text ({err.reason})") from None


def read_snapshot(path_text: str, lazy_flows: bool = False, namespaces: Sequence[str] | None = None) -> RawSnapshot:
    """Objects now; flows now (``lazy_flows=False``) or left in ``flow_files`` to be streamed for
    one question (explain, flows). ``path_text`` may name several inputs separated by NUL (the
    CLI joins repeated ``--from`` so), each a directory, a .tar.gz, a file or ``-`` (stdin).
    ``namespaces``: keep only their objects and the cluster-scoped ones (issue 13: at 50,000 pods
    most of the load is building objects the question never touches)."""
    snap = RawSnapshot(flow_source="snapshot")
    scope = frozenset(namespaces) if namespaces is not None else None
    for part in path_text.split("\0"):
        collect(part, snap, scope)
    if snap.flow_files and not lazy_flows:
        materialize_flows(snap)
    return snap


def materialize_flows(snap: RawSnapshot, namespaces: list[str] | None = None) -> None:
    """Read the flows of ``snap.flow_files`` into ``snap.flows`` (matrix, playground, demos): all of
    them, or those with an end in ``namespaces`` (the rest is never decoded, see flowscan)."""
    from kubectl_meshdoctor.sources.flowscan import Prefilter, scan

    wanted = set(namespaces) if namespaces is not None else None

    def keep(flow: Any) -> bool:
        if wanted is None or flow.source.namespace in wanted or flow.destination.namespace in wanted:
            snap.flows.append(flow)
        return False

    pre = Prefilter.of([f'"{ns}"' for ns in namespaces]) if namespaces and len(namespaces) <= 16 else None
    result = scan(snap.flow_files, keep, pre)
    snap.warnings.extend(result.warnings)
    snap.flow_files = []
