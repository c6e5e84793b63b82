"""The one seam between inputs (live, snapshot, demo, test fakes) and the model.

Every source produces a RawSnapshot (kubectl_meshdoctor/raw.py, below both sources and model):
raw Kubernetes objects as dicts (each with its origin, ``file:line`` offline), Hubble flows as
messages of our own proto (one type for live and offline), and gaps (what could not be read).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from kubectl_meshdoctor.raw import RawObject, RawSnapshot

__all__ = ["FlowQuery", "RawObject", "RawSnapshot", "Source"]


@dataclass(slots=True)
class FlowQuery:
    """Which flows the question needs: the pair, both directions (contract §2)."""

    source_pods: tuple[str, ...] = ()  # "ns/pod" or "ns/prefix"
    destination_pods: tuple[str, ...] = ()
    since_seconds: float | None = None
    last: int | None = None


class Source(Protocol):
    def objects(self) -> RawSnapshot: ...

    def flows(self, query: FlowQuery) -> Iterator[Any]: ...


RELAY_DOWN = "Hubble flows not checked"  # how the warning that Relay could not be read begins


def relay_down(warnings: list[str]) -> list[str]:
    """The warnings saying Relay could not be read: a command that shows flows reports them as gaps,
    so that "Relay unreachable" never looks like "Hubble saw no flows"."""
    return [w for w in warnings if w.startswith(f"{RELAY_DOWN}: ")]
