"""Tolerant reader and writer of ``hubble observe -o jsonpb`` NDJSON.

Measured speed (``read_flow_lines`` on basic-sample-348-http-flows.json repeated to 34,800
L7 HTTP lines, python 3.11, protobuf 6.33.6 upb, one core of this dev VM):
    ~2,500 flows/s (json.loads ~28,000 lines/s; ``json_format.ParseDict`` is the cost).
L3/L4 trace flows are smaller and parse roughly twice as fast.

Why the shape of this module (hubble-api.md §7):

* Each line is a ``GetFlowsResponse`` envelope ``{"flow": …, "node_name": …, "time": …}``;
  Hubble CLI ≤ 0.10 (or ``HUBBLE_COMPAT=legacy-json-output``) printed a bare ``Flow``.
  Both shapes are accepted. ``node_status`` and ``lost_events`` lines are not flows: they are
  counted, and lost events become one warning (missing events mean missing evidence).
* Keys may be proto names (what Hubble prints) or lowerCamelCase JSON names, enums names or
  numbers; ``json_format`` accepts all of those. Unknown enum *numbers* are kept (proto3 enums
  are open), e.g. drop reason 206.
* Newer Hubble versions add fields. We parse strictly first, which costs nothing extra when the
  line is clean, and only on an "unknown field"/"unknown enum name" error re-parse the line
  leniently; after the first such line the rest of the read goes straight to lenient parsing,
  and the read carries exactly one warning for it (architecture habit 9: tolerant readers).
* A line that is not JSON, not an object or not a flow is skipped with a ``origin:line``
  warning; reading never raises for bad content.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from kubectl_meshdoctor._proto import flow_pb2

__all__ = ["FlowReadResult", "flow_to_jsonpb", "read_flow_file", "read_flow_lines"]

# Envelope keys of observer.GetFlowsResponse, proto and lowerCamelCase spellings.
_FLOW_KEYS = ("flow",)
_NODE_STATUS_KEYS = ("node_status", "nodeStatus")
_LOST_KEYS = ("lost_events", "lostEvents")
_NODE_NAME_KEYS = ("node_name", "nodeName")
_ENVELOPE_KEYS = frozenset(
    (*_FLOW_KEYS, *_NODE_STATUS_KEYS, *_LOST_KEYS, *_NODE_NAME_KEYS, "time"),
)
# Node states that mean flows are missing from the stream (hubble-api.md §3.2).
_BAD_NODE_STATES = frozenset({"NODE_UNAVAILABLE", "NODE_GONE", "NODE_ERROR", 2, 3, 4})

_UNKNOWN_FIELD_RE = re.compile(r'has no field named "([^"]+)" at "([^"]+)"')
_UNKNOWN_ENUM_RE = re.compile(r"Invalid enum value (\S+) for enum type \S+ at (\S+)")


@dataclass(slots=True)
class FlowReadResult:
    """What one read produced: the flows, human-readable warnings and skipped line count.

    ``node_status`` counts Relay node-status lines and ``lost_events`` sums the events that
    Hubble reported as lost; neither kind of line is a flow or a skipped line.
    """

    flows: list[flow_pb2.Flow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    node_status: int = 0
    lost_events: int = 0


class _Reader:
    """State of one read: lenient mode is switched on by the first unknown field."""

    __slots__ = ("bad_nodes", "lenient", "lost_records", "origin", "result", "unknown_first")

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.result = FlowReadResult()
        self.lenient = False
        self.unknown_first: str | None = None
        self.lost_records = 0
        self.bad_nodes: dict[str, None] = {}  # ordered set

    def skip(self, lineno: int, why: str) -> None:
        self.result.skipped += 1
        self.result.warnings.append(f"{self.origin}:{lineno}: {why}; line skipped")

    def note_unknown(self, what: str) -> None:
        if self.unknown_first is None:
            self.unknown_first = what
        self.lenient = True

    def feed(self, lineno: int, line: str) -> None:
        text = line.strip()
        if not text:
            return
        try:
            obj = json.loads(text)
        except ValueError as exc:
            self.skip(lineno, f"not JSON ({exc})")
            return
        if not isinstance(obj, dict):
            self.skip(lineno, f"expected a JSON object, got {type(obj).__name__}")
            return
        if "flow" in obj:
            self._envelope(lineno, obj)
        elif any(k in obj for k in _NODE_STATUS_KEYS):
            self._node_status(obj)
        elif any(k in obj for k in _LOST_KEYS):
            self._lost(obj)
        else:
            # Legacy `hubble observe -o json`: the Flow itself.
            msg = self._parse_flow(lineno, obj)
            if msg is not None:
                self.result.flows.append(msg)

    def _envelope(self, lineno: int, obj: dict[str, Any]) -> None:
        for key in obj:
            if key not in _ENVELOPE_KEYS:
                self.note_unknown(key)
        body = obj["flow"]
        if not isinstance(body, dict):
            self.skip(lineno, f'"flow" is not a JSON object but {type(body).__name__}')
            return
        msg = self._parse_flow(lineno, body)
        if msg is None:
            return
        # The envelope repeats node_name/time; fill them in when a field mask left them out.
        if not msg.node_name:
            node = _first(obj, _NODE_NAME_KEYS)
            if isinstance(node, str):
                msg.node_name = node
        if not msg.HasField("time"):
            when = obj.get("time")
            if isinstance(when, str):
                try:
                    msg.time.FromJsonString(when)
                except ValueError:
                    msg.ClearField("time")
                    self.result.warnings.append(f"{self.origin}:{lineno}: bad envelope time {when!r} ignored")
        self.result.flows.append(msg)

    def _parse_flow(self, lineno: int, body: dict[str, Any]) -> flow_pb2.Flow | None:
        msg = flow_pb2.Flow()
        if not self.lenient:
            try:
                json_format.ParseDict(body, msg)
                return msg
            except json_format.ParseError as exc:
                what = _unknown_in(str(exc))
                if what is None:
                    self.skip(lineno, f"not a Hubble flow ({_first_line(exc)})")
                    return None
                self.note_unknown(what)
                msg.Clear()
        try:
            json_format.ParseDict(body, msg, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            self.skip(lineno, f"not a Hubble flow ({_first_line(exc)})")
            return None
        return msg

    def _node_status(self, obj: dict[str, Any]) -> None:
        self.result.node_status += 1
        status = _first(obj, _NODE_STATUS_KEYS)
        if not isinstance(status, dict):
            return
        state = _first(status, ("state_change", "stateChange"))
        if state in _BAD_NODE_STATES:
            names = _first(status, ("node_names", "nodeNames"))
            for name in names if isinstance(names, list) else ():
                self.bad_nodes[str(name)] = None

    def _lost(self, obj: dict[str, Any]) -> None:
        self.lost_records += 1
        lost = _first(obj, _LOST_KEYS)
        if isinstance(lost, dict):
            with contextlib.suppress(TypeError, ValueError):
                self.result.lost_events += int(_first(lost, ("num_events_lost", "numEventsLost")) or 0)

    def finish(self) -> FlowReadResult:
        res = self.result
        if self.unknown_first is not None:
            res.warnings.append(
                f"{self.origin}: unknown fields ignored (first: {self.unknown_first}); newer Hubble?"
            )
        if self.lost_records:
            res.warnings.append(
                f"{self.origin}: Hubble reported {res.lost_events} lost events "
                f"({self.lost_records} lost_events records); flows may be missing"
            )
        if self.bad_nodes:
            names = ", ".join(self.bad_nodes)
            res.warnings.append(
                f"{self.origin}: Relay reported nodes unavailable, gone or in error: {names}; "
                "flows may be missing"
            )
        return res


def _first(obj: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _unknown_in(message: str) -> str | None:
    """Name the unknown field or enum name that ``json_format`` rejected, or None.

    Paths come back rooted at the message type ("Flow.l4.TCP"); we report them rooted at
    the envelope key ("flow.l4.TCP.foo") as users see them in the file.
    """
    m = _UNKNOWN_FIELD_RE.search(message)
    if m is not None:
        return _user_path(m.group(2)) + "." + m.group(1)
    m = _UNKNOWN_ENUM_RE.search(message)
    if m is not None:
        return f"{_user_path(m.group(2).rstrip('.'))}={m.group(1)}"
    return None


def _user_path(path: str) -> str:
    head, _, rest = path.partition(".")
    return "flow" + ("." + rest if rest else "") if head == "Flow" else path


def read_flow_lines(lines: Iterable[str], origin: str) -> FlowReadResult:
    """Parse NDJSON lines of ``hubble observe -o jsonpb`` (or legacy bare flows).

    Never raises for bad content; see the module docstring for the rules.
    """
    reader = _Reader(origin)
    for lineno, line in enumerate(lines, start=1):
        reader.feed(lineno, line)
    return reader.finish()


def read_flow_file(path: pathlib.Path) -> FlowReadResult:
    """Read a jsonpb NDJSON file; warnings name ``path`` as given, plus the line number."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        return read_flow_lines(fh, str(path))


def flow_to_jsonpb(flow: flow_pb2.Flow, node_name: str | None = None) -> str:
    """One NDJSON line in ``hubble observe -o jsonpb`` form (proto field names, compact).

    The envelope's ``node_name``/``time`` default to the flow's own, as Hubble sends them.
    """
    envelope: dict[str, Any] = {
        "flow": json_format.MessageToDict(flow, preserving_proto_field_name=True),
    }
    node = flow.node_name if node_name is None else node_name
    if node:
        envelope["node_name"] = node
    if flow.HasField("time"):
        envelope["time"] = flow.time.ToJsonString()
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
