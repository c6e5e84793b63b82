"""Run one pure computation in a forked child while this process goes on (issue 18 item 14).

The child inherits the loaded objects as they are (no copy, no serialisation on the way in), computes
its bytes, writes them to a pipe and leaves at once (``os._exit``: none of the parent's exit handlers
or buffered output runs twice). The parent reads the bytes when it needs them; ``None`` says the
child failed in any way, and the caller then computes the same thing itself. Used only where it is
safe and can pay: Linux (fork), two processors or more, no other thread (nor grpc) in the process.
"""

from __future__ import annotations

import atexit
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
    the wait only when a second processor is free, so on a busy machine the computation stays here.
    Free means: the 1-minute load average is within one of the processors this process may use, or
    no other task is running right now (a command run just after another, as in a loop or a
    benchmark, finds the average still raised by the one before). ``when_busy`` skips that test.
    """
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() > 1 or "grpc" in sys.modules:  # fork is unsafe beside other threads
        return False
    cpus = len(os.sched_getaffinity(0))
    return cpus >= 2 and (when_busy or second_cpu_free(cpus, os.getloadavg()[0], _running_now()))


def second_cpu_free(cpus: int, load_1min: float, running_now: int) -> bool:
    """``running_now`` counts this process."""
    return cpus >= 2 and (load_1min <= cpus - 1 or running_now <= cpus - 1)


def _running_now() -> int:
    """Tasks running or ready to run on the machine now, this one included (the fourth field of
    /proc/loadavg, "running/total"); a large number when it cannot be read."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 1 << 30


def start(work: Callable[[], bytes]) -> Child | None:
    """Fork a child computing ``work()``; None when no child could be started."""
    _reap()
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
            _release_streams()
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
    """The child's bytes (waiting for them); None when it failed.

    The bytes are complete when the pipe ends; the child's exit, which hands hundreds of megabytes
    back to the kernel (a quarter of a second at 85,000 objects), then goes on beside this process
    and is collected later (``_reap``): waiting for it here made every answer that much later."""
    try:
        with os.fdopen(child.read_end, "rb") as answer:
            data = answer.read()
    finally:
        _exiting.append(child.pid)
        _reap()
    return data[1:] if data[:1] == _OK else None


_exiting: list[int] = []  # children whose answer was read, not collected yet


def _reap() -> None:
    """Collect the children that have ended (none is waited for: one still exiting is collected by a
    later call, or by init once this process ends)."""
    for pid in list(_exiting):
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _exiting.remove(pid)


def _release_streams() -> None:
    """In the child: standard input, output and error go to /dev/null. It writes nothing there, and its copy
    of a pipe on standard output would otherwise keep the reader (``| jq``, a test, a benchmark)
    waiting until the child's exit had handed all its memory back."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


def stop(child: Child) -> None:
    """End a child whose answer is no longer wanted (this process failed meanwhile) and collect it."""
    with contextlib.suppress(OSError):
        os.kill(child.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.close(child.read_end)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child.pid, 0)


atexit.register(_reap)
