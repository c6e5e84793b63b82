"""Validate every object in a second process while this one builds the model (issue 18 item 14).

At 85,000 objects schema and CEL validation is about a third of building the model, and it is
independent of the building: a forked child validates all objects and answers one byte (all valid
or not) while the parent builds the model trusting them. When the child finds any object the API
server would reject, or fails in any way, the parent builds again the ordinary way, validating each
object itself, so the invalid objects are reported and left out exactly as before. Either way the
model is the one the sequential build gives; only the time differs.

Used only where it can pay and is safe: many objects, Linux (fork), two processors or more, and no
other thread (nor grpc) running in the process.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from kubectl_meshdoctor.model.build import Model, build_model
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.validation import Validator, Violation

MIN_OBJECTS = 20_000  # below this the fork costs more than it saves


class _Trusting(Validator):
    """The validator of the optimistic build: the child is validating the same objects meanwhile."""

    def validate(self, doc: dict[str, Any]) -> list[Violation]:
        return []


def build_validated(raw: RawSnapshot, min_objects: int = MIN_OBJECTS) -> Model:
    """``model.build.build_model(raw)``, with validation in a child process when that pays."""
    child = _start(raw.objects) if worth_forking(len(raw.objects), min_objects) else None
    if child is None:
        return build_model(raw)
    model = build_model(raw, _Trusting())
    if _verdict(child):
        return model
    return build_model(raw)  # some object is invalid (or the child failed): the ordinary build says which


def worth_forking(count: int, min_objects: int = MIN_OBJECTS) -> bool:
    """Does ``build_validated`` validate ``count`` objects in a child here and now?"""
    if count < min_objects or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.active_count() > 1 or "grpc" in sys.modules:  # fork is unsafe beside other threads
        return False
    return len(os.sched_getaffinity(0)) >= 2


def all_valid(objects: list[RawObject]) -> bool:
    """What the child computes: does the validator accept every object (and never fail)?"""
    validator = Validator()
    try:
        return not any(validator.validate(obj.doc) for obj in objects)
    except Exception:  # the ordinary build turns it into a gap naming the object
        return False


def _start(objects: list[RawObject]) -> tuple[int, int] | None:
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: answer one byte, then leave without running any of the parent's exit code
        try:
            os.close(read_end)
            os.write(write_end, b"1" if all_valid(objects) else b"0")
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, read_end


def _verdict(child: tuple[int, int]) -> bool:
    pid, read_end = child
    try:
        answer = os.read(read_end, 1)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    return answer == b"1"
