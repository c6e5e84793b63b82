"""Cross-layer findings that need no pair: split brain, ambient probes, PA DISABLE in
ambient, identity-based authz on plaintext workloads (B13, B16, B22, A3)."""

from __future__ import annotations

from kubectl_meshdoctor.checks.base import Check
from kubectl_meshdoctor.checks.pairs import representatives
from kubectl_meshdoctor.diagnosis import fixes
from kubectl_meshdoctor.engines.cilium.decide import evaluate, selecting_rules
from kubectl_meshdoctor.engines.istio_authz import applicable, has_l7, uses_identity
from kubectl_meshdoctor.engines.istio_mtls import effective_pa
from kubectl_meshdoctor.findings.types import Cause, Decision, Mesh, ObjectRef
from kubectl_meshdoctor.model.objects import Pod, world_peer
from kubectl_meshdoctor.model.view import Model


def _groups(model: Model) -> list[Pod]:
    """One representative pod per workload."""
    return representatives(model)


def _l7_refs(model: Model, pod: Pod) -> list[ObjectRef]:
    refs = []
    for rule in selecting_rules(model, pod):
        for entry in rule.ingress:
            for pr in entry.to_ports:
                if pr.l7 == "http":
                    refs.append(rule.policy.with_rule(f"{entry.path}.{pr.path}.rules.http"))
    return refs


def _split_brain(model: Model) -> list[Cause]:
    out = []
    for pod in _groups(model):
        if model.pod_mesh(pod)[0] is Mesh.NONE:
            continue
        cilium = _l7_refs(model, pod)
        istio = [ap for ap in applicable(model, pod) if has_l7(ap)] if cilium else []
        if cilium and istio:
            out.append(
                Cause(
                    "l7-split-brain",
                    (cilium[0], *(ap.ref for ap in istio)),
                    {
                        "cilium": cilium[0].key(),
                        "istio": ", ".join(f"{a.ref.namespace}/{a.ref.name}" for a in istio),
                        "server": f"{pod.namespace}/{pod.workload_name}",
                    },
                )
            )
    return out


def _ambient_probes(model: Model) -> list[Cause]:
    out = []
    for pod in _groups(model):
        if model.pod_mesh(pod)[0] is not Mesh.AMBIENT or not pod.probe_ports:
            continue
        first = pod.probe_ports[0]
        port = first if isinstance(first, int) else (pod.named_port(first) or 0)
        probe = evaluate(model, pod, "ingress", world_peer("169.254.7.127"), port, "TCP")
        if probe.enforced and probe.decision is Decision.DENY:
            out.append(
                Cause(
                    "ambient-probe-snat-blocked",
                    probe.by,
                    {
                        "server": f"{pod.namespace}/{pod.workload_name}",
                        "policy": ", ".join(f"{r.namespace}/{r.name}" for r in probe.by),
                        "yaml": fixes.heredoc(None, fixes.probe_ccnp_yaml()),
                        "fix_yaml": fixes.probe_ccnp_yaml(),
                    },
                )
            )
    return out


def _pa_disable_ambient(model: Model) -> list[Cause]:
    out: list[Cause] = []
    flagged: set[str] = set()
    for pod in _groups(model):
        if model.pod_mesh(pod)[0] is not Mesh.AMBIENT:
            continue
        pa = effective_pa(model, pod, None)
        if pa.mode == "DISABLE" and pa.by and pa.by[0].key() not in flagged:
            flagged.add(pa.by[0].key())
            ref = pa.by[0]
            out.append(
                Cause(
                    "ambient-pa-disable-ignored",
                    pa.by,
                    {
                        "pa": f"{ref.namespace}/{ref.name}",
                        "server": f"{pod.namespace}/{pod.workload_name}",
                        "ns": pod.namespace,
                    },
                )
            )
    return out


def _authz_needs_mtls(model: Model) -> list[Cause]:
    out = []
    ap_namespaces = {ap.ref.namespace for ap in model.istio.authz}
    everywhere = model.istio.mesh.root_namespace in ap_namespaces
    for pod in _groups(model):
        if pod.namespace not in ap_namespaces and not everywhere:
            continue  # no AuthorizationPolicy can apply (pre-filter; the engine decides below)
        mesh = model.pod_mesh(pod)[0]
        plaintext = mesh is Mesh.NONE or (mesh is Mesh.SIDECAR and effective_pa(model, pod, None).mode == "DISABLE")
        if not plaintext:
            continue
        why = "workload outside the mesh" if mesh is Mesh.NONE else "PeerAuthentication DISABLE"
        for ap in applicable(model, pod):
            for rule in ap.rules:
                if uses_identity(rule):
                    ref = ap.ref.with_rule(f"spec.rules[{rule.index}].from")
                    out.append(
                        Cause(
                            "istio-authz-needs-mtls",
                            (ref,),
                            {
                                "policy": f"{ap.ref.namespace}/{ap.ref.name}",
                                "rule": ref.rule or "",
                                "fields": "peer identity (principals/namespaces)",
                                "client": f"clients of {pod.namespace}/{pod.workload_name}",
                                "why": why,
                            },
                        )
                    )
    return out


SPLIT_BRAIN = Check(
    "mesh.SplitBrainL7",
    "Cilium HTTP rules and Istio L7 authorization on the same workload",
    ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "AuthorizationPolicy", "Pod"),
    _split_brain,
)
AMBIENT_PROBES = Check(
    "mesh.AmbientProbes",
    "ambient pods under default-deny without the 169.254.7.127 probe allowance",
    ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy", "Pod", "Namespace"),
    _ambient_probes,
)
PA_DISABLE_AMBIENT = Check(
    "mesh.PeerAuthnDisableAmbient",
    "PeerAuthentication DISABLE on ambient workloads (no effect)",
    ("PeerAuthentication", "Pod", "Namespace"),
    _pa_disable_ambient,
)
AUTHZ_NEEDS_MTLS = Check(
    "mesh.AuthzNeedsMTLS",
    "identity-based authorization rules on workloads that receive plaintext",
    ("AuthorizationPolicy", "PeerAuthentication", "Pod"),
    _authz_needs_mtls,
)
