"""Validate every object in a second process while this one builds the model (issue 18 item 14).

At 85,000 objects schema and CEL validation is about a third of building the model, and it is
independent of the building: a forked child (``forked.py``) validates all objects and answers
whether all are valid, while the parent builds the model trusting them. When the child finds any
object the API server would reject, or fails in any way, the parent builds again the ordinary way,
validating each object itself, so the invalid objects are reported and left out exactly as before.
Either way the model is the one the sequential build gives; only the time differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubectl_meshdoctor import forked
from kubectl_meshdoctor.model.build import Model, build_model
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.validation import Validator, Violation

MIN_OBJECTS = 20_000  # below this the fork costs more than it saves


class _Trusting(Validator):
    """The validator of the optimistic build: the child is validating the same objects meanwhile."""

    validates_nothing = True  # model/build.py then does not call it for each Pod

    def validate(self, doc: dict[str, Any]) -> list[Violation]:
        return []


def worth_forking(count: int, min_objects: int = MIN_OBJECTS, when_busy: bool = False) -> bool:
    """Does ``build_validated`` validate ``count`` objects in a child here and now?"""
    return count >= min_objects and forked.possible(when_busy)


def build_validated(raw: RawSnapshot, min_objects: int = MIN_OBJECTS, when_busy: bool = False) -> Model:
    """``model.build.build_model(raw)``, with validation in a child process when that pays
    (``forked.possible``; ``when_busy``: even on a busy machine)."""
    objects = raw.objects
    fork = worth_forking(len(objects), min_objects, when_busy)
    child = forked.start(lambda: b"1" if all_valid(objects) else b"0") if fork else None
    if child is None:
        return build_model(raw)
    try:
        model = build_model(raw, _Trusting())
    finally:
        valid = forked.result(child) == b"1"  # collected even when the build raises
    if valid:
        return model
    return build_model(raw)  # some object is invalid (or the child failed): the ordinary build says which


def build_trusting(raw: RawSnapshot) -> Model:
    """``model.build.build_model(raw)`` validating nothing: only for a caller that has every object
    validated elsewhere (``all_valid``) and builds again the ordinary way when any is invalid."""
    return build_model(raw, _Trusting())


def all_valid_taken(objects: list[RawObject], take: Callable[[int], range | None]) -> bool:
    """``all_valid`` of the chunks ``take(len(objects))`` hands out, until it hands out None
    (``two_ends.TwoEnds``: another process validates the others)."""
    validate = Validator().validate
    try:
        while (part := take(len(objects))) is not None:
            for i in part:  # a plain loop: fewer instructions a call than a generator
                if validate(objects[i].doc):
                    return False
    except Exception:  # the ordinary build turns it into a gap naming the object
        return False
    return True


def all_valid(objects: list[RawObject]) -> bool:
    """What the child computes: does the validator accept every object (and never fail)?"""
    whole = iter([range(len(objects))])
    return all_valid_taken(objects, lambda _count: next(whole, None))
