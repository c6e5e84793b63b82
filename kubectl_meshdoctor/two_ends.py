"""A run of items shared by two processes that take chunks from opposite ends (issue 18 item 14).

``check`` of a large snapshot splits its work between this process and a forked child
(``app_check_split.py``); whichever finishes its own part first goes on with the validation, which
any order may do, so the two end together however fast each part turns out to be on the machine
(or under another process's load) instead of by a fixed share. The child takes chunks upward from
the first item, this process downward from the last, through two counters in memory the fork
shares (``mmap`` anonymous mappings are shared with the child).

Each side writes its claim before doing the chunk and stops only when it reads that the other's
claims meet its own. The counters only move towards each other, so a value read late is one the
other side has since passed: at worst both do the same chunk (the work is pure, the answers
agree), never does a chunk stay undone.
"""

from __future__ import annotations

import mmap
import struct

_PAIR = struct.Struct("=QQ")  # (items claimed from below, items claimed from above)
_ONE = struct.Struct("=Q")


class TwoEnds:
    """Both processes pass the same ``count`` (they read the same objects), known only after the
    fork: the board itself is made before it and counts claims from each end."""

    __slots__ = ("_chunk", "_mem")

    def __init__(self, chunk: int) -> None:
        """Make it before the fork; both processes then use the same instance."""
        self._mem = mmap.mmap(-1, _PAIR.size)
        self._chunk = max(1, chunk)

    def take_low(self, count: int) -> range | None:
        """The next chunk from below, claimed; None when the two ends have met."""
        below, above = _PAIR.unpack_from(self._mem, 0)
        end = count - above
        if below >= end:
            return None
        stop = min(below + self._chunk, end)
        _ONE.pack_into(self._mem, 0, stop)
        return range(below, stop)

    def take_high(self, count: int) -> range | None:
        """The next chunk from above, claimed; None when the two ends have met."""
        below, above = _PAIR.unpack_from(self._mem, 0)
        end = count - above
        if end <= below:
            return None
        start = max(end - self._chunk, below)
        _ONE.pack_into(self._mem, _ONE.size, count - start)
        return range(start, end)

    def close(self) -> None:
        self._mem.close()
