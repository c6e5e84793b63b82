"""The one catalog of stable cause codes (contract §5; never rename, never reuse).

A diagnosis only says *what* and *where* (``Cause(code, objects, params)``);
severity, the summary sentence, the fix and the documentation pointer come from
here, so the same problem always reads the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubectl_meshdoctor.findings.catalog_check import CHECK as _CHECK
from kubectl_meshdoctor.findings.catalog_check import ISTIOCTL_CODES
from kubectl_meshdoctor.findings.catalog_egress import SPECS as _EGRESS_SPECS
from kubectl_meshdoctor.findings.catalog_gateway import SPECS as _GATEWAY_SPECS
from kubectl_meshdoctor.findings.catalog_mesh import SPECS as _MESH_SPECS
from kubectl_meshdoctor.findings.catalog_multicluster import SPECS as _MULTICLUSTER_SPECS
from kubectl_meshdoctor.findings.cause_spec import CauseSpec
from kubectl_meshdoctor.findings.types import Cause, Severity

__all__ = [
    "CAUSES",
    "CONTRACT_CODES",
    "FIX_RULES",
    "ISTIOCTL_CODES",
    "CauseSpec",
    "fix",
    "related",
    "severity",
    "summary",
]

_SPECS: tuple[CauseSpec, ...] = _MESH_SPECS + _GATEWAY_SPECS + _EGRESS_SPECS + _MULTICLUSTER_SPECS


def _with_check(spec: CauseSpec) -> CauseSpec:
    import dataclasses

    how, related = _CHECK.get(spec.code, ("", ()))
    return dataclasses.replace(spec, check=how, related=tuple(ISTIOCTL_CODES.get(r, r) for r in related))


_SPECS = tuple(_with_check(s) for s in _SPECS)

CAUSES: Mapping[str, CauseSpec] = {s.code: s for s in _SPECS}

CONTRACT_CODES: tuple[str, ...] = (
    "cilium-policy-denied",
    "cilium-l7-denied",
    "cilium-l7-vs-istio-mtls",
    "istio-mtls-strict-plaintext",
    "istio-mtls-conflict",
    "istio-authz-denied",
    "istio-authz-needs-mtls",
    "cilium-socketlb-bypass",
    "cilium-cni-exclusive",
    "istiod-hostnetwork-overlay",
    "l7-split-brain",
    "dns-egress-blocked",
    "no-endpoints",
    "port-mismatch",
    "flows-contradict-policy",
    "istio-fault-injection",
    "istio-subset-not-found",
    "istio-route-no-match",
    "istio-destination-host-unknown",
    "istio-egress-registry-only",
    "istio-circuit-breaker",
    "istio-timeout",
    "dns-name-unknown",
    "istio-subset-no-endpoints",
    "istio-route-port-unknown",
    "istio-host-not-exported",
    "invalid-object",
)


# How every fix is proposed (issue 17); docs/causes.md and the contract quote it.
FIX_RULES: tuple[str, ...] = (
    "A fix is a proposal with proof: `explain` applies it in memory (what-if, static analysis) and shows the "
    "question's verdict before → after; a fix that clears one hop is completed with the next hop's fix.",
    "Blast radius: every other call whose verdict the fix changes, over the namespaces the fix names (its own, "
    "and every namespace its peers name; a cluster-scoped object: all) and every port of their Services, for "
    "the request and two near ones (another method, another path); none is stated as such. Offline every "
    "namespace of the input is read for it; live, the namespaces read (the proof says what was not compared).",
    "Intent: a request the user's policies refuse as written — Cilium L3/L4 and HTTP rules of both ends on the "
    "app port, an AuthorizationPolicy — for another reason than the question (another method, path, port or "
    "peer identity) must stay refused. A fix that would let it through is not proposed (WIDENS).",
    "Where ambient HBONE (15008) hides the HTTP from Cilium's proxy, the enforcement moves to a waypoint for "
    "the Service with an AuthorizationPolicy (targetRefs) holding the same methods and paths for the same "
    "source namespaces, and 15008 admits the waypoint (its service account), not the client. Rules with no "
    "exact form (regex paths or methods, header or host matches, label-selected or entity/CIDR peers) are "
    "named as lost, and taking the namespaces out of ambient is offered instead.",
    "Narrowest form: the exact peer identity (workload label and namespace, or the SPIFFE principal), the exact "
    "port and protocol; HTTP paths as exact regexes (a query string optional).",
    "Only a proposal proven to make the call work without widening is proposed; `--fix-yaml` prints it "
    "(otherwise the causes' YAML, with a note on stderr).",
)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, params: Mapping[str, str]) -> str:
    return template.format_map(_Defaults(params))


def severity(cause: Cause) -> Severity:
    return cause.severity or CAUSES[cause.code].severity


def summary(cause: Cause) -> str:
    return cause.detail or _fill(CAUSES[cause.code].summary, cause.params)


def related(cause: Cause) -> tuple[str, ...]:
    return CAUSES[cause.code].related


def fix(cause: Cause) -> str:
    # "fix_text": a case the template's object kind does not fit (istio-timeout on an HTTPRoute, GB6)
    return cause.params.get("fix_text") or _fill(CAUSES[cause.code].fix, cause.params)
