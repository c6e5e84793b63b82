"""model/build.py hands an object to a family reader (Gateway API, Ingress/CEC, egress gateway) only
when its kind is in the reader's declared kinds, so that the other objects skip making a reference.
A reader that looks at a kind it does not declare would silently never see it (a policy's listener
redirect lost → a wrong "allowed"): every other kind of every scenario and demo must leave each store
exactly as it was."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_meshdoctor.model import egress_gateway, gateway_api, gateway_api_parse, ingress
from kubectl_meshdoctor.model.readers import ref_of

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "tests" / "scenarios").glob("*/*.yaml")) + sorted(
    (ROOT / "kubectl_meshdoctor" / "demos").glob("*/*.yaml")
)

READERS: dict[str, tuple[frozenset[str], Callable[[], Any], Callable[[Any, dict[str, Any], Any], bool]]] = {
    "ingress": (ingress.READ_KINDS, ingress.IngressObjects, ingress.read),
    "egress": (egress_gateway.READ_KINDS, egress_gateway.EgressObjects, egress_gateway.read),
    "gateway-api": (gateway_api.KINDS, gateway_api.GatewayApiObjects, gateway_api_parse.read),
}


@functools.cache
def _docs() -> list[dict[str, Any]]:
    out = []
    for f in FILES:
        try:
            docs = list(yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader))
        except Exception:
            continue
        out += [d for d in docs if isinstance(d, dict) and d.get("kind")]
    return out


@pytest.mark.parametrize("family", sorted(READERS))
def test_a_reader_takes_only_the_kinds_it_declares(family: str) -> None:
    kinds, fresh, read = READERS[family]
    docs = _docs()
    seen = {str(d["kind"]) for d in docs}
    assert kinds & seen, f"no {family} kind in the fixtures: the test would prove nothing"
    for doc in docs:
        kind = str(doc["kind"])
        if kind in kinds:
            continue
        store = fresh()
        read(store, doc, ref_of(kind, doc, None))
        assert store == fresh(), f"{family} reader looked at {kind}, which it does not declare"
