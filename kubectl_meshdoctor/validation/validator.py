"""Validator: doc -> violations. Schemas are read, converted and compiled on first use of a kind and
kept on the instance (no module state), so a run that never meets an Istio object never reads
Istio's schemas, and ``--help`` never imports the validation libraries at all."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from kubectl_meshdoctor.validation.rules import CelRules, RuleNode, check, defaulted, may_fire, rule_tree, trigger_keys
from kubectl_meshdoctor.validation.schemas import FILES, KindSchema, read_kinds, to_draft4, with_metadata
from kubectl_meshdoctor.validation.violation import Violation, json_value, path_text, show

__all__ = ["Validator", "Violation"]


def _is_cidr(value: str) -> bool:
    """The API server's `cidr` format: Go's net.ParseCIDR (an address, '/', a prefix length)."""
    if "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


_UNSEEN = object()


@dataclass(slots=True)
class _Compiled:
    entry: KindSchema
    validator: Any  # jsonschema_rs validator
    rules: RuleNode | None
    triggers: tuple[bytes, ...] | None  # rules.trigger_keys: None when every object is walked
    is_valid: Any  # validator.is_valid, looked up once


class Validator:
    """Checks objects against the shipped schemas; one instance per run (or shared by tests)."""

    def __init__(self) -> None:
        self._files: dict[str, dict[str, list[KindSchema]]] = {}
        self._compiled: dict[tuple[str, str], _Compiled | None] = {}
        self.cel = CelRules()

    def _entries(self, kind: str) -> list[KindSchema]:
        found: list[KindSchema] = []
        for name in FILES:
            if name not in self._files:
                self._files[name] = read_kinds(name)
            found.extend(self._files[name].get(kind, ()))
        return found

    def _compile(self, kind: str, api_version: str) -> _Compiled | None:
        key = (kind, api_version)
        known = self._compiled.get(key, _UNSEEN)
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        entries = self._entries(kind)
        entry = next((e for e in entries if api_version in e.api_versions), None)
        compiled = None
        if entry is not None:
            import jsonschema_rs

            schema = with_metadata(to_draft4(entry.schema))
            validator = jsonschema_rs.Draft4Validator(schema, formats={"cidr": _is_cidr}, validate_formats=True)
            rules = rule_tree(entry.schema, entry.schema.get("definitions", {}))
            triggers = None if rules is None else trigger_keys(rules)
            compiled = _Compiled(entry, validator, rules, triggers, validator.is_valid)
        self._compiled[key] = compiled
        return compiled

    def knows(self, kind: str, api_version: str) -> bool:
        """A schema covers this kind at this apiVersion (else its objects are not checked)."""
        return self._compile(kind, api_version) is not None

    def validate(self, doc: dict[str, Any]) -> list[Violation]:
        """The reasons the API server would reject ``doc``; [] when it would accept it or we have no schema."""
        kind, version = doc.get("kind"), doc.get("apiVersion")
        if type(kind) is str and type(version) is str:  # as read from JSON: the key is the strings themselves
            try:
                compiled = self._compiled[kind, version]
            except KeyError:
                compiled = self._compile(kind, version)
        else:
            compiled = self._compile(str(kind), str(version or ""))
        if compiled is None:
            return []  # no schema
        try:  # valid as read, before the JSON normalisation (which only ever admits more: nulls
            plain = compiled.is_valid(doc)  # dropped for built-in kinds)
        except ValueError:  # the library cannot take the object as is (non-string keys, dates)
            plain = False
        if plain and compiled.rules is None:
            return []  # valid with no CEL rules to run: most objects at scale
        out: list[Violation] = []
        value: Any = doc
        if not plain:  # the common case at scale needs no copy
            value = json_value(doc, drop_nulls=compiled.entry.builtin)
            if not compiled.validator.is_valid(value):
                out.extend(_violation(err) for err in compiled.validator.iter_errors(value))
        # CEL rules assume the schema's types (checked at CRD creation)
        if not out and compiled.rules is not None and may_fire(value, compiled.triggers):
            check(compiled.rules, defaulted(compiled.rules, value), (), self.cel, out)
        return _deduplicate(out)


def _violation(err: Any) -> Violation:
    """jsonschema-rs error -> the wording of the API server's field errors where it has one."""
    kind = type(err.kind).__name__
    path = list(err.instance_path)
    value = err.instance
    if kind == "Required":
        return Violation(path_text([*path, str(err.kind.property)]), "", "Required value")
    if kind == "Enum":
        options = ", ".join(show(o) for o in err.kind.options)
        return Violation(path_text(path), show(value), f"Unsupported value: {show(value)}: supported values: {options}")
    if kind == "Type":
        expected = err.kind.types if isinstance(err.kind.types, list) else [err.kind.types]
        return Violation(path_text(path), show(value), f"must be of type {' or '.join(map(str, expected))}")
    if kind in ("OneOfMultipleValid", "OneOfNotValid"):
        return Violation(path_text(path), "", "must set exactly one of the alternative fields (oneOf)")
    if kind == "AnyOf":
        return Violation(path_text(path), "", "must set at least one of the alternative fields (anyOf)")
    if kind == "Not":
        return Violation(path_text(path), "", "sets fields that cannot be combined")
    if kind in ("MinProperties", "MinItems", "MinLength"):
        return Violation(path_text(path), show(value), f"in body should have at least {err.kind.limit} item(s)")
    message = str(err.message)
    if len(message) > 120:
        message = message[:117] + "..."
    return Violation(path_text(path), show(value), f"Invalid value: {message}")


def _deduplicate(violations: list[Violation]) -> list[Violation]:
    seen: set[Violation] = set()
    out = []
    for v in violations:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out
