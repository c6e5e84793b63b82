"""The Cilium L3/L4 hops (B24 steps 3 and 6): the client's egress policy and the server's ingress
policy on the wire port, with the cause and the narrowest fix when one refuses the call."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import fixes, hop_external
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.cilium_peers import evaluate_view, host_network_hint, service_port_causes
from kubectl_meshdoctor.diagnosis.hop_base import allow_result as _allow
from kubectl_meshdoctor.diagnosis.hop_base import skip_result as _skip
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate, selecting_rules
from kubectl_meshdoctor.engines.cilium.identity import peer_view
from kubectl_meshdoctor.findings.types import (
    Cause,
    Decision,
    Hop,
    HopResult,
    Mesh,
    ObjectRef,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.objects import Pod, pod_peer, world_peer


def _policy_cause(
    call: Call, result: CiliumDecision, direction: str, port: int, peer_pod: Pod | None, subject: str
) -> Cause:
    policy = result.by[0] if result.by else ObjectRef("CiliumNetworkPolicy", None, "enable-policy=always")
    peer_name = call.src.label if direction == "ingress" else call.dst.label
    hbone = port == 15008
    deny_note = " (an explicit deny rule matches)" if result.explicit_deny else ""
    if hbone:
        deny_note += "; ambient traffic arrives as HBONE on port 15008, which is not allowed"
    if result.explicit_deny:
        hint = (
            f"narrow or remove the deny entry {policy.rule}: {fixes.edit_cmd(policy)} "
            "(allow rules cannot override a deny)"
        )
    elif peer_pod is not None and peer_pod.host_network:
        hint = host_network_hint(call, policy, direction, port, peer_name)
    else:
        section = f"{_rule_root(call, policy, direction)}.{direction}"
        hint = fixes.allow_peer_fix(
            policy, direction, peer_pod, port, "TCP" if call.query.protocol == "TCP" else "UDP", section
        )
        if hbone:
            hint += "\n(for ambient peers allow port 15008: HBONE carries every port through the tunnel)"
    return Cause(
        "cilium-policy-denied",
        result.by,
        {
            "policy_kind": policy.kind,
            "policy": f"{policy.namespace}/{policy.name}" if policy.namespace else policy.name,
            "subject": subject,
            "direction": direction,
            "peer": peer_name,
            "port": f"{call.query.protocol}/{port}",
            "deny_note": deny_note,
            "fix_hint": hint,
            "fix_yaml": _allow_yaml(call, direction, port, result.explicit_deny),
        },
    )


def _rule_root(call: Call, policy: ObjectRef, direction: str) -> str:
    """Where the policy as written holds its rules: ``spec``, or ``specs[i]`` (the one selecting the
    subject), so the fix text edits a field that exists (a ``spec.ingress`` added beside ``specs`` is
    rejected by Cilium)."""
    if policy.rule:
        return policy.rule.split(".")[0]
    subject = call.server if direction == "ingress" else call.client
    rules = selecting_rules(call.model, subject) if subject is not None else []
    paths = [r.path for r in rules if (r.policy.kind, r.policy.namespace, r.policy.name) == policy.key_tuple()]
    return paths[0] if paths and paths[0] else "spec"


def _allow_yaml(call: Call, direction: str, port: int, explicit_deny: bool) -> str:
    if explicit_deny or call.server is None:
        return ""
    subject, peer = (call.server, call.client) if direction == "ingress" else (call.client, call.server)
    if peer.host_network:
        return ""  # pod selectors cannot name a host-network peer (the fix hint gives the entity)
    return fixes.allow_cnp_yaml(subject, peer, direction, port, call.query.protocol)


def drop_note(call: Call) -> str:
    """B1: a sidecar client accepts the app's connection, then its own connect times out."""
    if call.client_mesh is Mesh.SIDECAR:
        return (
            " (the SYN is dropped silently; the client's sidecar answers 503 UF after its connect timeout, "
            "10 s by default, so a shorter client timeout sees 000)"
        )
    return " (the SYN is dropped silently: the client times out)"


def drop_symptom(call: Call, direction: str) -> Symptom:
    if direction == "egress" and call.model.cilium_config.deny_response_icmp:
        return Symptom.REFUSED
    return Symptom.TIMEOUT


