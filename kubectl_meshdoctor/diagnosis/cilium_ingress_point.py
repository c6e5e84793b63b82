"""The first policy point of Cilium's Ingress / Gateway API (issue 20 §4; semantics-gateways.md C2, C3,
GB12): the outside client → Cilium's Envoy. Envoy evaluates the Cilium policies that select the ingress
endpoint (reserved:ingress; it has no namespace label, so only clusterwide policies can select it,
e.g. `endpointSelector: {}` or a `NotIn kube-system` namespace selector) with the client as peer (world,
or its CIDR) on the backend's port. A refusal there is no packet drop: Envoy answers 403 `Access denied`.

Sound or unknown: when a rule admits or denies by address (fromCIDR/fromCIDRSet) and the question names
no client IP (SOURCE `world`), the answer depends on that IP: unknown with the gap. Under
enable-policy=always with no policy selecting the endpoint, whether Cilium's Envoy applies default deny
there is not settled: unknown."""

from __future__ import annotations

from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate
from kubectl_meshdoctor.findings.types import Cause, Decision, Hop, HopResult, ObjectRef, Symptom, Verdict
from kubectl_meshdoctor.model.cilium import PolicyRule
from kubectl_meshdoctor.model.objects import Pod, world_peer
from kubectl_meshdoctor.model.view import Model

INGRESS_RESERVED = frozenset({"ingress"})


def ingress_endpoint_rules(model: Model) -> list[PolicyRule]:
    """Clusterwide rules whose endpointSelector selects the ingress endpoint (no labels, reserved:ingress)."""
    return [r for r in model.cluster_rules if not r.node_selector and r.subject.matches({}, INGRESS_RESERVED)]


def _endpoint(model: Model) -> Pod:
    """Cilium's ingress endpoint as a subject for the policy engine: no namespace, no labels; the rules
    that select it are the ones above (the engine's per-subject cache is seeded with them)."""
    pod = Pod("", "cilium-ingress", {}, {}, "", None, None, (), (), (), (), False, True, None, None)
    model.selecting_cache[pod.key()] = ingress_endpoint_rules(model)
    return pod


def _by_address(rules: list[PolicyRule]) -> tuple[bool, bool]:
    """(an allow entry admits by address, a deny entry refuses by address)."""
    allow = any(e.cidrs for r in rules for e in r.ingress)
    deny = any(e.cidrs for r in rules for e in r.ingress_deny)
    return allow, deny


def _hop(label: str, d: CiliumDecision | None, decision: Decision, detail: str, *causes: Cause) -> HopResult:
    by = d.by if d is not None else ()
    if decision is Decision.UNKNOWN:
        return HopResult(
            Hop.CILIUM_INGRESS, decision, by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN, causes, (detail,), leg=label
        )
    if decision is Decision.DENY:
        return HopResult(Hop.CILIUM_INGRESS, decision, by, detail, Symptom.HTTP_403, Verdict.DENIED, causes, leg=label)
    return HopResult(Hop.CILIUM_INGRESS, decision, by, detail, leg=label)


def world_to_ingress(
    model: Model, gateway: str, client: str, port: int, method: str, path: str, backend: str, l4: bool = False
) -> HopResult | None:
    # ``gateway``: what Cilium's Envoy serves there, "Gateway NS/NAME" or "Ingress NS/NAME"
    """Point 1 for the request to one backend (the port Envoy checks is the backend's, cilium/proxy #351).
    None when no policy selects the ingress endpoint (and enable-policy is not always)."""
    rules = ingress_endpoint_rules(model)
    selecting = [r for r in rules if r.has_ingress_section or r.ingress_deny or r.default_deny_ingress]
    label = f"world → Cilium's Envoy ({gateway[0].lower() + gateway[1:]}), for {backend}"
    if not selecting:
        if model.cilium_config.enable_policy == "always":
            gap = (
                "enable-policy=always and no policy selects Cilium's ingress endpoint: whether its Envoy refuses "
                "the outside client by default is not settled (semantics-gateways.md C2)"
            )
            return _hop(label, None, Decision.UNKNOWN, gap)
        return None
    ip = client if client != "world" else None
    peer = world_peer(ip)
    d = evaluate(model, _endpoint(model), "ingress", peer, port, "TCP")
    where = f"Cilium's ingress endpoint (reserved:ingress) on TCP/{port}"
    allow_cidr, deny_cidr = _by_address(selecting)
    if ip is None and d.decision is Decision.DENY and allow_cidr and not d.explicit_deny:
        gap = (
            f"{where}: {d.detail}; but a rule admits outside clients by address and the question names no client "
            "IP: it depends on the client's IP (give it as SOURCE)"
        )
        return _hop(label, d, Decision.UNKNOWN, gap)
    if ip is None and d.decision is Decision.ALLOW and deny_cidr:
        gap = (
            f"{where}: {d.detail}; but a deny rule refuses outside clients by address and the question names no "
            "client IP: it depends on the client's IP (give it as SOURCE)"
        )
        return _hop(label, d, Decision.UNKNOWN, gap)
    if d.unsure:
        return _hop(label, d, Decision.UNKNOWN, f"{where}: {d.unsure}")
    if d.decision is Decision.DENY:
        return _hop(
            label,
            d,
            Decision.DENY,
            f"{where}: {d.detail}; Envoy answers 403 Access denied",
            _denied(d, gateway, peer.name, port),
        )
    if l4 and (d.http_rules or d.l7_unadmitted):
        return _hop(label, d, Decision.UNKNOWN, f"{where}: HTTP rules meet a TLS/TCP listener's bytes: not evaluated")
    if d.http_rules or d.l7_unadmitted:
        l7 = d.l7_for(method, path, None, {})
        if l7.unknown:
            return _hop(label, d, Decision.UNKNOWN, f"{where}: {l7.unknown}")
        if not l7.allowed:
            why = f"its HTTP rules do not admit {method} {path} from {peer.name}"
            cause = _denied(d, gateway, peer.name, port, why, l7.by)
            return _hop(label, d, Decision.DENY, f"{where}: {why}; Envoy answers 403 Access denied", cause)
    return _hop(label, d, Decision.ALLOW, f"{where}: {d.detail}")


def _denied(
    d: CiliumDecision, gateway: str, peer: str, port: int, why: str = "", by: tuple[ObjectRef, ...] = ()
) -> Cause:
    params = {"gateway": gateway, "peer": peer, "port": str(port), "why": why or d.detail}
    return Cause("cilium-ingress-world-denied", by or d.by or d.selecting, params)
