"""The cyclic garbage collector, paused while a step makes objects that all live on.

Importing the modules of a command, loading a snapshot (millions of small dicts at 50,000 pods) and
running the analyzers (their indexes and causes) make objects that stay until the process ends: the
collector would scan them again and again for garbage they do not make (5x slower loading at 50,000
pods, a third of the analyzers' time). It is paused for the step, what the step made is then frozen
out of its reach (resumed as it was, it would scan all of it once more at its next allocation), and
it is resumed as it was.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_then_frozen() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
