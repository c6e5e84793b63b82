"""The package's dataclasses get their generated methods compiled when first called
(kubectl_meshdoctor/dataclass_methods.py): they must behave exactly as the ones ``dataclasses``
compiles at once, for the same class defined outside the package."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

import kubectl_meshdoctor  # noqa: F401 - installs the deferred methods

SOURCE = """
from __future__ import annotations
import dataclasses
from dataclasses import dataclass, field

@dataclass(frozen=True, slots=True)
class Ref:
    kind: str
    name: str
    namespace: str | None = None

@dataclass(order=True)
class Port:
    number: int
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.names.append("seen")

@dataclass(frozen=True)
class Base:
    a: int

class Plain(Base):  # not a dataclass: inherits Base's methods
    pass

@dataclass(frozen=True)
class Child(Base):
    b: int = 2

@dataclass(kw_only=False)
class Later:
    self: int  # a field named self: the generated __init__ names its own argument otherwise
    ratio: float = 0.5
    _: dataclasses.KW_ONLY
    flag: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    seen: int = field(default=0, init=False)

@dataclass
class Documented:
    'Its own text.'

    a: int
"""

DEFERRED = sys.version_info[:2] in ((3, 11), (3, 12))


def _module(name: str) -> Iterator[types.ModuleType]:
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(SOURCE, module.__dict__)
        yield module
    finally:
        del sys.modules[name]


@pytest.fixture
def inside() -> Iterator[types.ModuleType]:
    yield from _module("kubectl_meshdoctor._probe_dataclasses")


@pytest.fixture
def outside() -> Iterator[types.ModuleType]:
    yield from _module("probe_dataclasses_elsewhere")


def _behaviour(m: Any) -> list[Any]:
    ref = m.Ref("Pod", "a", "ns")
    out: list[Any] = [repr(ref), ref == m.Ref("Pod", "a", "ns"), ref == m.Ref("Pod", "b"), hash(ref)]
    out.append(ref.__eq__(object()))
    for attempt in (lambda: setattr(ref, "name", "x"), lambda: delattr(ref, "kind")):
        with pytest.raises(dataclasses.FrozenInstanceError) as err:
            attempt()
        out.append(str(err.value))
    port = m.Port(80)
    out += [repr(port), port.names, m.Port(1) < m.Port(2), m.Port(3) >= m.Port(2), port == m.Port(80)]
    with pytest.raises(TypeError):
        m.Port()  # the generated __init__'s own error: a required field is missing
    out += [repr(m.Plain(1)), m.Plain(1) == m.Plain(1), hash(m.Plain(1)) == hash(m.Base(1))]
    out += [repr(m.Child(1)), m.Child(1) == m.Child(1, 2), m.Child(1) == m.Base(1)]
    out += [repr(dataclasses.replace(ref, name="z")), dataclasses.asdict(m.Child(5))]
    out.append([f.name for f in dataclasses.fields(m.Ref)])
    out += [cls.__doc__ for cls in (m.Ref, m.Port, m.Base, m.Child, m.Later, m.Documented)]
    out += [str(inspect.signature(cls)) for cls in (m.Ref, m.Port, m.Child, m.Later)]
    later = m.Later(1, 2.5, flag=True)
    out += [repr(later), later == m.Later(1, 2.5, flag=True), m.Later(1) != later]
    return out


def test_the_package_classes_behave_as_the_ones_compiled_at_once(inside: Any, outside: Any) -> None:
    expected = [str(x).replace("probe_dataclasses_elsewhere", "M") for x in _behaviour(outside)]
    assert [str(x).replace("kubectl_meshdoctor._probe_dataclasses", "M") for x in _behaviour(inside)] == expected
    assert _behaviour(inside) != []  # a second time, with the compiled methods in place


@pytest.mark.skipif(not DEFERRED, reason="Python 3.13+ compiles each class's methods in one go")
def test_a_method_is_compiled_when_first_called_then_called_directly(inside: Any, outside: Any) -> None:
    stand_in = inside.Ref.__dict__["__eq__"]
    assert stand_in.__code__.co_name == "method" and outside.Ref.__dict__["__eq__"].__code__.co_name == "__eq__"
    assert inside.Ref("Pod", "a") == inside.Ref("Pod", "a")
    real = inside.Ref.__dict__["__eq__"]
    assert real is not stand_in and real.__code__.co_name == "__eq__"
    assert real.__qualname__ == "Ref.__eq__"
    # a class that only inherits a method: the base gets the compiled one
    assert inside.Plain(1) == inside.Plain(1)
    assert inside.Base.__dict__["__eq__"].__code__.co_name == "__eq__"
