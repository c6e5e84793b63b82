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
        if len(self.held) >= self.LIMIT:
            self.held.clear()
        self.held[_compact(key)] = (raw, value)


_copy = b"".join  # of (text, b""): an exact-size copy


def _compact(key: Hashable) -> Hashable:
    """An equal key holding exact-size copies of its JSON texts: the bytes orjson returns keep its
    ~4 KB buffer (every kept key cost a page: the 14,000 policy entries at L held 55 MB)."""
    if type(key) is bytes:
        return _copy((key, b""))
    if type(key) is tuple:
        return tuple([_copy((k, b"")) if type(k) is bytes else k for k in key])
    return key
