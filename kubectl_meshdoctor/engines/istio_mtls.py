"""Effective PeerAuthentication (A3) and what the client sends (A4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubectl_meshdoctor.findings.types import Mesh, ObjectRef
from kubectl_meshdoctor.model.istio import DestinationRule, PeerAuthentication, TLSSetting
from kubectl_meshdoctor.model.istio_export import effective, exported
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class EffectiveMTLS:
    mode: str  # DISABLE | PERMISSIVE | STRICT
    by: tuple[ObjectRef, ...]
    detail: str


def _oldest(pas: list[PeerAuthentication]) -> PeerAuthentication | None:
    return min(pas, key=lambda p: (p.created or "~", p.ref.name)) if pas else None


def _selects(pa: PeerAuthentication, pod: Pod) -> bool:
    return bool(pa.selector) and all(pod.labels.get(k) == v for k, v in (pa.selector or {}).items())


def _in_ns(model: Model, namespace: str) -> list[PeerAuthentication]:
    """The PeerAuthentications of one namespace (indexed once per model: check asks for thousands)."""
    if model.pa_by_ns is None:
        index: dict[str, list[PeerAuthentication]] = {}
        for pa in model.istio.peer_authns:
            index.setdefault(pa.ref.namespace or "", []).append(pa)
        model.pa_by_ns = index
    found: list[PeerAuthentication] = model.pa_by_ns.get(namespace, [])
    return found


def in_namespace(model: Model, namespace: str) -> list[PeerAuthentication]:
    """The PeerAuthentications whose namespace is ``namespace``, in input order (indexed)."""
    return [pa for pa in _in_ns(model, namespace) if pa.ref.namespace == namespace]


def effective_pa(model: Model, pod: Pod, port: int | None) -> EffectiveMTLS:
    """A3: workload > namespace > mesh; UNSET inherits; oldest wins at one level; default PERMISSIVE."""
    root = model.istio.mesh.root_namespace
    mesh_pa = _oldest([p for p in _in_ns(model, root) if not p.selector])
    local = _in_ns(model, pod.namespace) if pod.namespace != root else []
    ns_pa = _oldest([p for p in local if not p.selector])
    wl_pa = _oldest([p for p in local if _selects(p, pod)])
    mode, level = "PERMISSIVE", "no PeerAuthentication applies: PERMISSIVE (Istio default)"
    by: tuple[ObjectRef, ...] = ()
    for pa, name in ((mesh_pa, "mesh-wide"), (ns_pa, "namespace"), (wl_pa, "workload")):
        if pa is not None and pa.mode != "UNSET":
            mode, by, level = (
                pa.mode,
                (pa.ref.with_rule("spec.mtls.mode"),),
                f"{name} PeerAuthentication {pa.ref.namespace}/{pa.ref.name}: {pa.mode}",
            )
    if wl_pa is not None and port is not None and port in wl_pa.port_level:
        port_mode = wl_pa.port_level[port]
        if port_mode != "UNSET":
            mode = port_mode
            by = (wl_pa.ref.with_rule(f"spec.portLevelMtls[{port}]"),)
            level = f"port-level mTLS of {wl_pa.ref.namespace}/{wl_pa.ref.name} for port {port}: {port_mode}"
    return EffectiveMTLS(mode, by, level)


def inferred_service_mode(model: Model, namespace: str) -> tuple[str, tuple[ObjectRef, ...]]:
    """A4: the auto-mTLS hint reads only namespace- and mesh-level PA (workload/port PA ignored)."""
    root = model.istio.mesh.root_namespace
    mode = "PERMISSIVE"
    by: tuple[ObjectRef, ...] = ()
    for pa in (
        _oldest([p for p in _in_ns(model, root) if not p.selector]),
        _oldest([p for p in _in_ns(model, namespace) if namespace != root and not p.selector]),
    ):
        if pa is not None and pa.mode != "UNSET":
            mode, by = pa.mode, (pa.ref.with_rule("spec.mtls.mode"),)
    return mode, by


def _host_matches(dr: DestinationRule, svc: Service, domain: str = "cluster.local") -> int:
    """0 = no match; higher = more specific (exact FQDN beats wildcard)."""
    fqdn = f"{svc.name}.{svc.namespace}.svc.{domain}"
    host = dr.host
    if "." not in host and "*" not in host:
        host = f"{host}.{dr.ref.namespace}.svc.{domain}"  # short names are relative to the DR's namespace
    elif host.count(".") == 1 and "*" not in host:
        host = f"{host}.svc.{domain}"
    if host == fqdn:
        return 3
    if host.startswith("*") and fqdn.endswith(host[1:]):
        return 2
    if host == "*":
        return 1
    return 0


def _exported(model: Model, dr: DestinationRule, client_ns: str) -> bool:
    export_to = effective(dr.export_to, "DestinationRule", model.traffic.default_export)
    return exported(export_to, dr.ref.namespace, client_ns)


def _selects_client(dr: DestinationRule, client_ns: str, client_labels: Mapping[str, str] | None) -> bool:
    """A DR with a workloadSelector applies only to matching workloads of its own namespace."""
    if not dr.workload_selector:
        return True
    if client_labels is None or dr.ref.namespace != client_ns:
        return False
    return all(client_labels.get(k) == v for k, v in dr.workload_selector.items())


def find_dr(
    model: Model, client_ns: str, svc: Service, client_labels: Mapping[str, str] | None = None
) -> DestinationRule | None:
    """A4: client namespace, then service namespace, then root namespace; one DR per host. A DR
    whose workloadSelector matches the client (its namespace) is preferred there."""
    order = [client_ns, svc.namespace, model.istio.mesh.root_namespace]
    for ns in dict.fromkeys(order):
        cands = [
            (score + (10 if dr.workload_selector else 0), dr)
            for dr in model.istio.dest_rules
            if dr.ref.namespace == ns
            and (score := _host_matches(dr, svc))
            and _exported(model, dr, client_ns)
            and _selects_client(dr, client_ns, client_labels)
        ]
        if cands:
            return max(cands, key=lambda c: (c[0], -len(c[1].ref.name)))[1]
    return None


@dataclass(frozen=True, slots=True)
class ClientTLS:
    payload: str  # "istio-mtls" | "hbone" | "plaintext" | "tls"
    detail: str
    by: tuple[ObjectRef, ...]
    dr_mode: str | None  # the DestinationRule's tls.mode when a DR decided
    dr_ref: ObjectRef | None = None


def client_tls(
    model: Model,
    client_mesh: Mesh,
    server_pod: Pod | None,
    server_mesh: Mesh,
    svc: Service | None,
    svc_port: int | None,
    client_ns: str,
    client_labels: Mapping[str, str] | None = None,
    subset: str | None = None,
) -> ClientTLS:
    if client_mesh is Mesh.NONE:
        return ClientTLS("plaintext", "client has no sidecar and is not ambient: plaintext", (), None)
    if client_mesh is Mesh.AMBIENT:
        if server_mesh is Mesh.AMBIENT:
            return ClientTLS(
                "hbone", "ztunnel tunnels the call as HBONE (mTLS) to port 15008 of the server pod", (), None
            )
        if server_mesh is Mesh.SIDECAR:
            return ClientTLS("hbone", "ztunnel sends HBONE to the server's sidecar (expected [uncertain])", (), None)
        return ClientTLS(
            "plaintext", "server is outside the mesh: ztunnel passes the call through in plaintext", (), None
        )
    dr = find_dr(model, client_ns, svc, client_labels) if svc is not None else None
    if dr is not None:
        setting: TLSSetting | None = None
        if subset is not None and subset in dr.subset_tls:
            # A4: a subset's traffic policy overrides the DR-level one (its port level first)
            sub_tls, sub_ports = dr.subset_tls[subset]
            setting = (sub_ports.get(svc_port) if svc_port is not None else None) or sub_tls
        setting = setting or (dr.port_tls.get(svc_port) if svc_port is not None else None)
        setting = setting or dr.tls
        if setting is not None:
            ref = dr.ref.with_rule(setting.path)
            payload = {"ISTIO_MUTUAL": "istio-mtls", "DISABLE": "plaintext"}.get(setting.mode, "tls")
            return ClientTLS(
                payload,
                f"DestinationRule {dr.ref.namespace}/{dr.ref.name} sets tls.mode {setting.mode}",
                (ref,),
                setting.mode,
                ref,
            )
    if not model.istio.mesh.enable_auto_mtls:
        return ClientTLS("plaintext", "auto-mTLS is off in the mesh config and no DestinationRule sets TLS", (), None)
    if server_pod is None or server_mesh is Mesh.NONE:
        return ClientTLS("plaintext", "auto-mTLS: the server has no sidecar, so plaintext", (), None)
    if server_mesh is Mesh.AMBIENT:
        return ClientTLS(
            "hbone",
            "auto-mTLS: the server is ambient; the sidecar sends HBONE (expected [uncertain])",
            (),
            None,
        )
    mode, by = inferred_service_mode(model, server_pod.namespace)
    if mode == "DISABLE":
        names = ", ".join(f"{r.namespace}/{r.name}" for r in by)
        return ClientTLS(
            "plaintext",
            f"auto-mTLS: PeerAuthentication {names} is DISABLE, so the sidecar sends plaintext",
            by,
            None,
        )
    return ClientTLS(
        "istio-mtls", f"auto-mTLS: the server has a sidecar and its namespace/mesh mTLS is {mode}", by, None
    )
