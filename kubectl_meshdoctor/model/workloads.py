"""Workload controllers and their pod templates (issue 11 item 9: manifests as people have them).

A GitOps repository holds Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs
but no Pods. The controller would create pods from ``spec.template`` (CronJob:
``spec.jobTemplate.spec.template``) with exactly the template's labels, ports, service account
and ``hostNetwork``, so each template stands for its pods. What a template cannot tell (pod IP,
node, readiness) stays unknown, and the answer says the pods are inferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
INFERRED_SUFFIX = "inferred"  # pod name "<workload>-inferred": never a name the API server would generate


@dataclass(frozen=True, slots=True)
class PodTemplate:
    kind: str
    namespace: str
    name: str
    owner: tuple[str, str] | None  # the controlling owner (ReplicaSet -> Deployment, Job -> CronJob)
    template: dict[str, Any]
    replicas: int | None  # None = not stated (the controller default, at least one pod)
    origin: str | None


def _as_dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def pod_template(doc: dict[str, Any], origin: str | None) -> PodTemplate | None:
    """The pod template of a workload object, or None when it has none."""
    fields = template_fields(doc, origin)
    return None if fields is None else PodTemplate(*fields)


TemplateFields = tuple[str, str, str, tuple[str, str] | None, dict[str, Any], int | None, str | None]


def template_fields(doc: dict[str, Any], origin: str | None) -> TemplateFields | None:
    """The fields of ``pod_template``'s answer, all read (a malformed object fails the same), the
    template not made: model/build.py makes one only when no Pod is in the input (most inputs have pods)."""
    kind = str(doc.get("kind"))
    if kind not in WORKLOAD_KINDS:
        return None
    meta = _as_dict(doc.get("metadata"))
    spec = _as_dict(doc.get("spec"))
    if kind == "CronJob":
        spec = _as_dict(_as_dict(spec.get("jobTemplate")).get("spec"))
    template = _as_dict(spec.get("template"))
    if not template:
        return None
    owners = [o for o in meta.get("ownerReferences") or [] if isinstance(o, dict)]
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    replicas = spec.get("replicas") if kind in ("Deployment", "StatefulSet", "ReplicaSet") else None
    return (
        kind,
        str(meta.get("namespace") or "default"),
        str(meta.get("name", "")),
        (str(owner.get("kind")), str(owner.get("name"))) if owner else None,
        template,
        int(replicas) if isinstance(replicas, int) else None,
        origin,
    )


def templates_to_infer(templates: list[PodTemplate]) -> tuple[list[PodTemplate], list[str]]:
    """Which templates stand for pods: one per top-level controller.

    A ReplicaSet owned by a Deployment present in the input (or a Job owned by a present CronJob)
    is the same pods as its owner, so only the owner is used. ``replicas: 0`` means no pods.
    Returns the templates and notes on those skipped.
    """
    present = {(t.namespace, t.kind, t.name) for t in templates}
    out: list[PodTemplate] = []
    notes: list[str] = []
    for t in templates:
        if t.owner is not None and (t.namespace, t.owner[0], t.owner[1]) in present:
            continue
        if t.replicas == 0:
            notes.append(f"{t.kind} {t.namespace}/{t.name} has replicas: 0, so it stands for no pod")
            continue
        out.append(t)
    return out, notes


def inferred_pod_doc(t: PodTemplate) -> dict[str, Any]:
    """A Pod document as the controller would create it from the template (no IP, no node)."""
    meta = _as_dict(t.template.get("metadata"))
    spec = dict(_as_dict(t.template.get("spec")))
    spec.pop("nodeName", None)  # a template never schedules; keep "unknown node" honest
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{t.name}-{INFERRED_SUFFIX}",
            "namespace": t.namespace,
            "labels": _as_dict(meta.get("labels")),
            "annotations": _as_dict(meta.get("annotations")),
            "ownerReferences": [{"kind": t.kind, "name": t.name, "controller": True}],
        },
        "spec": spec,
        "status": {"phase": "Running"},
    }


def inferred_warning(templates: list[PodTemplate]) -> str:
    shown = ", ".join(f"{t.namespace}/{t.name} ({t.kind})" for t in templates[:5])
    more = f" and {len(templates) - 5} more" if len(templates) > 5 else ""
    return (
        f"no Pod objects in the input: the pods of {len(templates)} workload(s) are inferred from their pod "
        f"templates ({shown}{more}): labels, ports, service account and hostNetwork as written; pod IPs, "
        "nodes and readiness are unknown (assumed ready)"
    )
