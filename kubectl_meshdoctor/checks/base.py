"""A check: name, description, the kinds it reads, and a pure function Model -> causes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    description: str
    inputs: tuple[str, ...]
    run: Callable[[Model], list[Cause]]
