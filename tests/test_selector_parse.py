"""parse_selector reads every shape of a LabelSelector the same way, the common one-label
matchLabels included: keys sorted, source prefixes split, values as text, anything malformed an
invalid selector that matches nothing (the policy then selects no pod, as Cilium would)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_meshdoctor.model.selectors import parse_selector


@pytest.mark.parametrize(
    ("raw", "prefix", "described", "valid"),
    [
        (None, "", "{}", True),
        ({}, "", "{}", True),
        ({"matchLabels": {"app": "web"}}, "", "app=web", True),
        ({"matchLabels": {"k8s:app": "web"}}, "", "k8s:app=web", True),
        ({"matchLabels": {"any:app": "web"}}, "", "app=web", True),
        ({"matchLabels": {"foo:app": "web"}}, "", "foo:app=web", True),  # not a source: part of the key
        ({"matchLabels": {"reserved:world": ""}}, "", "reserved:world=", True),
        ({"matchLabels": {"tier": "db", "app": "web"}}, "", "app=web, tier=db", True),  # sorted
        ({"matchLabels": {"app": 1}}, "", "app=1", True),
        ({"matchLabels": {"team": "a"}}, "ns:", "ns:team=a", True),
        ({"matchLabels": {"k8s:team": "a"}}, "ns:", "k8s:ns:team=a", True),
        ({"matchLabels": None, "matchExpressions": []}, "", "{}", True),
        ({"matchLabels": ["app"]}, "", "{}", False),
        ({"matchLabels": {"app": "web"}, "matchExpressions": {}}, "", "app=web", True),  # empty: nothing to add
        ({"matchLabels": {"app": "web"}, "matchExpressions": ["x"]}, "", "app=web", False),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "k8s:tier", "operator": "In", "values": [1]}]},
            "",
            "app=web, k8s:tier=1",
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "Like"}]}, "", "tier Like", False),
        ("app=web", "", "{}", False),
    ],
)
def test_selector_shapes(raw: Any, prefix: str, described: str, valid: bool) -> None:
    sel = parse_selector(raw, key_prefix=prefix)
    assert (sel.describe(), sel.valid) == (described, valid)
    if not valid:
        assert not sel.matches({"app": "web", "tier": "1"})


def test_a_one_label_selector_is_the_selector_of_the_same_label_among_others() -> None:
    one = parse_selector({"matchLabels": {"app": "web"}})
    two = parse_selector({"matchLabels": {"tier": "db", "app": "web"}})
    assert two.requirements[0] == one.requirements[0]
    assert one.matches({"app": "web"}) and not two.matches({"app": "web"})
