"""One function per hop of the call path (B24). Each names what decided it.

A hop that breaks sets the verdict and the symptom the client sees; the
orchestrator (explain.py) marks every later hop as skipped.
"""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.cilium_peers import evaluate_view, host_network_hint, service_port_causes
from kubectl_meshdoctor.diagnosis.inputs import MEMBERSHIP
from kubectl_meshdoctor.diagnosis.server_proxy import auto_mtls_unsure
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision, evaluate, selecting_rules
from kubectl_meshdoctor.engines.cilium.identity import assumed_kube_dns, peer_view
from kubectl_meshdoctor.engines.cilium.l7 import describe_rule
from kubectl_meshdoctor.engines.cilium.peers import fqdn_pattern_matches
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
from kubectl_meshdoctor.model.addresses import Unresolved
from kubectl_meshdoctor.model.objects import Peer, Pod, pod_peer, world_peer
from kubectl_meshdoctor.model.refs import pods_for_service


def _allow(hop: Hop, detail: str, by: tuple[ObjectRef, ...] = ()) -> HopResult:
    return HopResult(hop, Decision.ALLOW, by, detail)


def _skip(hop: Hop, detail: str, reads: tuple[str, ...] | None = None) -> HopResult:
    return HopResult(hop, Decision.SKIP, (), detail, reads=reads)


def resolve_hop(call: Call) -> HopResult:
    if call.dst.unresolved is not None:
        return _skip(Hop.RESOLVE, f"no Service answers {call.dst.unresolved.name} (see DNS)", reads=("Service",))
    if call.dst.kind == "External":
        return _allow(Hop.RESOLVE, f"external destination {call.dst.label}:{call.port}{_via_alias(call)}")
    svc = call.svc
    if call.port_problem:
        fix = "call a declared port (kubectl -n {ns} get svc {name} -o wide) or fix targetPort / the container port"
        cause = Cause(
            "port-mismatch",
            (svc.ref(),) if svc else (),
            {
                "why": call.port_problem,
                "fix_hint": fix.format(ns=call.dst.namespace, name=svc.name if svc else ""),
            },
        )
        symptom = Symptom.HTTP_503 if call.client_mesh is Mesh.SIDECAR else Symptom.TIMEOUT
        return HopResult(
            Hop.RESOLVE,
            Decision.BREAK,
            (svc.ref(),) if svc else (),
            call.port_problem,
            symptom,
            Verdict.BROKEN,
            (cause,),
        )
    if svc is not None and not call.servers:
        selected = pods_for_service(call.model, svc)
        why = " (its selector matches no pod)" if not selected else f" ({len(selected)} pod(s) selected, none ready)"
        cause = Cause(
            "no-endpoints",
            (svc.ref(),),
            {"service": f"{svc.namespace}/{svc.name}", "why": why, "ns": svc.namespace, "name": svc.name},
        )
        if call.client_mesh is Mesh.SIDECAR:
            symptom = Symptom.HTTP_503
        else:
            symptom = Symptom.TIMEOUT if call.model.cilium_config.service_no_backend_drop else Symptom.REFUSED
        return HopResult(
            Hop.RESOLVE,
            Decision.BREAK,
            (svc.ref(),),
            f"Service {svc.namespace}/{svc.name}{why}",
            symptom,
            Verdict.BROKEN,
            (cause,),
        )
    if svc is not None:
        detail = (
            f"Service {svc.namespace}/{svc.name} port {call.port} → targetPort {call.target_port}, "
            f"{len(call.servers)} ready endpoint(s){_via_alias(call)}"
        )
        return _allow(Hop.RESOLVE, detail, (svc.ref(),) + ((call.dst.alias.ref(),) if call.dst.alias else ()))
    return _allow(
        Hop.RESOLVE, f"direct to pod {call.server.name if call.server else '?'} port {call.port} (no Service)"
    )


def _via_alias(call: Call) -> str:
    alias = call.dst.alias
    if alias is None:
        return ""
    chain = " → ".join(call.dst.alias_chain)
    svc = f"ExternalName Service {alias.namespace}/{alias.name}"
    return f" ({svc}: the cluster DNS answers a CNAME to {chain}; nothing is proxied)"


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


def _unresolved_hop(call: Call, missing: Unresolved) -> HopResult:
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


def dns_hop(call: Call) -> HopResult:
    if call.dst.unresolved is not None:
        return _unresolved_hop(call, call.dst.unresolved)
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


def _sidecar_drop_note(call: Call) -> str:
    """B1: a sidecar client accepts the app's connection, then its own connect times out."""
    if call.client_mesh is Mesh.SIDECAR:
        return (
            " (the SYN is dropped silently; the client's sidecar answers 503 UF after its connect timeout, "
            "10 s by default, so a shorter client timeout sees 000)"
        )
    return " (the SYN is dropped silently: the client times out)"


