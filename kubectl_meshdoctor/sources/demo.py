"""Bundled demo scenarios (package data under kubectl_meshdoctor/demos/)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.snapshot import load_files


@dataclass(frozen=True, slots=True)
class DemoInfo:
    name: str
    description: str


def _root() -> Traversable:
    return resources.files("kubectl_meshdoctor").joinpath("demos")


def list_demos() -> list[DemoInfo]:
    out: list[DemoInfo] = []
    for entry in sorted(_root().iterdir(), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith(("_", ".")):
            desc_file = entry.joinpath("DESCRIPTION")
            desc = desc_file.read_text("utf-8").strip().splitlines()[0] if desc_file.is_file() else ""
            out.append(DemoInfo(entry.name, desc))
    return out


def walk_files(node: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    """Every file under a packaged directory, by path and bytes, in name order."""
    for entry in sorted(node.iterdir(), key=lambda e: e.name):
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from walk_files(entry, name + "/")
        elif entry.is_file():
            yield name, entry.read_bytes()


def read_demo(name: str) -> RawSnapshot:
    names = [d.name for d in list_demos()]
    if name not in names:
        from kubectl_meshdoctor.model.refs import closest

        hint = closest(name, names)
        more = f"; did you mean {', '.join(hint)}?" if hint else ""
        raise UsageError(f"unknown demo {name!r}{more} (see `kubectl meshdoctor demo`)")
    snap = load_files(walk_files(_root().joinpath(name), ""), f"demo:{name}")
    return snap
