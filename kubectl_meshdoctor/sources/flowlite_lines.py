"""Facts of failing lines that differ from one already read only in their time, uuid or source port.

The failing lines of one call repeat each other: the same ends, verdict, reason and port, a new
time, flow id and client port on each. ``LineFacts.of`` cuts a line at those three values (one
regex split, in C); the rest of the line, byte for byte, is the key of the Facts the short path
(flowlite.LiteReader) read from the first line like it, so a line with the same rest has the same
keys, enum values and structure, and its Facts are those with the line's own time and source port.
Its time is read as on the short path (a line whose time it cannot read goes there, and from there
to the full reader), its port as a number. Lines whose times disagree (the flow's and the
envelope's) or that carry more than one source port are read on the short path each time.
"""

from __future__ import annotations

import re

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flow_facts import Facts
from kubectl_meshdoctor.sources.flowjson import _loads
from kubectl_meshdoctor.sources.flowlite import Bail, KeptReader, LiteReader

__all__ = ["KeptLines", "LineFacts"]

_VOLATILE = re.compile(rb'"(time|uuid|source_port)": ?("[^"\\\x00-\x1f]*"|\d{1,10})')
_LIMIT = 4096  # distinct line shapes remembered (a few MB); past it the memory starts again


class LineFacts:
    __slots__ = ("_known", "lite")

    def __init__(self) -> None:
        self.lite = LiteReader()
        # rest of the line -> (Facts of the first such line, indexes of its time values, of its port or -1)
        self._known: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], tuple[Facts, tuple[int, ...], int]] = {}

    def of(self, line: bytes) -> Facts | None:
        """The Facts of a jsonpb line, or None when the full reader must read it."""
        parts = _VOLATILE.split(line)
        names, values = tuple(parts[1::3]), parts[2::3]
        key = (tuple(parts[0::3]), names)
        known = self._known.get(key)
        if known is not None:
            try:
                return self._again(*known, values)
            except (Bail, ValueError):
                pass
        try:
            obj = _loads(line)
        except ValueError:
            return None
        facts = self.lite.facts(obj)
        if facts is not None and known is None:
            recipe = _recipe(facts, names, values)
            if recipe is not None:
                if len(self._known) >= _LIMIT:
                    self._known.clear()
                self._known[key] = (facts, *recipe)
        return facts

    def _again(self, template: Facts, times: tuple[int, ...], port: int, values: list[bytes]) -> Facts:
        time_ns = template.time_ns
        if times:
            when = values[times[0]]
            if any(values[i] != when for i in times[1:]):
                raise Bail
            time_ns = self.lite.time(when[1:-1].decode())
        ports = template.ports
        if port >= 0:
            source_port = int(values[port])
            if source_port >= 2**32:  # the message's uint32: the full reader's
                raise Bail
            ports = (source_port, ports[1])
        return tuple.__new__(Facts, (*template[:-2], ports, time_ns))  # ports and time_ns are the last fields


def _recipe(facts: Facts, names: tuple[bytes, ...], values: list[bytes]) -> tuple[tuple[int, ...], int] | None:
    """Where the time and source port of lines like this one are, or None: not to be remembered."""
    times = tuple(i for i, n in enumerate(names) if n == b"time")
    ports = [i for i, n in enumerate(names) if n == b"source_port"]
    if len({values[i] for i in times}) > 1 or len(ports) > 1:
        return None
    if any(not values[i].startswith(b'"') for i in times):
        return None
    if ports and (not values[ports[0]].isdigit() or int(values[ports[0]]) != facts.ports[0]):
        return None
    return times, ports[0] if ports else -1


class KeptLines:
    """The kept lines of the calls as Flow messages: a line like one already read (same rest, as in
    ``LineFacts``) is that message with the line's own time, uuid and source port; others, and the
    first of each kind, are read by the full reader."""

    __slots__ = ("_full", "_known", "_lite")

    def __init__(self) -> None:
        self._full = KeptReader()
        self._lite = LiteReader()
        self._known: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], flow_pb2.Flow] = {}

    def parse(self, line: bytes) -> flow_pb2.Flow | None:
        parts = _VOLATILE.split(line)
        names, values = tuple(parts[1::3]), parts[2::3]
        key = (tuple(parts[0::3]), names)
        base = self._known.get(key)
        if base is not None:
            try:
                return self._again(base, names, values)
            except (Bail, ValueError, UnicodeDecodeError):
                pass
        flow = self._full.parse(line)
        if flow is not None and base is None and _patchable(flow, names, values):
            if len(self._known) >= _LIMIT:
                self._known.clear()
            self._known[key] = flow
        return flow

    def _again(self, base: flow_pb2.Flow, names: tuple[bytes, ...], values: list[bytes]) -> flow_pb2.Flow:
        times = [v for n, v in zip(names, values, strict=True) if n == b"time"]
        if any(v != times[0] or not v.startswith(b'"') for v in times):
            raise Bail
        flow = flow_pb2.Flow()
        flow.CopyFrom(base)
        for name, value in zip(names, values, strict=True):
            if name == b"source_port":
                getattr(flow.l4, str(flow.l4.WhichOneof("protocol"))).source_port = int(value)
            elif name == b"uuid":
                if not value.startswith(b'"'):
                    raise Bail
                flow.uuid = value[1:-1].decode()
        if times:
            flow.time.seconds, flow.time.nanos = divmod(self._lite.time(times[0][1:-1].decode()), 1_000_000_000)
        return flow


def _patchable(flow: flow_pb2.Flow, names: tuple[bytes, ...], values: list[bytes]) -> bool:
    """The line's time, uuid and source port are where ``KeptLines._again`` sets them."""
    if names.count(b"source_port") > 1 or names.count(b"uuid") > 1:
        return False
    if b"source_port" in names and flow.l4.WhichOneof("protocol") not in ("TCP", "UDP", "SCTP"):
        return False
    times = {v for n, v in zip(names, values, strict=True) if n == b"time"}
    return len(times) <= 1 and (not times or flow.HasField("time"))
