"""Objects the API server would reject, and objects we could not read: both become visible, never silent.

An object that fails its schema does not exist in a real cluster, so the model leaves it out (absent,
as the cluster would), reports it (cause ``invalid-object`` naming object, field and value, like
istioctl's schema validation message) and adds a gap naming it, so no answer that depends on its kind
is a silent green. An object whose reading fails for any other reason is left out with a gap too.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubectl_meshdoctor.findings.types import Cause, Gap, ObjectRef
from kubectl_meshdoctor.validation import Violation


def invalid_cause(ref: ObjectRef, violations: list[Violation]) -> Cause:
    first = violations[0]
    more = f" (and {len(violations) - 1} more: " + "; ".join(v.text() for v in violations[1:3]) + ")"
    reason = first.reason + (more if len(violations) > 1 else "")
    where = f" at {ref.origin}" if ref.origin else ""
    return Cause(
        "invalid-object",
        (ref.with_rule(first.path or None),),
        {"object": ref.key() + where, "field": first.path or "<object>", "value": first.value or "-", "reason": reason},
    )


def _kinds(ref: ObjectRef) -> set[str]:
    """The inputs this object stands for (diagnosis/inputs.py names the two ConfigMaps by role)."""
    kinds = {ref.kind}
    if ref.kind == "ConfigMap" and ref.name == "cilium-config":
        kinds.add("CiliumConfig")
    elif ref.kind == "ConfigMap" and ref.name == "istio":
        kinds.add("MeshConfig")
    return kinds


def invalid_gap(ref: ObjectRef, violations: list[Violation]) -> Gap:
    first = violations[0]
    text = f"{ref.key()} is invalid ({first.text()}): the API server would reject it, so it is evaluated as absent"
    return Gap(text, _kinds(ref), ref.namespace, (ref,))


def unreadable_gap(ref: ObjectRef, err: BaseException) -> Gap:
    where = f" ({ref.origin})" if ref.origin else ""
    detail = str(err).splitlines()[0][:120] if str(err) else ""
    text = f"{ref.key()}{where} could not be read ({type(err).__name__}: {detail}); it was left out of the analysis"
    return Gap(text, _kinds(ref), ref.namespace, (ref,))


def in_scope(causes: Iterable[Cause], namespaces: Iterable[str]) -> list[Cause]:
    """The causes about objects in these namespaces or cluster-scoped ones."""
    wanted = set(namespaces)
    return [c for c in causes if any(ref.namespace is None or ref.namespace in wanted for ref in c.objects)]


def dropped_as_invalid(
    invalid: Iterable[Cause], namespace: str, name: str, kinds: tuple[str, ...], prefix: bool = False
) -> str | None:
    """A reference names an object that exists but was dropped as invalid (issue 17): say so with its
    field and reason, as ``invalid-object`` does, instead of "no such object". ``prefix``: a pod
    named ``NAME-...`` counts too (references by workload name)."""
    for cause in invalid:
        ref = cause.objects[0]
        if ref.namespace != namespace or ref.kind not in kinds:
            continue
        if ref.name == name or (prefix and ref.kind == "Pod" and ref.name.startswith(name + "-")):
            p = cause.params
            return (
                f"{ref.kind} {namespace}/{ref.name} exists but is invalid ({p['field']}: {p['reason']}): "
                "the API server would reject it, so it is evaluated as absent"
            )
    return None
