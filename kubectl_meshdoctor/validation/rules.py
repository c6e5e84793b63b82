"""What the API server checks beyond JSON Schema: ``x-kubernetes-validations`` CEL rules and
``x-kubernetes-list-type`` (set: no duplicate items; map: no two items with the same keys).

The schema is reduced once to a tree of the nodes that carry such checks (``RuleNode``); an object
is walked along that tree only. CEL runs through the ``common-expression-language`` library
(imported on the first rule, compiled programs cached on ``CelRules``). A rule that uses a function
the library lacks (Kubernetes' own CEL libraries: ``isURL``, ``quantity``, ...) or the transition
variable ``oldSelf`` is not checked; any other evaluation error rejects the object, as the API server
does (e.g. ``int("acd")``: "type conversion error").
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubectl_meshdoctor.raw import json_key
from kubectl_meshdoctor.validation.cel_fields import cut, self_fields
from kubectl_meshdoctor.validation.violation import Violation, json_value, path_text, show

# The library's words for "cannot run this here": a function it lacks (Kubernetes' CEL libraries) or a
# dynamic type mix the API server's type-checked CEL would have resolved at CRD creation.
_UNSUPPORTED = re.compile(r"Undefined variable or function|Unsupported operation|No such overload")


@dataclass(frozen=True, slots=True)
class Rule:
    rule: str
    message: str


@dataclass(slots=True)
class RuleNode:
    rules: list[Rule] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)  # property -> `default` (applied before CEL)
    list_type: str | None = None  # "set" | "map"
    map_keys: tuple[str, ...] = ()
    properties: dict[str, RuleNode] = field(default_factory=dict)
    items: RuleNode | None = None
    values: RuleNode | None = None  # additionalProperties
    defaults_below: bool = False  # this node or one under it has defaults (else ``defaulted`` has nothing to fill)

    def empty(self) -> bool:
        return not (
            self.rules
            or self.defaults
            or self.list_type in ("set", "map")
            or self.properties
            or self.items
            or self.values
        )


def rule_tree(schema: dict[str, Any], definitions: dict[str, Any], depth: int = 0) -> RuleNode | None:
    """The checks of ``schema`` (a Kubernetes structural schema), None when it has none."""
    if depth > 40:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**definitions.get(ref.rsplit("/", 1)[1], {}), **siblings}
    node = RuleNode()
    for item in schema.get("x-kubernetes-validations") or ():
        if isinstance(item, dict) and isinstance(item.get("rule"), str):
            node.rules.append(Rule(item["rule"], str(item.get("message") or f"failed rule: {item['rule']}")))
    list_type = schema.get("x-kubernetes-list-type")
    if list_type in ("set", "map"):
        node.list_type = list_type
        node.map_keys = tuple(schema.get("x-kubernetes-list-map-keys") or ())
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and "default" in sub:
            node.defaults[name] = sub["default"]
        child = rule_tree(sub, definitions, depth + 1)
        if child is not None:
            node.properties[name] = child
    if isinstance(schema.get("items"), dict):
        node.items = rule_tree(schema["items"], definitions, depth + 1)
    if isinstance(schema.get("additionalProperties"), dict):
        node.values = rule_tree(schema["additionalProperties"], definitions, depth + 1)
    below = [*node.properties.values(), node.items, node.values]
    node.defaults_below = bool(node.defaults) or any(c is not None and c.defaults_below for c in below)
    return None if node.empty() else node


def trigger_keys(root: RuleNode, min_depth: int = 3) -> tuple[bytes, ...] | None:
    """Keys (as orjson writes them, with the colon) one of which an object's JSON text must hold for
    ``check`` to find anything: for each node that checks something, the last property name on its
    path. None when that cannot skip anything worth the text: a checked node reached through no
    property, defaults (they add keys), or a key above ``min_depth`` (nearly every object has it)."""
    if root.defaults_below:
        return None
    found: set[bytes] = set()
    todo: list[tuple[RuleNode, str | None, int]] = [(root, None, 0)]
    while todo:
        node, via, depth = todo.pop()
        if node.rules or node.list_type is not None:
            if via is None or depth < min_depth:
                return None
            found.add(orjson.dumps(via) + b":")
        todo.extend((child, name, depth + 1) for name, child in node.properties.items())
        todo.extend((child, via, depth) for child in (node.items, node.values) if child is not None)
    return tuple(sorted(found))


def may_fire(value: Any, triggers: tuple[bytes, ...] | None) -> bool:
    """False only when ``check`` provably finds nothing in ``value`` (see ``trigger_keys``)."""
    if triggers is None:
        return True
    text = json_key(value)
    if text is None:  # not plain JSON: walk it
        return True
    return any(key in text for key in triggers)


def load_cel() -> Any:
    """The CEL library's compiled core. Its package ``__init__`` also imports its interactive CLI
    (typer, prompt_toolkit: ~0.1 s, longer than everything else in a --demo run), so the extension
    module is loaded on its own (registered as ``cel.cel``, so a later ``import cel`` reuses it) when it
    sits where the package ships it; else the package is imported."""
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    loaded = sys.modules.get("cel.cel")  # the import system's own cache: an extension initialises once
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("cel")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for path in sorted(Path(folder).glob("cel.*")):
            if any(path.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES):
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(path))
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader("cel.cel", loader))  # type: ignore[arg-type]
                loader.exec_module(module)
                if hasattr(module, "compile"):
                    sys.modules["cel.cel"] = module
                    return module
    import cel

    return cel


class CelRules:
    """Compiled CEL programs by rule text; None for a rule the library cannot run (not checked).

    A rule's answer depends only on the rule and the value it runs on (cut to the fields it reads:
    ``cel_fields``), so answers are remembered by the rule and the JSON text of that value, and used
    again only for an equal value (equal text and ``==``: 1, 1.0 and true differ in the text; NaN is
    never equal to another NaN; a value orjson cannot write is never remembered). The replicas of a
    policy, and the many policies with the same selector, run each rule once. At most ``LIMIT``
    answers are held (all dropped when full)."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._programs: dict[str, Any] = {}
        self._fields: dict[str, frozenset[str] | None] = {}
        self._answers: dict[tuple[str, str, bytes], tuple[Any, str | None]] = {}
        self._cel: Any = None
        self.unchecked: set[str] = set()

    def program(self, rule: str) -> Any:
        if rule in self._programs:
            return self._programs[rule]
        program = None
        if "oldSelf" not in rule:
            if self._cel is None:
                self._cel = load_cel()
            try:
                program = self._cel.compile(rule)
            except Exception:  # a parse error in the library's dialect: not checked
                program = None
        if program is None:
            self.unchecked.add(rule)
        self._programs[rule] = program
        self._fields[rule] = self_fields(rule)
        return program

    def evaluate(self, rule: Rule, value: Any) -> str | None:
        """None when the rule holds or cannot be checked; else the reason the API server gives."""
        program = self.program(rule.rule)
        if program is None:
            return None
        value = cut(value, self._fields[rule.rule])
        text = json_key(value)  # None: not plain JSON (dates, big integers, ...): run it every time
        key = (rule.rule, rule.message, text) if text is not None else None
        if key is not None:
            held = self._answers.get(key)
            if held is not None and held[0] == value:
                return held[1]
        reason = self._run(program, rule, value)
        if key is not None:
            if len(self._answers) >= self.LIMIT:
                self._answers.clear()
            self._answers[key] = (value, reason)
        return reason

    def _run(self, program: Any, rule: Rule, value: Any) -> str | None:
        try:
            result = program.execute({"self": json_value(value, drop_nulls=False)})  # as JSON: string keys
        except Exception as err:  # the library raises plain RuntimeError/KeyError/TypeError
            text = str(err)
            if _UNSUPPORTED.search(text):
                self.unchecked.add(rule.rule)
                return None
            return f"{rule.message} (evaluation error: {text.splitlines()[0][:120]})"
        return None if result is True else rule.message