def _drop_symptom(call: Call, direction: str) -> Symptom:
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
    call.egress = result
    if result.decision is Decision.DENY:
        cause = _policy_cause(call, result, "egress", port, call.server, call.src.label)
        return HopResult(
            Hop.CLIENT_EGRESS,
            Decision.BREAK,
            result.by,
            result.detail + ("" if call.model.cilium_config.deny_response_icmp else _sidecar_drop_note(call)),
            _drop_symptom(call, "egress"),
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


def client_proxy_hop(call: Call) -> HopResult:
    if call.client_mesh is Mesh.NONE:
        return _skip(
            Hop.CLIENT_PROXY, f"{call.src.label} is not in the mesh ({call.client_mesh_why}): plaintext", MEMBERSHIP
        )
    what = "sidecar" if call.client_mesh is Mesh.SIDECAR else "ztunnel"
    return _allow(Hop.CLIENT_PROXY, f"{what}: {call.tls.detail} (wire port {call.wire_port})", call.tls.by)


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
            result.detail + _sidecar_drop_note(call),
            Symptom.TIMEOUT,
            Verdict.DENIED,
            (cause, *service_port_causes(call, result, call.server, "ingress", peer)),
        )
    if result.unsure:
        return HopResult(
            Hop.CILIUM_INGRESS, Decision.UNKNOWN, result.by, result.unsure, Symptom.UNKNOWN, Verdict.UNKNOWN
        )
    return _allow(Hop.CILIUM_INGRESS, result.detail, result.by)


