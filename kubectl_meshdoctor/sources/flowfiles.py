"""Which offline inputs hold flows, and how to open them as byte streams (contract §3, issue 13).

Flow inputs are opened lazily and read as streams, never loaded whole:

* ``hubble observe -o jsonpb`` captures: ``*.jsonl``, ``*.flows.json``, and any ``*.json`` whose
  first line is a GetFlowsResponse or a bare flow (the recorded samples are named ``*.json``);
* Hubble exporter files (``hubble-export-file-path``, default ``/var/run/cilium/hubble/events.log``):
  ``*.log``, one ``observer.ExportEvent`` per line. The exporter rotates with lumberjack, whose
  backups are ``events-2023-08-21T10-00-00.000.log`` (``.log.gz`` when compressed); plain name
  order puts them oldest first and the live ``events.log`` last, which is the order we read;
* any of these gzip-compressed (``.gz``; recognised by the gzip magic bytes, not only the name);
* ``-``: standard input (a pipe from ``hubble observe -o jsonpb``), gzip or plain.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kubectl_meshdoctor.errors import InputError, UsageError

FLOW_SUFFIXES = (".jsonl", ".flows.json", ".log")
OBJECT_SUFFIXES = (".yaml", ".yml", ".json")
_GZIP_MAGIC = b"\x1f\x8b"
_FLOW_KEYS = (b'"flow"', b'"node_status"', b'"nodeStatus"', b'"lost_events"', b'"lostEvents"', b'"agent_event"')
_BARE_FLOW_KEYS = (b'"verdict"', b'"IP"', b'"l4"', b'"event_type"', b'"eventType"', b'"node_name"')


@dataclass(frozen=True, slots=True)
class FlowFile:
    """One flow input: ``name`` as shown in warnings; ``opener`` returns a fresh binary stream of
    its (decompressed) lines. ``once``: the stream can be read only one time (standard input)."""

    name: str
    opener: Callable[[], IO[bytes]]
    once: bool = False

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The decompressed lines; closes what it opened (standard input included)."""
        with self.opener() as raw:
            if _peek(raw).startswith(_GZIP_MAGIC):
                import gzip  # only for .gz input

                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    yield unzipped  # type: ignore[misc]
            else:
                yield raw


def _peek(stream: IO[bytes]) -> bytes:
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bytes(peek(2)[:2])
    if stream.seekable():
        head = stream.read(2)
        stream.seek(0)
        return head
    return b""


def strip_gz(name: str) -> str:
    return name[:-3] if name.endswith(".gz") else name


def is_flow_name(name: str) -> bool:
    """Named as a flow file whatever its content (``.json`` needs a look: see ``sniff_flows``)."""
    return strip_gz(name).endswith(FLOW_SUFFIXES)


def is_object_name(name: str) -> bool:
    return name.endswith(OBJECT_SUFFIXES) and not is_flow_name(name)


def sniff_flows(head: bytes) -> bool:
    """Does this start like NDJSON flows rather than a Kubernetes object? ``kubectl get -o json``
    prints an indented document whose first line is ``{``; a flow line is one whole object."""
    if head.startswith(_GZIP_MAGIC):
        head = _gunzip_head(head)
    first = head.lstrip().split(b"\n", 1)[0].strip()
    if not (first.startswith(b"{") and first.endswith(b"}")):
        return False
    if b'"apiVersion"' in first or b'"kind"' in first:
        return False
    return any(k in first for k in _FLOW_KEYS) or sum(k in first for k in _BARE_FLOW_KEYS) >= 2


def _gunzip_head(data: bytes) -> bytes:
    import zlib

    try:
        return zlib.decompressobj(wbits=31).decompress(data, 1 << 16)
    except zlib.error:
        return b""


def file_flow(path: Path, shown: str) -> FlowFile:
    return FlowFile(shown, lambda: path.open("rb"))


def memory_file(flows: list[Any], name: str = "<demo>") -> FlowFile:
    """In-memory flows (a demo) as a flow file, so one selection code path serves every input."""
    from kubectl_meshdoctor.sources.flowjson import flow_to_jsonpb

    data = "".join(flow_to_jsonpb(f) + "\n" for f in flows).encode()
    return FlowFile(name, lambda: io.BytesIO(data))


def stdin_flow() -> FlowFile:
    return FlowFile("<stdin>", lambda: sys.stdin.buffer, once=True)


class _TarMember(io.RawIOBase):
    """A member of an archive as a stream that closes the archive with it."""

    def __init__(self, archive: Path, member: str, shown: str) -> None:
        import tarfile  # only for archives

        super().__init__()
        self._tar = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed in close()
        handle = self._tar.extractfile(member)
        if handle is None:
            self._tar.close()
            raise InputError(shown, None, "not a regular file in the archive")
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
            self._tar.close()
        super().close()


def tar_flow(archive: Path, member: str, shown: str) -> FlowFile:
    return FlowFile(shown, lambda: io.BufferedReader(_TarMember(archive, member, shown), 1 << 20))


def head_of(path: Path, size: int = 1 << 16) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError as err:
        raise UsageError(f"--from {str(path)!r}: {err.strerror or err}") from None
