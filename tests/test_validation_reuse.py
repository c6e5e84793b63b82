"""CEL answers are reused between objects and rules see only the fields of ``self`` they name: the
violations must be exactly those of a fresh validator for each object, whatever came before."""

from __future__ import annotations

import math
from importlib import resources

import pytest
import yaml

from kubectl_meshdoctor.validation import Validator
from kubectl_meshdoctor.validation.cel_fields import cut, self_fields

AP = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: blue}\n"
PA = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: blue}\n"
OBJECTS = [
    AP + "spec: {selector: {matchLabels: {app: web}}, rules: [{from: [{source: {namespaces: [a]}}]}]}",
    AP + "spec: {selector: {matchLabels: {app: web}}, targetRef: {kind: Service, name: s}}",  # selector + targetRef
    AP + "spec: {selector: {matchLabels: {app: web}}, rules: [{from: [{source: {namespaces: [b]}}]}]}",
    AP + "spec: {selector: {matchLabels: {'*': web}}}",
    AP + "spec: {selector: {matchLabels: {app: '*'}}}",
    AP + "spec: {rules: [{from: [{source: {serviceAccounts: [a], principals: [b]}}]}]}",
    AP + "spec: {rules: [{from: [{source: {serviceAccounts: [a]}}]}]}",
    PA + "spec: {portLevelMtls: {'8080': {mode: STRICT}}}",  # port-level mTLS needs a selector
    PA + "spec: {selector: {matchLabels: {app: web}}, portLevelMtls: {'8080': {mode: STRICT}}}",
    PA + "spec: {selector: {matchLabels: {app: web}}, portLevelMtls: {'70000': {mode: STRICT}}}",
    PA + "spec: {selector: {matchLabels: {app: web}}, portLevelMtls: {'http': {mode: STRICT}}}",
    PA + "spec: {selector: {matchLabels: {}}, portLevelMtls: {'8080': {mode: STRICT}}}",
]


def _fresh(doc: dict[str, object]) -> list[str]:
    return [v.text() for v in Validator().validate(doc)]


def test_reused_answers_are_those_of_a_fresh_validator() -> None:
    docs = [yaml.safe_load(text) for text in OBJECTS]
    expected = [_fresh(doc) for doc in docs]
    assert sum(1 for e in expected if e) >= 6  # the near misses above are rejected, the rest accepted
    shared = Validator()
    for _ in range(2):  # the second round answers from what the first remembered
        assert [[v.text() for v in shared.validate(doc)] for doc in docs] == expected
        assert [[v.text() for v in shared.validate(doc)] for doc in reversed(docs)] == expected[::-1]


def test_a_selector_and_a_target_ref_together_are_rejected_after_a_selector_alone() -> None:
    shared = Validator()
    alone, both = yaml.safe_load(OBJECTS[0]), yaml.safe_load(OBJECTS[1])
    assert shared.validate(alone) == []
    assert [v.path for v in shared.validate(both)] == ["spec"]


def test_values_that_print_alike_are_not_confused() -> None:
    shared = Validator()
    port = PA + "spec: {selector: {matchLabels: {app: web}}, portLevelMtls: {'8080': {mode: STRICT}}}"
    doc = yaml.safe_load(port)
    assert shared.validate(doc) == []
    doc["spec"]["selector"]["matchLabels"] = {}  # the empty selector is rejected, remembered or not
    assert [v.path for v in shared.validate(doc)] == ["spec"] == [v.path for v in Validator().validate(doc)]
    doc["spec"]["selector"] = {"matchLabels": {"app": math.nan}}  # not a string: same answer as a fresh run
    assert [v.text() for v in shared.validate(doc)] == _fresh(doc)


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("has(self.a) && self.b.c == 1", {"a", "b"}),
        ("size(self.items) > 0 ? self.mode == 'x' : true", {"items", "mode"}),
        ("self.all(k, k != '')", None),  # a method on self: it sees all of it
        ("self == {}", None),
        ("'x' in self", None),
        ("self.?a.orValue(1) == 1", None),
        ("x.all(self, self.a)", None),  # self rebound by a macro
        ("self.a == 'self'", {"a"}),  # text in quotes is not a use
        ("self.a == 'it\\'s' || self", None),  # escapes: not read here
        ("self.a // comment self", None),
        ("self.size() == 0", None),
        ("self . a > 1", {"a"}),
    ],
)
def test_the_fields_a_rule_reads(rule: str, fields: set[str] | None) -> None:
    assert self_fields(rule) == (None if fields is None else frozenset(fields))


