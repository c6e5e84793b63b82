"""Raw input as every source hands it over and the model reads it: Kubernetes objects as dicts
(each with its origin), Hubble flows as messages of our own proto, and gaps.

A neutral module below both ``sources`` (which fill it) and ``model`` (which reads it), so that
the model never imports the I/O layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RawObject:
    doc: dict[str, Any]
    origin: str | None = None  # "blue/l7.yaml:14" offline, None live


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
