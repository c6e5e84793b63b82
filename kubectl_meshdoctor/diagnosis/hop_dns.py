"""The DNS hop (B24 step 2): can the client ask kube-dns for the name it dials? (Cilium egress on
the kube-dns port, DNS L7 rules, and the name itself.)"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.hop_base import allow_result as _allow
from kubectl_meshdoctor.diagnosis.hop_base import skip_result as _skip
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate
from kubectl_meshdoctor.engines.cilium.identity import assumed_kube_dns
from kubectl_meshdoctor.engines.cilium.peers import fqdn_pattern_matches
from kubectl_meshdoctor.findings.types import (
    Cause,
    Decision,
    Hop,
    HopResult,
    ObjectRef,
    Symptom,
    Verdict,
)
from kubectl_meshdoctor.model.addresses import Unresolved
from kubectl_meshdoctor.model.objects import Peer, Pod, pod_peer
from kubectl_meshdoctor.model.refs import pods_for_service


def unresolved_hop(call: Call, missing: Unresolved) -> HopResult:
    """A name no Service answers: kube-dns says NXDOMAIN, the client never connects (dns-failure)."""
    hint = f"; did you mean {', '.join(missing.suggestions)}?" if missing.suggestions else ""
    cause = Cause(
        "dns-name-unknown",
        (),
        {
            "name": missing.name,
            "suggestion": hint,
            "closest": ", ".join(missing.suggestions) or "kubectl get svc -A",
        },
        detail=f"{missing.name}: {missing.why}{hint}",
    )
    if missing.certain:
        detail = f"{missing.name} does not resolve: {missing.why}{hint}"
        return HopResult(Hop.DNS, Decision.BREAK, (), detail, Symptom.DNS_FAILURE, Verdict.BROKEN, (cause,))
    detail = f"{missing.name} is not a name of this cluster ({missing.why}){hint} [uncertain]"
    return HopResult(Hop.DNS, Decision.UNKNOWN, (), detail, Symptom.UNKNOWN, Verdict.UNKNOWN, (cause,))


def _kube_dns(call: Call) -> tuple[Peer, Pod | None]:
    m = call.model
    svc = m.services.get("kube-system/kube-dns")
    pods = (
        pods_for_service(m, svc)
        if svc
        else [p for p in m.pods_by_ns.get("kube-system", []) if p.labels.get("k8s-app") == "kube-dns"]
    )
    if pods:
        return pod_peer(pods[0], "kube-system/kube-dns"), pods[0]
    return assumed_kube_dns(m), None


def dns_hop(call: Call) -> HopResult:
    if call.dst.unresolved is not None:
        return unresolved_hop(call, call.dst.unresolved)
    if not call.dst.dns_name:
        return _skip(Hop.DNS, "the client dials an IP: no name to resolve", reads=())
    peer, _ = _kube_dns(call)
    result = evaluate(call.model, call.client, "egress", peer, 53, "UDP")
    if result.decision is Decision.DENY:
        policy = result.by[0] if result.by else ObjectRef("CiliumNetworkPolicy", call.client.namespace, "?")
        cause = Cause(
            "dns-egress-blocked",
            (policy,),
            {
                "policy_kind": policy.kind,
                "policy": f"{policy.namespace}/{policy.name}" if policy.namespace else policy.name,
                "client": call.src.label,
                "host": call.dst.dns_name or "",
                "fix_yaml": fixes.dns_cnp_yaml(call.client),
                "yaml": fixes.edit_cmd(policy)
                + "   # add under the egress rules:\n"
                + fixes.indent(fixes.dns_egress_yaml(), 2),
            },
        )
        return HopResult(
            Hop.DNS,
            Decision.BREAK,
            result.by,
            f"{result.detail} (kube-dns, UDP/53)",
            Symptom.DNS_FAILURE,
            Verdict.DENIED,
            (cause,),
        )
    refused = _dns_refused(call, result)
    if refused is not None:
        return refused
    return _allow(
        Hop.DNS,
        f"{call.dst.dns_name}: {result.detail if result.enforced else 'no egress policy restricts DNS'}",
        result.by,
    )


def _dns_refused(call: Call, result: CiliumDecision) -> HopResult | None:
    """A1.9 / B15: DNS rules on the kube-dns port put Cilium's DNS proxy in the path; a query no
    matchName/matchPattern admits is answered REFUSED (curl exit 6)."""
    if result.l7_kind != "dns" or result.allow_all_by is not None or not result.dns_rules:
        return None
    svc = call.dst.alias or call.svc  # the client queries the alias; the CNAME chain comes in the answer
    name = (
        f"{svc.name}.{svc.namespace}.svc.cluster.local"
        if svc is not None and (call.dst.kind != "External" or call.dst.alias is not None)
        else (call.dst.dns_name or "")
    )
    if not name or any(fqdn_pattern_matches(value, name) for _, (_, value) in result.dns_rules):
        return None
    refs = tuple(dict.fromkeys(ref for ref, _ in result.dns_rules))
    allowed = ", ".join(f"{kind}: {value}" for _, (kind, value) in result.dns_rules)
    detail = (
        f"{refs[0].key()} sends DNS through Cilium's DNS proxy and allows only {allowed}; the query for "
        f"{name} is answered REFUSED"
    )
    policy = refs[0]
    cause = Cause(
        "dns-egress-blocked",
        refs,
        {
            "policy_kind": policy.kind,
            "policy": f"{policy.namespace}/{policy.name}" if policy.namespace else policy.name,
            "client": call.src.label,
            "host": name,
            "fix_yaml": "",
            "yaml": f'{fixes.edit_cmd(policy)}   # in {policy.rule}: add {{matchName: {name}}} (or matchPattern: "*")',
        },
        detail=detail,
    )
    return HopResult(Hop.DNS, Decision.BREAK, refs, detail, Symptom.DNS_FAILURE, Verdict.DENIED, (cause,))
