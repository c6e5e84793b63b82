"""cilium-config sanity for the meshes in use (A7, B19-B21)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis.crosslayer import config_causes
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.view import Model


def _config(model: Model) -> list[Cause]:
    meshes = model.meshes_in_use()
    return config_causes(model, meshes)


CONFIG = Check(
    "cilium.Config",
    "cilium-config vs Istio: socket-LB host-namespace-only, cni-exclusive, overlay with istiod off hostNetwork",
    ("ConfigMap", "Pod", "Namespace", "DaemonSet", "Deployment"),
    _config,
)
