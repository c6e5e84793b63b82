"""Offline input (contract §3): a directory or a .tar.gz holding objects and flows.

Objects: ``*.yaml``, ``*.yml``, ``*.json``. Flows: ``*.jsonl`` and ``*.flows.json``
in ``hubble observe -o jsonpb`` form. Anything else (README, DESCRIPTION) is ignored.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

from kubectl_meshdoctor.errors import InputError, UsageError
from kubectl_meshdoctor.sources.base import RawSnapshot
from kubectl_meshdoctor.sources.decode import decode_documents

OBJECT_SUFFIXES = (".yaml", ".yml", ".json")


def is_flow_file(name: str) -> bool:
    return name.endswith((".jsonl", ".flows.json"))


def is_object_file(name: str) -> bool:
    return name.endswith(OBJECT_SUFFIXES) and not is_flow_file(name)


def _dir_files(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield str(path.relative_to(root)), path.read_bytes()


def _tar_files(path: Path) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(path, "r:*") as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
            for member in members:
                handle = tar.extractfile(member)
                if handle is not None:
                    yield member.name.removeprefix("./"), handle.read()
    except (tarfile.TarError, OSError, EOFError) as err:
        first = str(err).splitlines()[0].rstrip(":") if str(err) else type(err).__name__
        raise InputError(str(path), None, f"cannot read archive ({first}); expected a .tar.gz") from None


def load_files(files: Iterator[tuple[str, bytes]], label: str) -> RawSnapshot:
    """Decode (name, bytes) pairs into a RawSnapshot; names are shown as ``label/name``."""
    from kubectl_meshdoctor.sources.flowjson import read_flow_lines

    snap = RawSnapshot(flow_source="snapshot")
    seen_any = False
    for name, data in files:
        shown = f"{label}/{name}" if label else name
        if is_flow_file(name):
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


def read_snapshot(path_text: str) -> RawSnapshot:
    path = Path(path_text)
    if not path_text or not path.exists():
        raise UsageError(f"--from {path_text!r}: no such file or directory")
    if path.is_dir():
        return load_files(_dir_files(path), path_text.rstrip("/"))
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        return load_files(_tar_files(path), path_text)
    if is_object_file(path.name) or is_flow_file(path.name):
        return load_files(iter([(path.name, path.read_bytes())]), str(path.parent))
    raise UsageError(f"--from {path_text!r}: expected a directory or a .tar.gz snapshot")
