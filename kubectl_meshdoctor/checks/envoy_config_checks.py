"""Overlapping CiliumEnvoyConfigs, mesh-wide (issue 20 item 6; semantics-gateways.md C5, GB16): every
pair of CiliumEnvoyConfig / CiliumClusterwideEnvoyConfig that redirects the same Service port or
defines an Envoy resource under the same qualified name, through the same function `explain` uses
for a config on the call's path (diagnosis/envoy_conflicts.py)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.diagnosis.envoy_conflicts import conflicts
from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.view import Model


def _conflicts(model: Model) -> list[Cause]:
    return [c.cause() for c in conflicts(model)]


ENVOY_CONFIG_CONFLICTS = Check(
    "cilium.EnvoyConfigConflict",
    "CiliumEnvoyConfigs that redirect the same Service port or define the same Envoy resource",
    ("CiliumEnvoyConfig", "CiliumClusterwideEnvoyConfig"),
    _conflicts,
)
