"""The one seam between inputs (live, snapshot, demo, test fakes) and the model.

Every source produces a RawSnapshot: raw Kubernetes objects as dicts (each with
its origin, ``file:line`` offline), Hubble flows as messages of our own proto
(one type for live and offline), and gaps (what could not be read).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class RawObject:
    doc: dict[str, Any]
    origin: str | None = None  # "blue/l7.yaml:14" offline, None live


@dataclass(slots=True)
class FlowQuery:
    """Which flows the question needs: the pair, both directions (contract §2)."""

    source_pods: tuple[str, ...] = ()  # "ns/pod" or "ns/prefix"
    destination_pods: tuple[str, ...] = ()
    since_seconds: float | None = None
    last: int | None = None


@dataclass(slots=True)
class RawSnapshot:
    objects: list[RawObject] = field(default_factory=list)
    flows: list[Any] = field(default_factory=list)  # flow_pb2.Flow messages
    gaps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flow_source: str = "none"  # "hubble" | "snapshot" | "none"
    # offline flow inputs not read yet (sources.flowfiles.FlowFile): streamed for the question asked
    flow_files: list[Any] = field(default_factory=list)
    out_of_scope: int = 0  # objects left unread: outside the namespaces the question needs


class Source(Protocol):
    def objects(self) -> RawSnapshot: ...

    def flows(self, query: FlowQuery) -> Iterator[Any]: ...


RELAY_DOWN = "Hubble flows not checked"  # how the warning that Relay could not be read begins


def relay_down(warnings: list[str]) -> list[str]:
    """The warnings saying Relay could not be read: a command that shows flows reports them as gaps,
    so that "Relay unreachable" never looks like "Hubble saw no flows"."""
    return [w for w in warnings if w.startswith(f"{RELAY_DOWN}: ")]
