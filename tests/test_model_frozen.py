"""model/frozen.maker: what it makes is what the class makes (type, equality, hash, order of
fields, frozen, printed form); a class it cannot make so is made by the class itself."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.cilium import PeerRule, PolicyRule
from kubectl_meshdoctor.model.frozen import maker
from kubectl_meshdoctor.model.selectors import Requirement, Selector

CASES: list[tuple[type[Any], tuple[Any, ...]]] = [
    (Requirement, ("any", "app", "In", ("a", "b"))),
    (Selector, ((Requirement("k8s", "app", "Exists"),), False)),
    (ObjectRef, ("CiliumNetworkPolicy", None, "p", None, "f.yaml:3")),
    (PeerRule, ("spec.ingress[0]", None, ("world",), None, None, None, (), True, False, None, True)),
]


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_made_is_what_the_class_makes(cls: type[Any], values: tuple[Any, ...]) -> None:
    make = maker(cls)
    assert make is not cls
    made, plain = make(*values), cls(*values)
    assert type(made) is cls and made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
    assert dataclasses.astuple(made) == dataclasses.astuple(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, "other")


def test_every_field_must_be_given() -> None:
    with pytest.raises(TypeError):
        maker(Requirement)("any", "app", "Exists")
    assert maker(PolicyRule) is not PolicyRule


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    a: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Checked:
    a: int

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


@dataclasses.dataclass(frozen=True, slots=True)
class _Reserved:
    cls: int


@pytest.mark.parametrize("cls", [_NoSlots, _Checked, _Reserved, dict])
def test_a_class_it_cannot_make_so_is_its_own_maker(cls: type[Any]) -> None:
    assert maker(cls) is cls
