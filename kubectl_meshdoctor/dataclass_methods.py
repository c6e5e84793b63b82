"""The methods ``@dataclass`` writes for this package's ~150 classes, compiled when first called.

On Python 3.11 and 3.12, ``dataclasses`` writes each generated method (``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, a frozen class's ``__setattr__``/``__delattr__``) as source text and
compiles it with ``exec`` while the class is created: ~830 compilations, about half of the time
``check`` spends importing (issue 18 item 14), for methods most runs never call (a frozen class's
``__setattr__`` only raises; most ``__repr__`` are never shown).

``install()`` wraps the module's ``_create_fn`` so that, for classes of this package only, it
hands back a stand-in that compiles the very same method, from the very same text, names and
defaults, when first called, then puts it on the class in its own place: later calls go straight
to it. The stand-in for ``__init__`` carries the signature the compiled one will have (dataclasses
reads it at once, into the ``__doc__`` of a class without one). Behaviour is unchanged; only when
the compilation happens moves. Python 3.13 writes each
class's methods in one compilation and has no ``_create_fn``: nothing is installed there.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable
from typing import Any

_PACKAGE = __name__.rpartition(".")[0]


def install() -> None:
    original: Any = getattr(dataclasses, "_create_fn", None)
    if original is None or sys.version_info[:2] not in ((3, 11), (3, 12)) or getattr(original, "deferred", False):
        return

    def create_fn(name: str, args: Any, body: Any, **kwargs: Any) -> Callable[..., Any]:
        module = (kwargs.get("globals") or {}).get("__name__", "")
        if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
            return original(name, args, body, **kwargs)  # type: ignore[no-any-return]
        signature = _init_signature(args, kwargs) if name == "__init__" else None
        if name == "__init__" and signature is None:
            return original(name, args, body, **kwargs)  # type: ignore[no-any-return]
        return _stand_in(original, name, args, body, kwargs, signature)

    create_fn.deferred = True  # type: ignore[attr-defined]
    dataclasses._create_fn = create_fn  # type: ignore[attr-defined]


_PARAM = re.compile(r"(\w+):(_type_\w+)(?:=(\w+))?")


def _init_signature(args: Any, kwargs: dict[str, Any]) -> inspect.Signature | None:
    """The signature the compiled ``__init__`` will have: ``dataclasses`` reads it at once (into the
    ``__doc__`` of a class without one). None for an argument list of another form than
    ``self, name:_type_name[=default], *, ...``: that ``__init__`` is compiled at once."""
    names: dict[str, Any] = kwargs.get("locals") or {}
    params = [inspect.Parameter(args[0], inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    kind: Any = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for arg in args[1:]:
        if arg == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        match = _PARAM.fullmatch(arg)
        if match is None or match[2] not in names or (match[3] is not None and match[3] not in names):
            return None
        default = names[match[3]] if match[3] is not None else inspect.Parameter.empty
        params.append(inspect.Parameter(match[1], kind, default=default, annotation=names[match[2]]))
    returns = kwargs.get("return_type", dataclasses.MISSING)
    empty = inspect.Signature.empty
    return inspect.Signature(params, return_annotation=empty if returns is dataclasses.MISSING else returns)


def _stand_in(
    original: Any, name: str, args: Any, body: Any, kwargs: dict[str, Any], signature: inspect.Signature | None
) -> Callable[..., Any]:
    compiled: list[Callable[..., Any]] = []

    def method(*a: Any, **kw: Any) -> Any:
        if not compiled:
            real = original(name, args, body, **kwargs)
            real.__qualname__ = method.__qualname__  # dataclasses names the method after its class
            compiled.append(real)
            if a:  # the class holding this stand-in (the instance's or a base) gets the real method
                for klass in type(a[0]).__mro__:
                    if klass.__dict__.get(name) is method:
                        type.__setattr__(klass, name, real)
                        break
        return compiled[0](*a, **kw)

    method.__name__ = name
    method.__qualname__ = f"__create_fn__.<locals>.{name}"  # as dataclasses expects, to rename it
    method.__module__ = (kwargs.get("globals") or {}).get("__name__", method.__module__)
    if signature is not None:
        method.__signature__ = signature  # type: ignore[attr-defined]
    return method
