"""Leave a command that loaded a large model without freeing it object by object.

At 85,000 objects, freeing the raw documents and the model one reference at a time takes about a
quarter of a second after the answer is printed; the operating system takes the whole heap back at
once. Only the program itself turns this on (``cli.main.main`` called without arguments, as the
console script and ``python -m`` call it): in-process callers (tests, CliRunner, a caller passing
arguments to ``main``) never hold anything here. Exit handlers still run and the standard streams are flushed
first, exactly as at a normal exit; only the per-object freeing is skipped, and only when no other
thread is running (a thread would be joined at a normal exit).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

_held: list[object] = []
_enabled = False


def enable() -> None:
    """Called by the process entry point only."""
    global _enabled
    _enabled = True


def hold(*objects: object) -> None:
    """Keep these until the process ends (no-op unless the entry point enabled it)."""
    if _enabled:
        _held.extend(objects)


def leave(code: int) -> None:
    """Exit with ``code`` now when something large is held; return otherwise (a normal exit follows)."""
    if not _held or threading.active_count() > 1:
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the normal exit would not print either
        pass
    os._exit(code)
