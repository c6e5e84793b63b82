"""Raw input as every source hands it over and the model reads it: Kubernetes objects as dicts
(each with its origin), Hubble flows as messages of our own proto, and gaps.

A neutral module below both ``sources`` (which fill it) and ``model`` (which reads it), so that
the model never imports the I/O layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

# a value's JSON text true to its types: a date, a subclass of str or dict, or a dataclass is
# refused, not converted, so equal text means values of equal types
STRICT_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS


def json_key(value: Any) -> bytes | None:
    """The strict JSON text of a raw value: the key under which the build's and the validator's
    memos keep what they read from it (each checks the values with ``==`` too, so 1, 1.0 and true
    stay apart and NaN is never reused); None when the value is not to be remembered."""
    try:
        return orjson.dumps(value, option=STRICT_JSON)
    except TypeError:  # orjson.JSONEncodeError included
        return None


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
