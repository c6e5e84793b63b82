"""Where a pod's connection to an outside host leaves the cluster (issue 20 §5; semantics-gateways.md
E3, GB21): a CiliumEgressGatewayPolicy that selects the pod and covers the destination sends it through
a gateway node, SNATed to the egress IP; a gateway no node can serve drops it (NO_EGRESS_GATEWAY).

What cannot be seen offline stays unknown: which IP a name resolves to (when the policy covers only
some CIDRs), whether an egressIP or interface is configured on the gateway node (Node status does not
list secondary addresses; Cilium drops with DROP_NO_EGRESS_IP when it is not), and which of several
gateways or policies Cilium picks when their outcomes differ.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.call import Call
from kubectl_meshdoctor.findings.types import Cause, Decision, Gap, ObjectRef
from kubectl_meshdoctor.model.egress_gateway import KIND, EgressGatewayPolicy, GatewaySpec, NodeInfo, PodSelection
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class EgressExit:
    decision: Decision  # ALLOW, BREAK (dropped) or UNKNOWN
    detail: str  # says which source IP the outside server sees
    by: tuple[ObjectRef, ...] = ()
    cause: Cause | None = None
    source_ip: str | None = None  # the egress IP, when it is known


@dataclass(frozen=True, slots=True)
class GatewayState:
    state: str  # "ok" | "unusable" | "unknown" | "ignored"
    text: str  # the source IP ("ok"), or why
    refs: tuple[ObjectRef, ...] = ()
    ip: str | None = None
    drop: str = ""  # Hubble drop reason when unusable
    label: str = ""  # the node label the gateway's nodeSelector asks for (the fix)


def _tri(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _selects(model: Model, sel: PodSelection, pod: Pod) -> bool | None:
    nodes = model.egress.nodes
    parts: list[bool | None] = []
    if sel.pods is not None:
        parts.append(sel.pods.matches(pod.identity))
    if sel.namespaces is not None:
        parts.append(sel.namespaces.matches(model.ns_labels(pod.namespace)))
    if sel.nodes is not None:
        node = nodes.get(pod.node or "")
        parts.append(sel.nodes.matches(node.labels) if node is not None else None)
    return _tri(parts)


def policy_selects(model: Model, policy: EgressGatewayPolicy, pod: Pod) -> bool | None:
    found = [_selects(model, s, pod) for s in policy.selections]
    if any(v is True for v in found):
        return True
    return None if any(v is None for v in found) else False


def _in(ip: str, cidrs: tuple[str, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
        return any(addr in ipaddress.ip_network(c, strict=False) for c in cidrs)
    except ValueError:
        return False


def covers(policy: EgressGatewayPolicy, ip: str | None) -> bool | None:
    """Is the destination in destinationCIDRs and outside excludedCIDRs? None: no IP to tell."""
    if ip is not None:
        return _in(ip, policy.destination_cidrs) and not _in(ip, policy.excluded_cidrs)
    everything = any(c in ("0.0.0.0/0", "::/0") for c in policy.destination_cidrs)
    return True if everything and not policy.excluded_cidrs else None


def gateway_state(model: Model, gw: GatewaySpec, ref: ObjectRef) -> GatewayState:
    at = ref.with_rule(gw.path)
    if gw.egress_ip and gw.interface:
        why = f"{at.key()} sets both egressIP and interface, so Cilium ignores the policy"
        return GatewayState("ignored", why, (at,))
    if not model.egress.nodes_read:
        return GatewayState("unknown", f"no Node objects are in this view: which node {at.key()} selects is not known")
    nodes: list[NodeInfo] = []
    if gw.node_selector is not None:
        nodes = [n for n in model.egress.nodes.values() if gw.node_selector.matches(n.labels)]
    if not nodes:
        sel = gw.node_selector.describe() if gw.node_selector is not None else "no nodeSelector"
        why = f"{at.key()} nodeSelector ({sel}) matches no node, so there is no gateway"
        label = sel if gw.node_selector is not None and "," not in sel and "=" in sel else ""
        return GatewayState("unusable", why, (at.with_rule(f"{gw.path}.nodeSelector"),), "", "NO_EGRESS_GATEWAY", label)
    names = ", ".join(sorted(n.name for n in nodes))
    refs = (at, *(n.ref for n in nodes))
    if gw.egress_ip:
        if all(gw.egress_ip in n.addresses for n in nodes):
            return GatewayState("ok", f"{gw.egress_ip} (egressIP, on gateway node {names})", refs, gw.egress_ip)
        why = (
            f"whether egressIP {gw.egress_ip} is configured on gateway node {names} is not visible (the Node status "
            "does not list it); if it is not, Cilium drops the traffic (DROP_NO_EGRESS_IP)"
        )
        return GatewayState("unknown", why, refs)
    if gw.interface:
        why = (
            f"which IPv4 address interface {gw.interface} carries on gateway node {names} is not visible; without "
            "one Cilium drops the traffic (DROP_NO_EGRESS_IP)"
        )
        return GatewayState("unknown", why, refs)
    internal = sorted({a for n in nodes for a in n.addresses[:1]})
    text = f"the address of the default-route interface of gateway node {names}" + (
        f" (typically {', '.join(internal)})" if internal else ""
    )
    return GatewayState("ok", text, refs)


def _unread(call: Call) -> str | None:
    """A gap that hides these kinds (a 403 or a cut list; a 404 means the CRD is not installed)."""
    for gap in call.model.gaps + call.gaps:
        if isinstance(gap, Gap) and gap.kinds & {KIND, "Node"} and "(404)" not in str(gap):
            return str(gap)
    return None


_FEATURE_KEYS = ("enable-ipv4-egress-gateway", "enable-egress-gateway")  # the older and the newer name


def feature_off(model: Model) -> bool:
    """cilium-config is read and turns the egress gateway feature on under neither name (default off)."""
    cfg = model.cilium_config
    return cfg.present and all(cfg.get(k, "false").strip().lower() != "true" for k in _FEATURE_KEYS)


def exit_for(call: Call, pod: Pod, ip: str | None, host: str) -> EgressExit | None:
    """How ``pod``'s connection to ``host`` (``ip`` when known) leaves the cluster; None when no policy
    can concern it (nothing to say)."""
    unread = _unread(call)
    policies = call.model.egress.policies
    if pod.host_network or (not policies and unread is None):
        return None
    if unread is not None:
        return EgressExit(Decision.UNKNOWN, f"egress gateway policies cannot be evaluated: {unread}")
    node_ip = f"the IP of its node {pod.node or '?'} (masqueraded) "
    if feature_off(call.model):
        refs = (call.model.cilium_config.ref,) if call.model.cilium_config.ref else ()
        return EgressExit(
            Decision.ALLOW,
            f"cilium-config does not enable the egress gateway ({' / '.join(_FEATURE_KEYS)}): no {KIND} "
            f"applies; {node_ip}",
            refs,
        )
    applying: list[tuple[EgressGatewayPolicy, bool | None, bool | None]] = []
    for policy in sorted(policies, key=lambda p: p.ref.name):
        selects, covered = policy_selects(call.model, policy, pod), covers(policy, ip)
        if selects is not False and covered is not False:
            applying.append((policy, selects, covered))
    who = f"{pod.namespace}/{pod.workload_name or pod.name}"
    if not applying:
        return EgressExit(Decision.ALLOW, f"no {KIND} selects {who} for {host}: the server sees {node_ip}".rstrip())
    outcomes = [(p, s, c, states(call.model, p)) for p, s, c in applying]
    if len(outcomes) > 1:
        names = ", ".join(p.ref.name for p, *_ in outcomes)
        if all(g.state == "ok" for *_, gws in outcomes for g in gws) and all(s and c for _, s, c, _ in outcomes):
            ips = ", ".join(dict.fromkeys(g.text for *_, gws in outcomes for g in gws))
            return EgressExit(Decision.ALLOW, f"{KIND}s {names} select {who} for {host}: the server sees one of {ips}")
        why = f"several {KIND}s ({names}) may apply to {who} → {host}; which one Cilium uses is not modelled"
        return EgressExit(Decision.UNKNOWN, why, tuple(p.ref for p, *_ in outcomes))
    policy, selects, covered = outcomes[0][:3]
    return _one(policy, selects, covered, outcomes[0][3], who, host, ip, node_ip)


def states(model: Model, policy: EgressGatewayPolicy) -> list[GatewayState]:
    """The state of each gateway the policy names (none named: unusable)."""
    return [gateway_state(model, g, policy.ref) for g in policy.gateways] or [no_gateway(policy)]


def no_gateway(policy: EgressGatewayPolicy) -> GatewayState:
    why = f"{policy.ref.key()} names no egressGateway"
    return GatewayState("unusable", why, (policy.ref,), drop="NO_EGRESS_GATEWAY")


def _one(
    policy: EgressGatewayPolicy,
    selects: bool | None,
    covers: bool | None,
    gws: list[GatewayState],
    who: str,
    host: str,
    ip: str | None,
    node_ip: str,
) -> EgressExit:
    ref = policy.ref
    refs = tuple(dict.fromkeys(r for g in gws for r in g.refs)) or (ref,)
    cidrs = ", ".join(policy.destination_cidrs)
    cond = ""
    if selects is None:
        cond += f"if {ref.key()} selects {who} (it depends on node labels not in this view) "
    if covers is None:
        cond += f"if {host} resolves inside {cidrs}" + (
            f" (excluding {', '.join(policy.excluded_cidrs)})" if policy.excluded_cidrs else ""
        )
    states = {g.state for g in gws}
    if states == {"ignored"}:
        return EgressExit(Decision.ALLOW, f"{gws[0].text}: the server sees {node_ip}".rstrip(), refs)
    if states == {"ok"}:
        texts = " or ".join(dict.fromkeys(g.text for g in gws))
        lead = f"{ref.key()} sends {who} → {host} through its gateway: the server sees source IP {texts}"
        if cond:
            lead = f"{cond.strip()}, {ref.key()} sends it through its gateway (source IP {texts}); otherwise {node_ip}"
        source = gws[0].ip if len(gws) == 1 and not cond else None
        return EgressExit(Decision.ALLOW, lead.rstrip(), refs, source_ip=source)
    bad = next((g for g in gws if g.state == "unusable"), None)
    if bad is not None and states == {"unusable"} and not cond:
        detail = f"{ref.key()} selects {who} for {host}, but {bad.text}: Cilium drops the connection ({bad.drop})"
        cause = unusable_cause(policy, bad, refs, who, host, detail)
        return EgressExit(Decision.BREAK, detail, refs, cause)
    why = "; ".join(dict.fromkeys(g.text for g in gws if g.state != "ok"))
    detail = f"{cond.strip() + ', ' if cond else ''}{ref.key()} would send {who} → {host} through a gateway: {why}"
    if ip is None and covers is None and bad is not None:
        detail += " (it is dropped if so)"
    return EgressExit(Decision.UNKNOWN, detail, refs)


def unusable_cause(
    policy: EgressGatewayPolicy, bad: GatewayState, refs: tuple[ObjectRef, ...], who: str, host: str, detail: str = ""
) -> Cause:
    """cilium-egress-gateway-unusable (explain and check say it alike)."""
    params = {
        "policy": policy.ref.name,
        "client": who,
        "host": host,
        "why": bad.text,
        "drop": bad.drop,
        "cidrs": ", ".join(policy.destination_cidrs),
        "label": bad.label or "KEY=VALUE",
    }
    return Cause("cilium-egress-gateway-unusable", refs, params, detail=detail)
