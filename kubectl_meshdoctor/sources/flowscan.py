"""Stream flow files and keep only what the question needs (issue 13: gigabyte exports).

The input is read in 4 MiB blocks and never held whole. Before a line is decoded it must pass a
byte prefilter: for each needle group (e.g. "a name of the client" and "a name of the server")
the line must contain one of the group's needles. The needles are what the precise filter
compares (pod names, a reference's name, IPs), written exactly as Hubble writes them (Kubernetes
names and IPs never need JSON escapes), so the prefilter only ever rejects lines that cannot
match; the precise filter still decides on the decoded flow. The search runs over whole blocks
(``bytes.find`` in C), so a selective pair costs little more than reading the bytes.

Lines about lost events and unavailable nodes pass regardless: they say evidence may be missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from kubectl_meshdoctor._proto import flow_pb2
from kubectl_meshdoctor.sources.flowfiles import FlowFile
from kubectl_meshdoctor.sources.flowjson import LineReader

__all__ = ["Prefilter", "ScanResult", "scan"]

BLOCK = 1 << 22
_ALWAYS = (b'"lost_events"', b'"lostEvents"', b'"node_status"', b'"nodeStatus"')
# The envelope/flow time to the second: fixed width, so the byte strings order like the times.
_TIME_RE = re.compile(rb'"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)')


@dataclass(frozen=True, slots=True)
class Prefilter:
    """A line is a candidate when, for every group, it contains at least one needle of the group.
    No groups: every line is decoded."""

    groups: tuple[tuple[bytes, ...], ...] = ()

    @classmethod
    def of(cls, *groups: Sequence[str]) -> Prefilter:
        cleaned = tuple(tuple(dict.fromkeys(n.encode() for n in g if n)) for g in groups)
        if any(not g for g in cleaned):
            return cls()  # a side without needles cannot be prefiltered
        return cls(cleaned)


@dataclass(slots=True)
class ScanResult:
    warnings: list[str] = field(default_factory=list)
    lines: int = 0  # lines read
    decoded: int = 0  # lines that passed the prefilter and were decoded
    newest: float | None = None  # newest recorded time in the input (seconds), when tracked
    stopped: bool = False  # the consumer had enough (--first)


class _State:
    __slots__ = ("emit", "newest", "stop")

    def __init__(self, emit: Callable[[flow_pb2.Flow], bool]) -> None:
        self.emit = emit
        self.stop = False
        self.newest = b""

    def take(self, flow: flow_pb2.Flow) -> None:
        if self.emit(flow):
            self.stop = True


def scan(
    files: Sequence[FlowFile],
    emit: Callable[[flow_pb2.Flow], bool],
    prefilter: Prefilter | None = None,
    track_newest: bool = False,
) -> ScanResult:
    """Read every file in order; ``emit`` gets each decoded candidate flow and returns True to stop."""
    result = ScanResult()
    state = _State(emit)
    pre = prefilter or Prefilter()
    for file in files:
        reader = LineReader(file.name, state.take)
        try:
            with file.open() as stream:
                _scan_stream(stream, reader, pre, state, result, track_newest)
        except BrokenPipeError:
            raise  # the reader of our output went away, not a read error
        except OSError as err:
            result.warnings.append(f"{file.name}: read error ({err}); flows after it are missing")
        except EOFError:
            result.warnings.append(f"{file.name}: truncated compressed stream; flows after it are missing")
        res = reader.finish()
        result.warnings.extend(res.warnings)
        if state.stop:
            result.stopped = True
            break
    if state.newest:
        when = datetime.strptime(state.newest.decode(), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        result.newest = when.timestamp()
    return result


def _scan_stream(
    stream: IO[bytes], reader: LineReader, pre: Prefilter, state: _State, result: ScanResult, track_newest: bool
) -> None:
    rest = b""
    lineno = 0
    while not state.stop:
        data = stream.read(BLOCK)
        if data:
            buf = rest + data if rest else data
            cut = buf.rfind(b"\n")
            if cut < 0:
                rest = buf
                continue
            block, rest = buf[: cut + 1], buf[cut + 1 :]
        else:
            block, rest = rest, b""
            if not block:
                return
        if track_newest:
            times = _TIME_RE.findall(block)
            if times:
                top = max(times)
                if top > state.newest:
                    state.newest = top
        lineno = _block(block, lineno, reader, pre, state, result)
        if not data:
            return


def _block(block: bytes, lineno: int, reader: LineReader, pre: Prefilter, state: _State, result: ScanResult) -> int:
    """Feed the block's candidate lines; return the line count after it."""
    total = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    result.lines += total
    if not pre.groups:
        for i, line in enumerate(block.split(b"\n")):
            if line.strip():
                result.decoded += 1
                reader.feed(lineno + i + 1, line)
                if state.stop:
                    break
        return lineno + total
    first, *others = sorted(pre.groups, key=lambda g: -min(len(n) for n in g))
    ends: dict[int, int] = {}
    for needle in (*first, *_ALWAYS):
        i = block.find(needle)
        while i >= 0:
            start = block.rfind(b"\n", 0, i) + 1
            end = block.find(b"\n", i)
            if end < 0:
                end = len(block)
            ends[start] = end
            i = block.find(needle, end)
    counted, at = lineno, 0
    for start in sorted(ends):
        line = block[start : ends[start]]
        if not all(any(n in line for n in g) for g in others) and not any(n in line for n in _ALWAYS):
            continue
        counted += block.count(b"\n", at, start)
        at = start
        result.decoded += 1
        reader.feed(counted + 1, line)
        if state.stop:
            break
    return lineno + total
