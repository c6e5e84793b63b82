"""The Cilium L7 hop (B24 step 7a): the HTTP rules of Cilium's Envoy proxy on the server's port,
against the request as it arrives (plaintext, or Istio mTLS the proxy cannot read)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.diagnosis.hop_base import allow_result as _allow
from kubectl_meshdoctor.diagnosis.hop_base import skip_result as _skip
from kubectl_meshdoctor.diagnosis.server_proxy import auto_mtls_unsure
from kubectl_meshdoctor.engines.cilium.decide import CiliumDecision
from kubectl_meshdoctor.engines.cilium.l7 import describe_rule
from kubectl_meshdoctor.findings.types import (
    Cause,
    Decision,
    Hop,
    HopResult,
    Mesh,
    Symptom,
    Verdict,
)


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
        outcome = "the call hangs until the client times out"
        if sidecar:
            outcome = "the client's sidecar answers 503" if call.http else "the client's connection is reset"
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
    if not call.http and any(d is not None and d.redirect and d.l7_kind == "http" for d in (egress, result)):
        # A1.9: the proxy parses the stream as HTTP; like TLS, a non-HTTP payload is not parseable there
        detail = (
            f"{redirect[0].key()} redirects port {call.wire_port} to Cilium's HTTP proxy, which parses every "
            f"connection as HTTP; the payload asked about is plain TCP ({call.app_protocol[1]}), which it is "
            "expected to refuse [uncertain]; ask with --app-protocol http, --method or --path for an HTTP request"
        )
        return HopResult(Hop.CILIUM_L7, Decision.UNKNOWN, redirect, detail, Symptom.UNKNOWN, Verdict.UNKNOWN)
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
