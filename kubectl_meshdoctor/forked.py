"""Run one pure computation in a forked child while this process goes on (issue 18 item 14).

The child inherits the loaded objects as they are (no copy, no serialisation on the way in), computes
its bytes, writes them to a pipe and leaves at once (``os._exit``: none of the parent's exit handlers
or buffered output runs twice). The parent reads the bytes when it needs them; ``None`` says the
child failed in any way, and the caller then computes the same thing itself. Used only where it is
safe and can pay: Linux (fork), two processors or more, no other thread (nor grpc) in the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

_OK, _FAILED = b"\x00", b"\x01"


@dataclass(frozen=True, slots=True)
class Child:
    pid: int
    read_end: int


def possible(when_busy: bool = False) -> bool:
    """Can a computation run in a forked child here and now, on a processor that is otherwise idle?

    A child costs CPU time of its own (the pages both processes then write are copied): it shortens
    the wait only when a second processor is free, so on a busy machine (load average within one of
    the processors this process may use) the computation stays here. ``when_busy`` skips that test.
    """
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() > 1 or "grpc" in sys.modules:  # fork is unsafe beside other threads
        return False
    cpus = len(os.sched_getaffinity(0))
    return cpus >= 2 and (when_busy or os.getloadavg()[0] <= cpus - 1)


def start(work: Callable[[], bytes]) -> Child | None:
    """Fork a child computing ``work()``; None when no child could be started."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child
        try:
            os.close(read_end)
            try:
                answer = _OK + work()
            except Exception:
                answer = _FAILED
            with os.fdopen(write_end, "wb") as out:
                out.write(answer)
        finally:
            os._exit(0)
    os.close(write_end)
    return Child(pid, read_end)


def result(child: Child) -> bytes | None:
    """The child's bytes (waiting for them); None when it failed."""
    try:
        with os.fdopen(child.read_end, "rb") as answer:
            data = answer.read()
    finally:
        os.waitpid(child.pid, 0)
    return data[1:] if data[:1] == _OK else None


def stop(child: Child) -> None:
    """End a child whose answer is no longer wanted (this process failed meanwhile) and collect it."""
    with contextlib.suppress(OSError):
        os.kill(child.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.close(child.read_end)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child.pid, 0)
