"""The command's deadline (``--timeout``) and how each request's timeout is cut to fit it.

Every network wait of a live run (API requests, the port-forward's look-ups, Relay calls) takes
``deadline.cap(its own timeout)``, so no single wait outlives the command; what could not be read
in time becomes a gap in the answer instead of an endless wait (contract §7).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kubectl_meshdoctor.errors import DataError

T = TypeVar("T")


class TimedOut(DataError):
    """A request (or the whole command) ran out of time; ``overall``: the --timeout deadline did."""

    def __init__(self, message: str, overall: bool = False, reason: str = "") -> None:
        super().__init__(message)
        self.overall = overall
        self.reason = reason or message  # short: "no answer within 5s (--request-timeout)"


@dataclass(frozen=True, slots=True)
class Deadline:
    """``seconds`` after it was made (0 or None: no deadline), on a monotonic clock."""

    seconds: float | None = None
    at: float | None = None
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> Deadline:
        if not seconds or seconds <= 0:
            return cls(None, None, clock)
        return cls(seconds, clock() + seconds, clock)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        return None if self.at is None else max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.at is not None and self.clock() >= self.at

    def cap(self, timeout: float | None) -> float | None:
        """The smaller of ``timeout`` (None or 0: unbounded) and the time left; None: wait forever."""
        left = self.remaining()
        if not timeout or timeout <= 0:
            return left
        return timeout if left is None else min(timeout, left)

    def describe(self) -> str:
        return f"the --timeout deadline ({self.seconds:g}s)" if self.seconds else "no deadline"

    def check(self, what: str) -> None:
        """Raise ``TimedOut`` if the deadline has passed (before starting ``what``)."""
        if self.expired():
            raise TimedOut(f"{what}: not started, {self.describe()} expired", True, f"{self.describe()} expired")


def within(deadline: Deadline, work: Callable[[], T], what: str) -> T:
    """``work()``, or TimedOut when the deadline passes first (for waits nothing else can bound, such
    as a kubeconfig exec/auth plugin: it is left to finish in a daemon thread, the command goes on)."""
    if deadline.at is None:
        return work()
    box: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            box.append(work())
        except BaseException as err:
            failure.append(err)

    worker = threading.Thread(target=run, name=what, daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        why = f"{deadline.describe()} expired"
        raise TimedOut(f"{what} did not finish: {why}", True, why)
    if failure:
        raise failure[0]
    return box[0]
