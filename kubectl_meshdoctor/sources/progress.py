"""A one-line status on stderr while live reads take time (phase and elapsed), as a terminal user
expects: nothing for the first second, nothing at all when stderr is not a terminal (kubectl and
hubble stay silent there too), and the line is erased once the answer is ready."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

DELAY_S = 1.0  # quiet for quick answers
TICK_S = 0.2


class StatusLine:
    """Callable with the current phase; a daemon thread redraws ``meshdoctor: PHASE (N.Ns)``."""

    def __init__(self, stream: TextIO | None = None, delay: float = DELAY_S) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.delay = delay
        self.started = time.monotonic()
        self._phase = ""
        self._drawn = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self, phase: str) -> None:
        if not self.enabled:
            return
        self._phase = phase
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="meshdoctor-progress", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            elapsed = time.monotonic() - self.started
            if elapsed >= self.delay:
                self._draw(f"meshdoctor: {self._phase} ({elapsed:.1f}s)")

    def _draw(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        with self._lock:
            if self._stop.is_set():
                return
            self.stream.write("\r\x1b[K" + text[:width])
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        """Stop and erase the line (so the answer starts on a clean line)."""
        with self._lock:
            self._stop.set()
            if self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False
        if self._thread is not None:
            self._thread.join(timeout=1)