def l7_hop(call: Call) -> HopResult:
    result = call.ingress
    egress = call.egress
    redirect = (result.redirect if result else ()) + (egress.redirect if egress else ())
    if not redirect:
        return _skip(Hop.CILIUM_L7, f"no Cilium L7 rules on port {call.wire_port}")
    if not call.model.cilium_config.l7_proxy:
        return HopResult(
            Hop.CILIUM_L7,
            Decision.UNKNOWN,
            redirect,
            "L7 rules present but enable-l7-proxy is false: not enforced",
            causes=(Cause("cilium-l7-not-enforced", redirect, {"policy": redirect[0].key()}),),
        )
    payload = call.tls.payload
    unsure = auto_mtls_unsure(call)
    if unsure is not None:
        detail = f"{redirect[0].key()} redirects port {call.wire_port} to Cilium's HTTP proxy; {unsure}"
        return HopResult(Hop.CILIUM_L7, Decision.UNKNOWN, redirect, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
    if payload != "plaintext":
        sidecar = call.client_mesh is Mesh.SIDECAR
        what = {"istio-mtls": "Istio mTLS", "hbone": "HBONE (mTLS to 15008)", "tls": "TLS"}[payload]
        outcome = "the client's sidecar answers 503" if sidecar else "the call hangs until the client times out"
        fix_yaml = ""
        if call.client_mesh is Mesh.AMBIENT or call.server_mesh is Mesh.AMBIENT:
            ns = call.dst.namespace
            hint = (
                f"take the workloads out of ambient so Cilium sees HTTP: kubectl label ns {ns} "
                f"istio.io/dataplane-mode-  (and the client's namespace), or keep ambient and enforce L7 in a "
                f"waypoint (drop rules.http from the CiliumNetworkPolicy)"
            )
        else:
            ns = call.dst.namespace
            hint = (
                "let Cilium see plaintext (Istio L4 only) in "
                + ns
                + ":\n"
                + fixes.heredoc(ns, fixes.pa_yaml(ns, "default", "DISABLE"))
                + "\nor drop the rules.http block and enforce the path with an Istio AuthorizationPolicy."
            )
            fix_yaml = fixes.pa_yaml(ns, "default", "DISABLE")
        cause = Cause(
            "cilium-l7-vs-istio-mtls",
            redirect,
            {
                "server": call.dst.label,
                "port": str(call.wire_port),
                "client": call.src.label,
                "payload": what,
                "outcome": outcome,
                "fix_hint": hint,
                "fix_yaml": fix_yaml,
            },
        )
        symptom = Symptom.HTTP_503 if sidecar else Symptom.TIMEOUT
        return HopResult(
            Hop.CILIUM_L7,
            Decision.BREAK,
            redirect,
            f"{redirect[0].key()} redirects port {call.wire_port} to Cilium's HTTP proxy, but the payload is {what}",
            symptom,
            Verdict.BROKEN,
            (cause,),
        )
    # both proxies can sit in the path: the client's egress proxy first, then the server's (A1.8.6)
    outcomes = [_l7_decide(call, d) for d in (egress, result) if d is not None and d.redirect]
    return next((o for o in outcomes if o.decision is not Decision.ALLOW), outcomes[-1])


def _l7_decide(call: Call, decision: CiliumDecision) -> HopResult:
    """One proxy's HTTP verdict for this request (A1.9)."""
    redirect = decision.redirect
    if decision.l7_kind != "http" and decision.allow_all_by is not None:
        moot = decision.allow_all_by.key()
        return _allow(
            Hop.CILIUM_L7,
            f"{moot} allows this peer at L3/L4: the proxy's {decision.l7_kind} rules are moot",
            (decision.allow_all_by,),
        )
    if decision.l7_kind != "http":
        # sound or unknown: the proxy enforces rules meshdoctor does not evaluate (kafka, l7proto, dns)
        detail = f"{decision.l7_kind} rules on this port (not HTTP) are enforced by Cilium's proxy: not evaluated"
        return HopResult(Hop.CILIUM_L7, Decision.UNKNOWN, redirect, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
    q = call.query
    host = call.request.headers.get("host") or _authority(call)  # the :authority Cilium's Envoy matches
    l7 = decision.l7_for(q.method, q.path, host, call.request.headers)
    if l7.allowed:
        if l7.allow_all_by is not None:
            return _allow(
                Hop.CILIUM_L7,
                f"{l7.allow_all_by.key()} allows this peer at L3/L4 without HTTP rules: the proxy allows every request",
                (l7.allow_all_by,),
            )
        if not l7.rules:  # redirected for other peers; no HTTP rule applies to this one
            return _allow(
                Hop.CILIUM_L7, "no HTTP rule on this port applies to this peer: the proxy passes it", redirect
            )
        return _allow(Hop.CILIUM_L7, f"HTTP rule {describe_rule(l7.rules[0])} matches {_request_text(call)}", l7.by)
    if l7.unknown:
        return HopResult(Hop.CILIUM_L7, Decision.UNKNOWN, l7.by, l7.unknown, Symptom.UNKNOWN, Verdict.UNKNOWN)
    rules = ", ".join(describe_rule(r) for r in l7.rules)
    ref = l7.by[0]
    why = f"{ref.key()} allows only {rules}; {_request_text(call)} matches none (paths are whole-path regexes)"
    if not l7.rules:
        why = (
            f"{ref.key()} puts port {call.wire_port} behind Cilium's HTTP proxy and no HTTP rule names "
            f"{call.src.label}: L7 rules ignore enableDefaultDeny: false, so the proxy denies its requests"
        )
    cause = Cause(
        "cilium-l7-denied",
        l7.by,
        {
            "server": call.dst.label,
            "port": str(call.wire_port),
            "method": q.method,
            "path": q.path,
            "rule": ref.rule or "rules.http",
            "policy_kind": ref.kind,
            "policy": f"{ref.namespace}/{ref.name}",
            "fix_yaml": fixes.allow_cnp_yaml(
                call.server, call.client, "ingress", call.wire_port, q.protocol, (q.method, q.path)
            )
            if call.server is not None
            else "",
        },
    )
    return HopResult(
        Hop.CILIUM_L7,
        Decision.DENY,
        l7.by,
        why,
        Symptom.HTTP_403,
        Verdict.DENIED,
        (cause,),
    )


def _authority(call: Call) -> str | None:
    """The Host a client like curl sends: the name it dials, with ``:port`` unless the port is 80.
    --host is taken as the exact header."""
    host = call.request.host
    if host is None or call.query.host is not None or call.port == 80 or host.endswith("]") or ":" in host:
        return host
    return f"{host}:{call.port}"


def _request_text(call: Call) -> str:
    """The request as the L7 rules see it: method, path and the headers given with -H."""
    q = call.query
    shown = "".join(f" {k}: {v}" for k, v in call.request.headers.items())
    return f"{q.method} {q.path}" + (f" [{shown.strip()}]" if shown else "")


def server_proxy_hop(call: Call) -> HopResult:
    from kubectl_meshdoctor.diagnosis.server_proxy import server_proxy

    return server_proxy(call)


def app_hop(call: Call) -> HopResult:
    """Container ports are informational in Kubernetes: a process may listen on a port its container
    does not declare, so an undeclared numeric port is a note, never a certain break. (A named
    targetPort no container declares is a break, decided when the call is resolved.)"""
    server = call.server
    if server is None or call.target_port is None:
        return _skip(Hop.APP, "no server pod to check")
    declared = [p for p in server.ports if p.protocol == call.query.protocol]
    if not declared or any(p.port == call.target_port for p in declared):
        note = "declared by the container" if declared else "not declared (listening not verified)"
        return _allow(Hop.APP, f"port {call.target_port} {note}", (server.ref(),))
    listed = ", ".join(str(p.port) for p in declared)
    note = (
        f"port {call.target_port} is not among the container ports pod {server.name} declares ({listed}); "
        "container ports are informational, so the app may still listen there (not verified)"
    )
    return _allow(Hop.APP, note, (server.ref(),))