def defaulted(node: RuleNode, value: Any) -> Any:
    """``value`` with the schema's defaults filled in, as the API server does before it runs CEL rules
    (e.g. Gateway API's `tls.mode` defaults to Terminate). Copies only what it changes."""
    if not node.defaults_below:
        return value  # no default anywhere under this node (most CRDs): nothing to fill or copy
    if isinstance(value, dict):
        out = dict(value)
        for name, default in node.defaults.items():
            if name not in out:
                out[name] = copy.deepcopy(default)
        for name, child in node.properties.items():
            if name in out:
                out[name] = defaulted(child, out[name])
        if node.values is not None:
            for key in list(out):
                out[key] = defaulted(node.values, out[key])
        return out
    if isinstance(value, list) and node.items is not None:
        return [defaulted(node.items, item) for item in value]
    return value


def check(node: RuleNode, value: Any, path: tuple[str | int, ...], cel: CelRules, out: list[Violation]) -> None:
    """Walk ``value`` along ``node``; append a Violation per failed rule or duplicate list item."""
    if value is None:
        return
    for rule in node.rules:
        reason = cel.evaluate(rule, value)
        if reason is not None:
            out.append(Violation(path_text(path), show(value), reason))
    if isinstance(value, list):
        if node.list_type is not None:
            _duplicates(node, value, path, out)
        if node.items is not None:
            for index, item in enumerate(value):
                check(node.items, item, (*path, index), cel, out)
    elif isinstance(value, dict):
        for name, child in node.properties.items():
            if name in value:
                check(child, value[name], (*path, name), cel, out)
        if node.values is not None:
            for key, item in value.items():
                check(node.values, item, (*path, str(key)), cel, out)


def _duplicates(node: RuleNode, items: list[Any], path: tuple[str | int, ...], out: list[Violation]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if node.list_type == "map" and isinstance(item, dict):
            key = json.dumps([item.get(k) for k in node.map_keys], sort_keys=True, default=str)
            shown = show({k: item.get(k) for k in node.map_keys})
        else:
            key = json.dumps(item, sort_keys=True, default=str)
            shown = show(item)
        if key in seen:
            out.append(Violation(path_text((*path, index)), shown, "Duplicate value"))
        seen.add(key)
