"""The few fields of a flow that triage groups by, read straight from a jsonpb line (issue 19).

Offline triage decodes tens of thousands of failing lines; building a protobuf ``Flow`` for each
was most of its time, though grouping reads a dozen fields and explain only each call's newest
flows. ``Facts`` (flow_facts.py) holds those fields; ``LiteReader.facts`` takes them from the decoded
JSON of a line.

The short path takes a line only when the full reader (flowjson.LineReader) would read it without
a word: a ``{"flow": …, "node_name": …, "time": …}`` envelope whose keys, at every depth, are
field names as Hubble writes them (proto names), whose enum values are names the schema knows or
numbers, with at most one member of each oneof and an RFC 3339 UTC time, and whose fields grouping
reads have their JSON types. Anything else (bare flows, lowerCamelCase keys, unknown fields or enum
names, ``extensions``) goes to the full reader, which decides and warns as before. The other scalar
values are not type-checked here: a line with, say, a number where a string belongs in a field
grouping does not read is grouped instead of being skipped with a warning (no Hubble writes such
lines). A call's kept flows are the lines themselves, made ``Flow`` messages by the full reader once
the read is over (``KeptReader``; flowlite_lines.KeptLines reuses one for lines alike).
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flow_facts import PORTS, Endpoint, Facts
from kubectl_meshdoctor.sources.flowjson import _EPOCH_ORDINAL, _RFC3339_Z, LineReader

__all__ = ["Bail", "KeptReader", "LiteReader"]

_FD = descriptor.FieldDescriptor
_ENVELOPE = frozenset({"flow", "node_name", "time"})


class Bail(Exception):
    """Not a line for the short path: the full reader decides."""


@dataclass(slots=True)
class _Shape:
    keys: frozenset[str] = frozenset()
    # field -> (enum names, None, repeated) or (None, message shape, repeated); scalars absent
    kinds: dict[str, tuple[frozenset[str] | None, _Shape | None, bool]] = dataclasses.field(default_factory=dict)
    oneofs: tuple[frozenset[str], ...] = ()
    opaque: frozenset[str] = frozenset()  # google.protobuf types: the full reader's


def _shape(desc: descriptor.Descriptor, done: dict[str, _Shape]) -> _Shape:
    got = done.get(desc.full_name)
    if got is not None:
        return got
    shape = done[desc.full_name] = _Shape()  # filled in place: a recursive type holds this object
    keys, opaque = [], []
    for fd in desc.fields:
        keys.append(fd.name)
        if fd.type == _FD.TYPE_MESSAGE:
            if fd.message_type.full_name.startswith("google.protobuf."):
                opaque.append(fd.name)
            else:
                shape.kinds[fd.name] = (None, _shape(fd.message_type, done), fd.is_repeated)
        elif fd.type == _FD.TYPE_ENUM:
            shape.kinds[fd.name] = (frozenset(v.name for v in fd.enum_type.values), None, fd.is_repeated)
    shape.keys, shape.opaque = frozenset(keys), frozenset(opaque)
    shape.oneofs = tuple(frozenset(f.name for f in o.fields) for o in desc.oneofs if len(o.fields) > 1)
    return shape


def _check(shape: _Shape, obj: Any) -> None:
    """Every key a field of the message (proto names), enum values known, one member per oneof."""
    if type(obj) is not dict:
        raise Bail
    names = obj.keys()
    if not names <= shape.keys or shape.opaque & names:
        raise Bail
    for oneof in shape.oneofs:
        if len(oneof & names) > 1:
            raise Bail
    kinds = shape.kinds
    for name, value in obj.items():
        kind = kinds.get(name)
        if kind is None or value is None:
            continue
        allowed, sub, repeated = kind
        if repeated and type(value) is not list:
            raise Bail
        for v in value if repeated else (value,):
            if sub is not None:
                _check(sub, v)
            elif not (v in allowed if type(v) is str else type(v) is int and -(2**31) <= v < 2**31):  # type: ignore[operator]
                raise Bail


def _seconds(prefix: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS`` as seconds since the epoch (the full reader's own conversion)."""
    m = _RFC3339_Z.fullmatch(prefix + "Z")
    if m is None:
        raise Bail
    y, mo, d, h, mi, sec, _ = m.groups()
    if int(h) >= 24 or int(mi) >= 60 or int(sec) >= 60:
        raise Bail
    try:
        days = datetime.date(int(y), int(mo), int(d)).toordinal() - _EPOCH_ORDINAL
    except ValueError as exc:
        raise Bail from exc
    return days * 86400 + int(h) * 3600 + int(mi) * 60 + int(sec)


def _enums(enum: Any) -> dict[str | int, int]:
    return {v.name: v.number for v in enum.DESCRIPTOR.values}


_VERDICTS, _REASONS, _L7_TYPES = _enums(flow_pb2.Verdict), _enums(flow_pb2.DropReason), _enums(flow_pb2.L7FlowType)


def _enum(value: Any, names: dict[str | int, int]) -> int:
    if value is None:
        return 0
    return names[value] if type(value) is str else int(value)  # names checked by _check


def _s(value: Any) -> str:
    """A string field as the message has it ("" when unset); another JSON type: the full reader's."""
    if value is None:
        return ""
    if type(value) is not str:
        raise Bail
    return value


