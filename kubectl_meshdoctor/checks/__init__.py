"""Mesh-wide analyzers for `check` (like istioctl analyze, across Cilium and Istio).

ALL is an explicit, alphabetically sorted tuple (no import-time registration).
"""

from __future__ import annotations

from kubectl_meshdoctor.checks.authz_refs import AUTHZ_REFS
from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.cilium_checks import AUDIT, EMPTY_RULES, INVALID, SELECTS_NOTHING
from kubectl_meshdoctor.checks.cilium_gateway_backends import CILIUM_GATEWAY_BACKENDS
from kubectl_meshdoctor.checks.config_checks import CONFIG
from kubectl_meshdoctor.checks.egress import EGRESS
from kubectl_meshdoctor.checks.envoy_config_checks import ENVOY_CONFIG_CONFLICTS
from kubectl_meshdoctor.checks.gamma_checks import GAMMA_WAYPOINT
from kubectl_meshdoctor.checks.gamma_consumer import GAMMA_CONSUMER
from kubectl_meshdoctor.checks.gateway_api_status import ROUTE_STATUS
from kubectl_meshdoctor.checks.ingress_backends import INGRESS_BACKENDS
from kubectl_meshdoctor.checks.istio_refs import REFS
from kubectl_meshdoctor.checks.mesh_checks import AMBIENT_PROBES, AUTHZ_NEEDS_MTLS, PA_DISABLE_AMBIENT, SPLIT_BRAIN
from kubectl_meshdoctor.checks.pair_checks import PAIRS
from kubectl_meshdoctor.checks.protocol_checks import PROTOCOLS
from kubectl_meshdoctor.checks.routing import ROUTING
from kubectl_meshdoctor.checks.service_ports import SERVICE_PORTS
from kubectl_meshdoctor.checks.workload_checks import DNS, INJECTION, NO_ENDPOINTS, UID_1337

ALL: tuple[Check, ...] = tuple(
    sorted(
        (
            AMBIENT_PROBES,
            AUDIT,
            AUTHZ_NEEDS_MTLS,
            CILIUM_GATEWAY_BACKENDS,
            CONFIG,
            EGRESS,
            ENVOY_CONFIG_CONFLICTS,
            EMPTY_RULES,
            GAMMA_WAYPOINT,
            GAMMA_CONSUMER,
            INGRESS_BACKENDS,
            INVALID,
            PA_DISABLE_AMBIENT,
            PAIRS,
            SERVICE_PORTS,
            PROTOCOLS,
            AUTHZ_REFS,
            DNS,
            INJECTION,
            NO_ENDPOINTS,
            UID_1337,
            REFS,
            ROUTING,
            ROUTE_STATUS,
            SELECTS_NOTHING,
            SPLIT_BRAIN,
        ),
        key=lambda c: c.name,
    )
)
