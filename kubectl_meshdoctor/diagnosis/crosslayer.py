"""Cross-layer rules that are not one hop: socket-LB, cni-exclusive, overlay + istiod,
split brain, ambient traps, audit mode, empty rules (B19-B22, A1.8, A1.11, C1)."""

from __future__ import annotations

from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.diagnosis.call import HBONE_PORT, Call
from kubectl_meshdoctor.engines.istio_authz import applicable, has_l7
from kubectl_meshdoctor.findings.types import Cause, Mesh, ObjectRef, Verdict
from kubectl_meshdoctor.model.view import Model


def _cfg_ref(model: Model) -> tuple[ObjectRef, ...]:
    ref = model.cilium_config.ref
    return (ref,) if ref else ()


def config_causes(model: Model, meshes: set[Mesh]) -> list[Cause]:
    """A7 sanity for the workloads on this call (also used by `check`)."""
    cfg = model.cilium_config
    out: list[Cause] = []
    if not cfg.present:
        return out
    on, why = cfg.socket_lb
    if on and not cfg.socket_lb_hostns_only and meshes - {Mesh.NONE}:
        out.append(Cause("cilium-socketlb-bypass", _cfg_ref(model), {"why": why}))
    istio_cni = [name for name in model.daemonsets if name.endswith(("/istio-cni-node", "/ztunnel"))]
    if cfg.cni_exclusive and (istio_cni or Mesh.AMBIENT in meshes):
        out.append(Cause("cilium-cni-exclusive", _cfg_ref(model), {"istio_cni": ", ".join(istio_cni) or "ambient"}))
    tunnel = cfg.tunnel
    cache = model.config_cache  # the same for every call: triage and matrix explain many on one model
    if "istiod" not in cache:
        cache["istiod"] = [
            w for (_, name), w in model.workloads.items() if name == "istiod" or name.startswith("istiod-")
        ]
        cache["auto_inject"] = any(
            ns.labels.get("istio-injection") == "enabled" or "istio.io/rev" in ns.labels
            for ns in model.namespaces.values()
        )
    istiod, auto_inject = cache["istiod"], cache["auto_inject"]
    if tunnel and istiod and auto_inject and not all(w.host_network for w in istiod):
        refs = _cfg_ref(model) + tuple(w.ref() for w in istiod)
        out.append(Cause("istiod-hostnetwork-overlay", refs, {"tunnel": tunnel}))
    return out


def call_causes(call: Call, verdict: Verdict, with_config: bool = True) -> list[Cause]:
    """``with_config=False``: `check` judges cilium-config once for the cluster, not per call."""
    model = call.model
    out = config_causes(model, {call.client_mesh, call.server_mesh}) if with_config else []
    server = call.server
    ingress = call.ingress_at_target or call.ingress
    # B22: Cilium L7 rules and Istio L7 authz on the same workload
    if server is not None and ingress is not None and ingress.redirect and call.server_mesh is not Mesh.NONE:
        l7_aps = [ap for ap in applicable(model, server) if has_l7(ap)]
        if l7_aps:
            out.append(
                Cause(
                    "l7-split-brain",
                    ingress.redirect[:1] + tuple(ap.ref for ap in l7_aps),
                    {
                        "cilium": ingress.redirect[0].key(),
                        "istio": ", ".join(f"{a.ref.namespace}/{a.ref.name}" for a in l7_aps),
                        "server": call.dst.label,
                    },
                )
            )
    # C1.3: L7 rules on the app port never see ambient (HBONE) traffic
    if (
        call.wire_port == HBONE_PORT
        and call.ingress_at_target is not None
        and call.ingress_at_target.redirect
        and not (call.ingress and call.ingress.redirect)
    ):
        ref = call.ingress_at_target.redirect[0]
        out.append(
            Cause(
                "cilium-l7-unreachable-ambient",
                (ref,),
                {
                    "policy": ref.key(),
                    "port": str(call.target_port),
                    "server": call.dst.label,
                    "server_ns": call.dst.namespace,
                },
            )
        )
    # A3/C1: PeerAuthentication DISABLE consequences
    pa = call.pa
    if pa is not None and pa.mode == "DISABLE" and pa.by:
        ref = pa.by[0]
        params = {"pa": f"{ref.namespace}/{ref.name}", "server": call.dst.label, "ns": call.dst.namespace}
        if call.server_mesh is Mesh.AMBIENT:
            out.append(Cause("ambient-pa-disable-ignored", pa.by, params))
        elif verdict is Verdict.ALLOWED:
            out.append(Cause("istio-mtls-disabled", pa.by, params))
    # A1.11 audit mode, A1.8 empty rules
    for decision in (call.egress, call.ingress):
        if decision is None:
            continue
        if decision.audit:
            out.append(Cause("cilium-policy-audit", decision.by, {"would": "would drop this call"}))
        for ref in decision.empty_entries:
            out.append(
                Cause(
                    "empty-rule-semantics",
                    (ref,),
                    {"policy": f"{ref.kind} {ref.namespace}/{ref.name}", "rule": ref.rule or ""},
                )
            )
    # B16: ambient server under default deny without the probe allowance
    if (
        server is not None
        and call.server_mesh is Mesh.AMBIENT
        and not call.servers
        and call.svc is not None
        and server.probe_ports
    ):
        from kubectl_meshdoctor.engines.cilium.decide import evaluate
        from kubectl_meshdoctor.model.objects import world_peer

        probe = evaluate(model, server, "ingress", world_peer("169.254.7.127"), call.target_port or call.port, "TCP")
        if probe.enforced and probe.decision.value == "deny":
            out.append(
                Cause(
                    "ambient-probe-snat-blocked",
                    probe.by,
                    {
                        "server": call.dst.label,
                        "policy": ", ".join(f"{r.namespace}/{r.name}" for r in probe.by),
                        "yaml": fixes.heredoc(None, fixes.probe_ccnp_yaml()),
                        "fix_yaml": fixes.probe_ccnp_yaml(),
                    },
                )
            )
    return out
