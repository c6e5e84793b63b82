"""Mesh membership of a workload (A6): sidecar, ambient or none, decided from its pods."""

from __future__ import annotations

from kubectl_meshdoctor.findings.types import Mesh
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model


def workload_mesh(model: Model, pods: list[Pod]) -> tuple[Mesh, str]:
    """The first pod decides; mixed pods (mid-rollout) are reported in the reason."""
    if not pods:
        return Mesh.NONE, "no pods"
    modes = [model.pod_mesh(p) for p in pods]
    mesh, why = modes[0]
    if any(m != mesh for m, _ in modes[1:]):
        why += " (pods disagree: some pods differ, e.g. during a rollout)"
    return mesh, why


def spiffe(model: Model, pod: Pod) -> str:
    return f"spiffe://{model.istio.mesh.trust_domain}/ns/{pod.namespace}/sa/{pod.service_account}"
