"""Ready-to-apply fixes for the routing causes (issue 7): ServiceEntry, Sidecar egress hosts,
DestinationRule subsets."""

from __future__ import annotations

import re
from typing import Any

from kubectl_meshdoctor.diagnosis.fixes import heredoc, indent, to_yaml
from kubectl_meshdoctor.model.istio_traffic import SidecarScope, TrafficRule


def _name(host: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", host.lower()).strip("-")[:63] or "external"


def service_entry_yaml(host: str | None, ip: str | None, port: int, namespace: str, http: bool) -> str:
    protocol, pname = ("HTTP", "http") if http else ("TCP", "tcp")
    hosts = host or f"{_name(ip or 'external')}.external"
    spec: dict[str, Any] = {"hosts": [hosts]}
    if ip:
        spec["addresses"] = [ip]
    spec["ports"] = [{"number": port, "name": pname, "protocol": protocol}]
    spec["resolution"] = "DNS" if host else "NONE"
    spec["location"] = "MESH_EXTERNAL"
    return to_yaml(
        {
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": _name(hosts), "namespace": namespace},
            "spec": spec,
        }
    )


def registry_only_fix(host: str | None, ip: str | None, port: int, namespace: str, http: bool) -> str:
    return "register the destination with a ServiceEntry:\n" + heredoc(
        namespace, service_entry_yaml(host, ip, port, namespace, http)
    )


def sidecar_scope_fix(scope: SidecarScope, host: str, host_ns: str) -> str:
    ns = scope.ref.namespace or "default"
    return (
        f"import the host into the Sidecar's scope: kubectl -n {ns} edit sidecar {scope.ref.name}   # add \"{host_ns}/"
        f'{host}" to spec.egress[0].hosts (or "{host_ns}/*")'
    )


def subset_fix(rule: TrafficRule | None, host: str, subset: str, labels: dict[str, str], client_ns: str) -> str:
    entry = {"name": subset, "labels": dict(labels) or {"version": subset}}
    if rule is not None:
        ns = rule.ref.namespace or "default"
        return f"kubectl -n {ns} edit destinationrule {rule.ref.name}   # add under spec.subsets:\n" + indent(
            to_yaml([entry]), 2
        )
    ns = host.split(".")[1] if host.count(".") >= 2 else client_ns
    doc = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": _name(host.split(".")[0]), "namespace": ns},
        "spec": {"host": host, "subsets": [entry]},
    }
    return heredoc(ns, to_yaml(doc))