def test_a_cut_keeps_only_named_fields_of_plain_objects() -> None:
    value = {"a": 1, "b": [2], "c": {"d": 3}}
    assert cut(value, frozenset({"a", "c", "z"})) == {"a": 1, "c": {"d": 3}}
    assert cut(value, None) is value
    odd = {1: "x", "a": 2}
    assert cut(odd, frozenset({"a"})) is odd  # non-string keys become strings later: left whole
    assert cut([1], frozenset({"a"})) == [1]


def test_kind_and_version_that_are_not_strings_are_looked_up_by_their_text() -> None:
    shared = Validator()
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 70000}]}}
    assert [v.path for v in shared.validate(bad)] == ["spec.ports[0].port"]
    assert shared.validate({**bad, "kind": ["Service"]}) == []  # no schema for that text: not checked
    assert shared.validate({**bad, "apiVersion": None}) == []
    assert shared.validate({**bad, "apiVersion": 1}) == []


def test_shipped_schemas_read_as_the_json_module_reads_them() -> None:
    import json

    from kubectl_meshdoctor.validation.schemas import FILES, _read

    for name in FILES:
        text = resources.files("kubectl_meshdoctor.validation").joinpath("schemas", name).read_text()
        # json.dumps tells 1 from 1.0 and keeps key order: equal text, equal schema
        assert json.dumps(_read(name)) == json.dumps(json.loads(text)), name


CNP = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: blue}\n"
TLS = "spec: {endpointSelector: {}, egress: [{toPorts: [{ports: [{port: '443'}], serverNames: %s}]}]}"


@pytest.mark.parametrize(
    ("spec", "paths"),
    [
        (TLS % "[a.example, a.example]", ["spec.egress[0].toPorts[0].serverNames[1]"]),
        (TLS % "[a.example, b.example]", []),  # near miss: no duplicate
        ("specs: [{endpointSelector: {}, ingress: [{toPorts: [{serverNames: [x, x]}]}]}]",
         ["specs[0].ingress[0].toPorts[0].serverNames[1]"]),
        ("spec: {endpointSelector: {matchLabels: {serverNames: x}}, ingress: [{}]}", []),  # the word, not the list
    ],
)  # fmt: skip
def test_list_checks_deep_in_a_policy_run_only_where_their_key_is(spec: str, paths: list[str]) -> None:
    doc = yaml.safe_load(CNP + spec)
    assert [v.path for v in Validator().validate(doc)] == paths


def test_objects_are_walked_for_rules_unless_a_deep_key_is_missing() -> None:
    from kubectl_meshdoctor.validation.rules import may_fire, rule_tree, trigger_keys

    deep = rule_tree(
        {"properties": {"a": {"properties": {"b": {"properties": {"c": {"x-kubernetes-list-type": "set"}}}}}}}, {}
    )
    assert deep is not None and trigger_keys(deep) == (b'"c":',)
    assert may_fire({"a": {"b": {"c": [1]}}}, trigger_keys(deep))
    assert not may_fire({"a": {"b": {"d": "c"}}}, trigger_keys(deep))
    assert may_fire({"a": {1: "x"}}, trigger_keys(deep))  # not plain JSON: walked
    shallow = rule_tree({"properties": {"a": {"x-kubernetes-validations": [{"rule": "self > 0"}]}}}, {})
    assert shallow is not None and trigger_keys(shallow) is None  # nearly every object has `a`: always walked
    defaults = rule_tree({"properties": {"a": {"properties": {"b": {"properties": {"c": {
        "x-kubernetes-list-type": "set"}}}, "d": {"default": 1}}}}}, {})  # fmt: skip
    assert defaults is not None and trigger_keys(defaults) is None
