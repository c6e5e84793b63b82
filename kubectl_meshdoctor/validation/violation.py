"""One reason the API server would reject an object: where (field path), what (value), why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Violation:
    path: str  # "spec.mtls.mode", "spec.rules[0].to", "" for the object itself
    value: str  # the offending value, shown as JSON and shortened
    reason: str  # "Unsupported value: ..." / "Required value" / a CEL rule's message

    def text(self) -> str:
        where = self.path or "<object>"
        if not self.value or self.value in self.reason:
            return f"{where}: {self.reason}"
        return f"{where}: {self.reason} (value {self.value})"


def path_text(path: tuple[str | int, ...] | list[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def show(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_value(value: Any, drop_nulls: bool) -> Any:
    """The object as the API server receives it: JSON (string map keys, dates as strings); for built-in
    kinds, null fields dropped (Go decodes them as unset)."""
    if isinstance(value, dict):
        return {str(k): json_value(v, drop_nulls) for k, v in value.items() if not (drop_nulls and v is None)}
    if isinstance(value, list | tuple):
        return [json_value(v, drop_nulls) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
