"""AuthorizationPolicy references (A5): source namespaces no namespace matches, and
namespace-wide policies in namespaces without pods (what istioctl's authz analyzer reports)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.engines.istio_authz import _str_match
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.istio import AuthorizationPolicy
from kubectl_meshdoctor.model.view import Model


def _unknown_namespaces(model: Model, ap: AuthorizationPolicy, known: set[str]) -> list[Cause]:
    out: list[Cause] = []
    for rule in ap.rules:
        for j, source in enumerate(rule.sources or ()):
            for field, values in (("namespaces", source.namespaces), ("notNamespaces", source.not_namespaces)):
                for k, pattern in enumerate(values or ()):
                    if pattern in known or (
                        "*" in pattern and any(_str_match(pattern, ns) for ns in known)  # the authz engine's matcher
                    ):
                        continue
                    path = f"spec.rules[{rule.index}].from[{j}].source.{field}[{k}]"
                    params = {
                        "policy": f"{ap.ref.namespace}/{ap.ref.name}",
                        "rule": path,
                        "pattern": pattern,
                        "effect": "never matches" if field == "namespaces" else "excludes nothing",
                    }
                    out.append(Cause("istio-authz-unknown-namespace", (ap.ref.with_rule(path),), params))
    return out


def _empty_namespace(model: Model, ap: AuthorizationPolicy) -> list[Cause]:
    ns = ap.ref.namespace or "default"
    if ap.selector or ap.target_refs or ns == model.istio.mesh.root_namespace or model.pods_by_ns.get(ns):
        return []
    params = {"policy": f"AuthorizationPolicy {ns}/{ap.ref.name}", "selector": f"every pod of namespace {ns}: none"}
    return [Cause("policy-selects-nothing", (ap.ref.with_rule("metadata.namespace"),), params)]


def _authz_refs(model: Model) -> list[Cause]:
    if not model.namespaces or not model.pods:
        return []  # without the namespace list (or any pod) nothing can be called unknown or empty
    known = set(model.namespaces)
    out: list[Cause] = []
    for ap in sorted(model.istio.authz, key=lambda a: (a.ref.namespace or "", a.ref.name)):
        out.extend(_unknown_namespaces(model, ap, known))
        out.extend(_empty_namespace(model, ap))
    return out


AUTHZ_REFS = Check(
    "istio.AuthorizationReferences",
    "AuthorizationPolicy source namespaces that match no namespace, namespace-wide policies without pods",
    ("AuthorizationPolicy", "Namespace", "Pod"),
    _authz_refs,
)
