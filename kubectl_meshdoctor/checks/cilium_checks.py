"""Cilium policy hygiene: invalid policies, policies selecting nothing, empty rules, audit mode."""

from __future__ import annotations

from collections.abc import Mapping

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.findings.types import Cause, ObjectRef
from kubectl_meshdoctor.model.index import any_pod_selected, distinct_identities, selects_some
from kubectl_meshdoctor.model.view import Model


def _invalid(model: Model) -> list[Cause]:
    return [
        Cause("cilium-policy-invalid", (ref,), {"policy": ref.key(), "why": why}) for ref, why in model.cilium.invalid
    ]


def _selects_nothing(model: Model) -> list[Cause]:
    out: list[Cause] = []
    seen: set[tuple[str, str | None, str]] = set()
    if not model.pods:
        return out
    for rule in model.cilium.rules:
        if rule.node_selector:
            continue
        if rule.namespace is None and rule.subject.matches({}, frozenset({"ingress"})):
            continue  # it selects Cilium's ingress endpoint (reserved:ingress), which is no pod (issue 20)
        key = (rule.policy.kind, rule.policy.namespace, rule.policy.name)
        identities = distinct_identities(model, rule.namespace or None)
        if not selects_some(model, rule.subject, identities):
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Cause(
                    "policy-selects-nothing",
                    (rule.ref(),),
                    {
                        "policy": f"{rule.policy.kind} {rule.policy.namespace or ''}/{rule.policy.name}".replace(
                            " /", " "
                        ),
                        "selector": rule.subject.describe(),
                    },
                )
            )
    root = model.istio.mesh.root_namespace
    istio: list[tuple[ObjectRef, Mapping[str, str] | None]] = [(o.ref, o.selector) for o in model.istio.authz]
    istio += [(o.ref, o.selector) for o in model.istio.peer_authns]
    for ref, selector in istio:
        if not selector:
            continue
        if not any_pod_selected(model, None if ref.namespace == root else (ref.namespace or ""), selector):
            text = ", ".join(f"{k}={v}" for k, v in selector.items())
            out.append(
                Cause(
                    "policy-selects-nothing",
                    (ref.with_rule("spec.selector"),),
                    {"policy": f"{ref.kind} {ref.namespace}/{ref.name}", "selector": text},
                )
            )
    return out


def _empty_rules(model: Model) -> list[Cause]:
    out = []
    for rule in model.cilium.rules:
        for entry in (*rule.ingress, *rule.egress):
            if entry.empty_entry:
                ref = rule.policy.with_rule(entry.path)
                out.append(
                    Cause(
                        "empty-rule-semantics",
                        (ref,),
                        {"policy": f"{ref.kind} {ref.namespace}/{ref.name}", "rule": entry.path},
                    )
                )
    return out


def _audit(model: Model) -> list[Cause]:
    if not model.cilium_config.audit_mode:
        return []
    refs = (model.cilium_config.ref,) if model.cilium_config.ref else ()
    return [Cause("cilium-policy-audit", refs, {"would": "drops nothing cluster-wide: every would-be drop"})]


INVALID = Check(
    "cilium.InvalidPolicy",
    "policies the agent rejects (nothing of them is enforced)",
    ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"),
    _invalid,
)
SELECTS_NOTHING = Check(
    "policy.SelectsNothing",
    "Cilium/Kubernetes/Istio policies whose selector matches no pod",
    (
        "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy",
        "NetworkPolicy",
        "AuthorizationPolicy",
        "PeerAuthentication",
        "Pod",
    ),
    _selects_nothing,
)
EMPTY_RULES = Check(
    "cilium.EmptyRule",
    "`ingress: [{}]` / `egress: [{}]` entries whose meaning differs by version",
    ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"),
    _empty_rules,
)
AUDIT = Check("cilium.AuditMode", "policy-audit-mode on: nothing is dropped", ("ConfigMap",), _audit)
