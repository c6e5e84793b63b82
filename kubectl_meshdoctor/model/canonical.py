"""The canonical order of raw objects: by kind, namespace, name and origin, whatever order a file,
an API server (by name) or a test listed them in, so the same objects give the same model.

At 85,000 objects comparing four-string tuples is most of the sort: each object's four strings are
joined by NUL into one key instead. NUL sorts before every other character, so when no string holds
one, the joined keys sort exactly as the tuples do (a string that is a prefix of another is followed
by NUL, which is smaller than whatever follows in the longer one); when any holds a NUL the tuples
are used.
"""

from __future__ import annotations

from kubectl_meshdoctor.raw import RawObject


def canonical_key(obj: RawObject) -> tuple[str, str, str, str]:
    doc = obj.doc
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return (str(doc.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")), obj.origin or "")


def canonical_order(objects: list[RawObject]) -> list[RawObject]:
    keys: list[str] = []
    add = keys.append
    for obj in objects:  # the four strings of canonical_key, joined by NUL
        doc = obj.doc
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        add(f"{doc.get('kind', '')}\0{meta.get('namespace') or ''}\0{meta.get('name', '')}\0{obj.origin or ''}")
    # each key holds at least 3 NULs: exactly 3 in each when the joined keys hold 4 per key, less one
    if keys and "\0".join(keys).count("\0") != 4 * len(keys) - 1:
        return sorted(objects, key=canonical_key)
    if all(map(str.__le__, keys, keys[1:])):  # listed in canonical order already (a snapshot, an API server)
        return list(objects)
    order = sorted(range(len(objects)), key=keys.__getitem__)
    return [objects[i] for i in order]
