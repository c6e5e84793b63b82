"""Which fields of ``self`` a CEL rule can see, so a rule runs on those fields only.

The CEL library converts the whole ``self`` value into its own values on every run, about 2 µs a
string: a rule on an AuthorizationPolicy's spec that only asks ``has(self.selector)`` paid for every
path and method of every rule. When every use of ``self`` in a rule is a field selection
(``self.name``, not followed by a call), the rule's answer depends on those fields alone (present or
not, and their values), so ``self`` may be cut to them. Anything else (bare ``self``, a method on it,
``self.?f``, comments, escapes, triple-quoted or backquoted text) gives None: the rule sees all of
``self``. When in doubt, the whole value; the cut never changes an answer.
"""

from __future__ import annotations

import re
from typing import Any

# Patterns as text: ``re`` compiles (and caches) them on the first rule, not when the program starts.
_STRING = r"'[^'\n]*'|\"[^\"\n]*\""  # exact once there are no backslashes or triple quotes
_SELF = r"(?<![A-Za-z0-9_.])self(?![A-Za-z0-9_])"
_FIELD = r"\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_])(?!\s*\()"


def self_fields(rule: str) -> frozenset[str] | None:
    """The field names a rule selects on ``self`` when that is all it does with ``self``; else None."""
    if "\\" in rule or "'''" in rule or '"""' in rule or "//" in rule or "`" in rule:
        return None
    text = re.sub(_STRING, " ", rule)
    if "'" in text or '"' in text:
        return None  # an unterminated literal: not read here
    fields: set[str] = set()
    field = re.compile(_FIELD)
    for use in re.finditer(_SELF, text):
        selected = field.match(text, use.end())
        if selected is None:
            return None
        fields.add(selected.group(1))
    return frozenset(fields)


def cut(value: Any, fields: frozenset[str] | None) -> Any:
    """``value`` as the rule sees it: only ``fields`` of a plain JSON object (string keys), else as is."""
    if fields is None or type(value) is not dict:
        return value
    for key in value:
        if type(key) is not str:
            return value  # keys become strings later: two could meet; the whole value then
    return {key: item for key, item in value.items() if key in fields}
