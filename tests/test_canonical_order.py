"""The canonical order of raw objects (model/canonical.py) is the order of their (kind, namespace,
name, origin) tuples, also for names that are prefixes of others, non-ASCII names, values that are
not strings, equal keys (kept in input order) and strings holding NUL."""

from __future__ import annotations

import random

from kubectl_meshdoctor.model.canonical import canonical_key, canonical_order
from kubectl_meshdoctor.raw import RawObject

PARTS = ["", "a", "a-b", "ab", "a b", "b", "é", "ä-x", "Z", "a\x01", 7, 7.0, True, None]


def _objects(rnd: random.Random, nul: bool) -> list[RawObject]:
    out = []
    for _ in range(400):
        meta = {"name": rnd.choice(PARTS), "namespace": rnd.choice(PARTS)}
        if nul and rnd.random() < 0.05:
            meta["name"] = "a\0b"
        out.append(
            RawObject({"kind": rnd.choice(["Pod", "Po", "Service", ""]), "metadata": meta}, rnd.choice(["f:1", None]))
        )
    return out


def test_same_order_as_the_tuples() -> None:
    rnd = random.Random(5)
    for nul in (False, True):
        objects = _objects(rnd, nul)
        expected = sorted(objects, key=canonical_key)
        assert [id(o) for o in canonical_order(objects)] == [id(o) for o in expected]
