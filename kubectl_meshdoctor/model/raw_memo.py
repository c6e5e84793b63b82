"""What one build read from a raw JSON value, remembered for the next equal value (model/build.py).

At 10,000 policies most peer entries and selectors repeat (the namespace-label peers of every
team), and reading one is pure: its result depends on the value and the context named in the key
only. The key is the JSON text of the value: equal text, with the values also equal, means equal
types and values (1, 1.0 and true differ in the text; NaN is never equal; a tuple is not a list; a
value JSON cannot hold, a subclass or a date is never remembered), so the result read for one is
the result of the other (``raw.json_key``). Only immutable results are kept; one memo lives for one build.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


class RawMemo:
    """``find(key, raw)`` gives what ``keep(key, raw, value)`` kept for an equal value, else None."""

    __slots__ = ("held",)
    LIMIT = 65536

    def __init__(self) -> None:
        self.held: dict[Hashable, tuple[Any, Any]] = {}

    def find(self, key: Hashable, raw: Any) -> Any:
        seen = self.held.get(key)
        return seen[1] if seen is not None and seen[0] == raw else None

    def keep(self, key: Hashable, raw: Any, value: Any) -> None:
        """``key``: a JSON text, or a tuple with the text first. The text is kept as a copy of its own
        size: orjson hands it over in the buffer it wrote it in (~4 KB), so each text kept as it came
        would hold ~4 KB (70 MB at 20,000 policy parts)."""
        if len(self.held) >= self.LIMIT:
            self.held.clear()
        if type(key) is bytes:
            key = bytes(memoryview(key))
        elif type(key) is tuple and type(key[0]) is bytes:
            key = (bytes(memoryview(key[0])), *key[1:])
        self.held[key] = (raw, value)