def _int(value: Any, low: int, high: int) -> int:
    if value is None:
        return 0
    if type(value) is not int or not low <= value < high:
        raise Bail
    return value


def _u32(value: Any) -> int:
    return _int(value, 0, 2**32)


def _i32(value: Any) -> int:
    return _int(value, -(2**31), 2**31)


def _ep(obj: Any) -> Endpoint:
    if not obj:
        return ("", "", None)
    wls = obj.get("workloads")
    wl = None
    if wls:
        first = wls[0]
        wl = (_s(first.get("name")), _s(first.get("kind")))
    return (_s(obj.get("namespace")), _s(obj.get("pod_name")), wl)


def _svc(obj: Any) -> tuple[str, str]:
    return (_s(obj.get("namespace")), _s(obj.get("name"))) if obj else ("", "")


class LiteReader:
    """``facts(envelope)``: the Facts of a decoded line, or None when the full reader must read it."""

    __slots__ = ("_flow", "_times")

    def __init__(self) -> None:
        self._times: dict[str, int] = {}  # recorded times to the second -> seconds since the epoch
        flow = _shape(flow_pb2.Flow.DESCRIPTOR, {})
        # the flow's time and is_reply are read below; its other google.protobuf fields (Any) are not
        self._flow = dataclasses.replace(flow, opaque=flow.opaque - {"time", "is_reply"})

    def facts(self, obj: Any) -> Facts | None:
        try:
            return self._facts(obj)
        except (Bail, ValueError, TypeError, AttributeError):
            return None

    def _facts(self, obj: Any) -> Facts:
        if type(obj) is not dict or not obj.keys() <= _ENVELOPE:
            raise Bail
        f = obj.get("flow")
        if type(f) is not dict:
            raise Bail
        reply = f.get("is_reply")
        if reply is not None and type(reply) is not bool:
            raise Bail
        when = f.get("time")
        if when is None:
            when = obj.get("time")
        time_ns = None if when is None else self.time(when)
        _check(self._flow, f)
        node = _s(f.get("node_name"))
        if not node:
            envelope_node = obj.get("node_name")
            node = envelope_node if type(envelope_node) is str else ""
        l7 = f.get("l7")
        record = http = None
        if l7 is not None:
            record = next((k for k in ("dns", "http", "kafka") if l7.get(k) is not None), None)
            if record == "http":
                h = l7["http"]
                http = (_i32(h.get("code")), _s(h.get("method")), _s(h.get("url")))
        l4 = f.get("l4") or {}
        protocol = next((k for k, v in l4.items() if v is not None), None)
        ports = (0, 0)
        rst = False
        if protocol in PORTS:
            sub = l4[protocol]
            ports = (_u32(sub.get("source_port")), _u32(sub.get("destination_port")))
            flag = (sub.get("flags") or {}).get("RST") if protocol == "TCP" else None
            if flag is not None and type(flag) is not bool:
                raise Bail
            rst = bool(flag)
        ip = f.get("IP") or {}
        event = f.get("event_type")
        return Facts(
            verdict=_enum(f.get("verdict"), _VERDICTS),
            drop_reason=_u32(f.get("drop_reason")),
            drop_reason_desc=_enum(f.get("drop_reason_desc"), _REASONS),
            l7=l7 is not None,
            l7_type=_enum(l7.get("type"), _L7_TYPES) if l7 is not None else 0,
            record=record,
            http=http,
            reply=reply,
            protocol=protocol,
            ports=ports,
            rst=rst,
            source=_ep(f.get("source")),
            destination=_ep(f.get("destination")),
            source_ip=_s(ip.get("source")),
            destination_ip=_s(ip.get("destination")),
            source_service=_svc(f.get("source_service")),
            destination_service=_svc(f.get("destination_service")),
            time_ns=time_ns,
            node=node,
            event_type=None if event is None else _i32(event.get("type")),
        )

    def time(self, value: Any) -> int:
        """An RFC 3339 UTC time as the full reader converts it (else Bail: the full reader's)."""
        if type(value) is not str or len(value) < 20:
            raise Bail
        rest = value[19:]
        if rest == "Z":
            nanos = 0
        elif (
            rest[0] == "." and rest[-1] == "Z" and 2 < len(rest) <= 11 and rest[1:-1].isascii() and rest[1:-1].isdigit()
        ):
            nanos = int(rest[1:-1].ljust(9, "0"))
        else:
            raise Bail
        prefix = value[:19]
        seconds = self._times.get(prefix)
        if seconds is None:
            if len(self._times) >= 4096:
                self._times.clear()
            seconds = self._times[prefix] = _seconds(prefix)
        return seconds * 1_000_000_000 + nanos


class KeptReader:
    """The lines the short path took, as Flow messages: ``parse`` reads each with one full reader
    (which reads them without a warning: the short path takes only such lines)."""

    __slots__ = ("_got", "_reader")

    def __init__(self) -> None:
        self._got: list[flow_pb2.Flow] = []
        self._reader = LineReader("", self._got.append)

    def parse(self, line: bytes) -> flow_pb2.Flow | None:
        self._got.clear()
        self._reader.feed(0, line)
        return self._got[0] if self._got else None
