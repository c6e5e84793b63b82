"""AuthorizationPolicy keyed on what cannot tell a caller of another cluster apart (semantics-multicluster.md
I6, I7, MB16).

* Through an east-west gateway (multi-network sidecar), the mTLS session is end to end but the TCP
  connection the server sidecar accepts comes from the gateway pod, so ``ipBlocks``,
  ``remoteIpBlocks`` and ``source.ip`` likely see the gateway's address, not the client's ([I]): a
  denial that the client's own address would have passed is ``istio-authz-denied`` with the detail
  ``istio-mc-authz-gateway-ip``, worded as likely.
* With one trust domain in both clusters, the same principal (and namespace) is presented by callers
  of every cluster ([S] I6): an ALLOW rule keyed on ``principals``/``namespaces`` that admits a caller of
  another cluster cannot restrict by cluster — a warning, since it may be intended.
"""

from __future__ import annotations

from dataclasses import replace

from kubectl_meshdoctor.engines.istio_authz import AuthzResult, Conn
from kubectl_meshdoctor.engines.istio_authz import evaluate as authz
from kubectl_meshdoctor.findings.types import Cause, Decision, Diagnosis, Hop
from kubectl_meshdoctor.model.clusters import Cluster
from kubectl_meshdoctor.model.istio import AuthorizationPolicy
from kubectl_meshdoctor.model.objects import Pod

DETAIL = "istio-mc-authz-gateway-ip"


def trust_domain(cluster: Cluster) -> str:
    return cluster.istio.get("trustDomain") or cluster.model.istio.mesh.trust_domain


def gateway_ip_cause(
    server: Cluster, server_pod: Pod, conn: Conn, denied: AuthzResult, client_pod: Pod, gateway: Pod, client: Cluster
) -> Cause | None:
    """MB16: the denial is only because the rules see the gateway's address; None if the client's own
    address would be denied as well (then it is an ordinary denial)."""
    if not client_pod.ip or gateway.ip == client_pod.ip:
        return None
    direct = authz(server.model, server_pod, replace(conn, source_ip=client_pod.ip), False)
    if direct.decision is not Decision.ALLOW:
        return None
    reason = (
        f"{denied.detail}: its ipBlocks / remoteIpBlocks / source.ip likely see the east-west gateway "
        f"{gateway.namespace}/{gateway.name}@{server.name} ({gateway.ip}), not the client "
        f"{client_pod.namespace}/{client_pod.name}@{client.name} ({client_pod.ip}) — through the gateway the mTLS "
        f"session is end to end but the TCP connection is the gateway's (inferred, not confirmed on a cluster; "
        f"{DETAIL})"
    )
    hint = (
        f'key the rule on the caller\'s identity instead of its address: principals: ["{conn.principal}"] or '
        f'namespaces: ["{conn.namespace}"]; to tell clusters apart, give them distinct trust domains'
    )
    return Cause("istio-authz-denied", denied.by, {"reason": reason, "fix_hint": hint, "cluster": server.name})


def _identity_keys(policy: AuthorizationPolicy, shared_domain: bool) -> list[str]:
    """The fields of the policy's sources that match a caller of any cluster alike: namespaces and
    serviceAccounts name no trust domain; principals carry it, so only with a shared one."""
    found: list[str] = []
    for rule in policy.rules:
        for s in rule.sources or ():
            if s.namespaces is not None:
                found.append("namespaces")
            if s.service_accounts is not None:
                found.append("serviceAccounts")
            if s.principals is not None and shared_domain:
                found.append("principals")
    return list(dict.fromkeys(found))


def shared_identity_note(d: Diagnosis, client: Cluster, server: Cluster) -> str | None:
    """MB16 (unexpected allow): the server sidecar admitted a caller of another cluster by an identity
    rule that callers of every cluster match alike."""
    if client is server:
        return None
    hop = next((h for h in d.hops if h.hop is Hop.SERVER_PROXY and h.decision is Decision.ALLOW), None)
    if hop is None:
        return None
    domain = trust_domain(client)
    shared = domain == trust_domain(server)
    held = {p.ref.key_tuple(): p for p in server.model.istio.authz}
    named: dict[str, list[str]] = {}
    for ref in hop.by:
        policy = held.get(ref.key_tuple())
        if policy is not None and policy.action == "ALLOW":
            keys = _identity_keys(policy, shared)
            if keys:
                named[f"{ref.kind} {ref.namespace}/{ref.name}"] = keys
    if not named:
        return None
    which = "; ".join(f"{name} ({', '.join(keys)})" for name, keys in named.items())
    why = (
        f"{client.name} and {server.name} share the trust domain {domain}, so"
        if shared
        else "namespaces and service accounts name no trust domain, so"
    )
    return (
        f"{which} in {server.name} admits this caller of {client.name} by identity; {why} the same identity from any "
        f"cluster of the mesh matches alike: it cannot restrict callers by cluster (MB16; use principals with "
        f"distinct trust domains, or Cilium policies with io.cilium.k8s.policy.cluster on one network)"
    )
