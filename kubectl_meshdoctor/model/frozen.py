"""Frozen dataclass instances made at the cost of ordinary ones, for the objects a build makes by
the ten thousand (policy rules, peers, selectors, references).

A frozen dataclass sets each field through ``object.__setattr__``, a generic call that costs about
as much as reading the field from its raw dict did. ``maker(cls)`` returns a constructor taking
every field positionally that fills a plain twin with the same slots and then makes it an instance
of ``cls`` (``__class__`` assignment, which Python allows between classes of the same layout). The
result is an instance of ``cls`` in every respect: equal, hashed, compared, frozen and printed as
``cls(...)`` makes it. When ``cls`` is not a plain slots dataclass (a ``__post_init__``, other
slots, a field name the constructor needs), or the probe below disagrees, ``cls`` itself is returned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_RESERVED = frozenset({"d", "new", "draft", "cls", "make"})


def maker(cls: type[T]) -> Callable[..., T]:
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return cls
    names = tuple(f.name for f in dataclasses.fields(cls))
    if getattr(cls, "__slots__", None) != names or _RESERVED & set(names) or cls.__bases__ != (object,):
        return cls
    draft = type(f"{cls.__name__}Draft", (), {"__slots__": names})
    lines = [f"def make({', '.join(names)}):", "    d = new(draft)"]
    lines += [f"    d.{name} = {name}" for name in names]
    lines += ["    d.__class__ = cls", "    return d"]
    scope: dict[str, Any] = {"new": object.__new__, "draft": draft, "cls": cls}
    exec("\n".join(lines), scope)  # as dataclasses makes __init__
    make: Callable[..., T] = scope["make"]
    values = [f"probe-{i}" for i in range(len(names))]
    try:
        probe = make(*values)
    except TypeError:  # layouts differ: __class__ cannot be assigned
        return cls
    if type(probe) is not cls or probe != cls(*values) or repr(probe) != repr(cls(*values)):
        return cls
    return make
