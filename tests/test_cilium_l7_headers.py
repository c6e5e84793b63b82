"""Table tests: Cilium HTTP `headers` / `headerMatches` / `host` against the request (issue 11 item 6)."""

from __future__ import annotations

import pytest

from kubectl_meshdoctor.engines.cilium.l7 import describe_rule, http_rule_verdict, parse_header
from kubectl_meshdoctor.model.cilium import HeaderMatch, HTTPRule


def _rule(headers: tuple[str, ...] = (), matches: tuple[HeaderMatch, ...] = (), host: str | None = None) -> HTTPRule:
    return HTTPRule(method="GET", path=None, host=host, headers=headers, header_matches=matches, index=0)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("X-My-Header: true", ("x-my-header", "true")),  # the form in Cilium's docs
        ("X-My-Header true", ("x-my-header", "true")),  # split on the first space, ':' trimmed
        ("X-Token", ("x-token", None)),  # presence only
        ("X-A: b c", ("x-a", "b c")),
    ],
)
def test_parse_header_entry(entry: str, expected: tuple[str, str | None]) -> None:
    assert parse_header(entry) == expected


@pytest.mark.parametrize(
    ("rule", "headers", "host", "expected"),
    [
        # headers: fires (present with the value) and near misses (other value, absent)
        (_rule(("X-My-Header: true",)), {"X-My-Header": "true"}, None, True),
        (_rule(("X-My-Header: true",)), {"x-my-header": "true"}, None, True),
        (_rule(("X-My-Header: true",)), {"X-My-Header": "True"}, None, False),  # values are exact
        (_rule(("X-My-Header: true",)), {}, None, False),
        (_rule(("X-Token",)), {"X-Token": ""}, None, True),
        (_rule(("X-Token", "X-Other")), {"X-Token": "1"}, None, False),  # all entries must hold
        # headerMatches
        (_rule(matches=(HeaderMatch("X-Team", "blue"),)), {"X-Team": "blue"}, None, True),
        (_rule(matches=(HeaderMatch("X-Team", "blue"),)), {"X-Team": "red"}, None, False),
        (_rule(matches=(HeaderMatch("X-Team", None),)), {"X-Team": "any"}, None, True),
        (_rule(matches=(HeaderMatch("X-Team", None),)), {}, None, False),
        (_rule(matches=(HeaderMatch("X-Team", "blue", "LOG"),)), {"X-Team": "red"}, None, True),
        (_rule(matches=(HeaderMatch("X-Team", "blue", "REPLACE"),)), {}, None, True),
        (_rule(matches=(HeaderMatch("Authorization", None, None, "blue/token"),)), {"Authorization": "x"}, None, None),
        (_rule(matches=(HeaderMatch("Authorization", "v", None, "blue/token"),)), {"Authorization": "v"}, None, True),
        # host: anchored regex on the Host header
        (_rule(host="api\\.example\\.com"), {}, "api.example.com", True),
        (_rule(host="api\\.example\\.com"), {}, "api.example.com.evil", False),
        (_rule(host=".*\\.example\\.com"), {}, "www.example.com", True),
        (_rule(host="api\\.example\\.com"), {}, None, False),
    ],
)
def test_http_rule_headers(rule: HTTPRule, headers: dict[str, str], host: str | None, expected: bool | None) -> None:
    assert http_rule_verdict(rule, "GET", "/", host, headers) is expected


def test_describe_rule_names_the_header_conditions() -> None:
    text = describe_rule(_rule(("X-My-Header: true",), (HeaderMatch("X-Team", "blue", "LOG"),), "a\\.b"))
    assert "headers: [X-My-Header: true]" in text
    assert "X-Team=blue (mismatch: LOG)" in text
    assert "host: a\\.b" in text