def egress_hop(call: Call) -> HopResult:
    if call.dst.kind == "External":
        peer = world_peer(call.dst.external_ip, call.dst.dns_name)
    elif call.server is None:
        return _skip(Hop.CLIENT_EGRESS, "no server pod")
    else:
        peer = pod_peer(call.server, call.dst.label)
    port = call.wire_port
    if call.server is not None and call.dst.kind != "External" and call.server.host_network:
        view = peer_view(call.server, call.dst.label, call.client)
        peer = view.peers[0]
        result, unsure = evaluate_view(call, call.client, "egress", view)
        if unsure is not None:
            return unsure
    else:
        result = evaluate(call.model, call.client, "egress", peer, port, call.query.protocol)
        unsure_alias = _alias_fqdn_unsure(call, result, port)
        if unsure_alias is not None:
            return unsure_alias
        if call.dst.kind == "External":
            done = hop_external.after_policy(call, call.client, peer, port, result)
            if isinstance(done, HopResult):
                return done
            result = done
    call.egress = result
    if result.decision is Decision.DENY:
        cause = _policy_cause(call, result, "egress", port, call.server, call.src.label)
        return HopResult(
            Hop.CLIENT_EGRESS,
            Decision.BREAK,
            result.by,
            result.detail + ("" if call.model.cilium_config.deny_response_icmp else drop_note(call)),
            drop_symptom(call, "egress"),
            Verdict.DENIED,
            (cause, *service_port_causes(call, result, call.client, "egress", peer)),
        )
    if result.unsure:
        return HopResult(
            Hop.CLIENT_EGRESS, Decision.UNKNOWN, result.by, result.unsure, Symptom.UNKNOWN, Verdict.UNKNOWN
        )
    return _allow(Hop.CLIENT_EGRESS, result.detail, result.by)


def _alias_fqdn_unsure(call: Call, result: CiliumDecision, port: int) -> HopResult | None:
    """An outside destination reached through an ExternalName Service: the client queried the alias,
    the CNAME target came in the answer. Whether a toFQDNs rule matches the target or the alias name
    is not modelled, so when the two names decide differently the hop is unknown."""
    alias = call.dst.alias
    if alias is None or call.dst.kind != "External" or call.dst.unresolved is not None:
        return None
    asked = world_peer(call.dst.external_ip, f"{alias.name}.{alias.namespace}.svc.cluster.local")
    other = evaluate(call.model, call.client, "egress", asked, port, call.query.protocol)
    if other.decision is result.decision:
        return None
    detail = (
        f"{call.dst.dns_name} is reached through ExternalName Service {alias.namespace}/{alias.name}: the egress "
        f"policy decides {result.decision.value} for the CNAME target and {other.decision.value} for the name the "
        "client queried; which name Cilium's toFQDNs matches for a CNAME answer is not modelled"
    )
    call.gaps.append(detail)
    return HopResult(
        Hop.CLIENT_EGRESS, Decision.UNKNOWN, result.by + other.by, detail, Symptom.UNKNOWN, Verdict.UNKNOWN
    )


def ingress_hop(call: Call) -> HopResult:
    if call.server is None:
        return _skip(Hop.CILIUM_INGRESS, "destination outside the cluster")
    view = peer_view(call.client, call.src.label, call.server)
    peer = view.peers[0]
    port = call.wire_port
    result, unsure = evaluate_view(call, call.server, "ingress", view)
    if unsure is not None:
        return unsure
    call.ingress = result
    if call.target_port is not None and port != call.target_port:
        call.ingress_at_target = evaluate(
            call.model, call.server, "ingress", peer, call.target_port, call.query.protocol
        )
    if result.decision is Decision.DENY:
        cause = _policy_cause(call, result, "ingress", port, call.client, call.dst.label)
        return HopResult(
            Hop.CILIUM_INGRESS,
            Decision.BREAK,
            result.by,
            result.detail + drop_note(call),
            Symptom.TIMEOUT,
            Verdict.DENIED,
            (cause, *service_port_causes(call, result, call.server, "ingress", peer)),
        )
    if result.unsure:
        return HopResult(
            Hop.CILIUM_INGRESS, Decision.UNKNOWN, result.by, result.unsure, Symptom.UNKNOWN, Verdict.UNKNOWN
        )
    return _allow(Hop.CILIUM_INGRESS, result.detail, result.by)
