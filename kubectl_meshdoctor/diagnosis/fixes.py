"""Concrete fixes: ready-to-apply YAML snippets and kubectl commands for each cause.

Every manifest and rule entry is built as data and written by :mod:`model.yamlcore` (issue 17):
regex values (Cilium paths) and strings a YAML reader would retype are quoted correctly."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.objects import Pod

_SHORT = {
    "CiliumNetworkPolicy": "cnp",
    "CiliumClusterwideNetworkPolicy": "ccnp",
    "NetworkPolicy": "networkpolicy",
}


def to_yaml(doc: Any) -> str:
    """One manifest or rule entry as YAML text, without the trailing newline."""
    from kubectl_meshdoctor.model import yamlcore  # YAML only when a fix is written (a JSON check never needs it)

    return yamlcore.dump(doc).rstrip("\n")


def indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line if line else line for line in text.splitlines())


def heredoc(namespace: str | None, yaml_text: str) -> str:
    ns = f"-n {namespace} " if namespace else ""
    return f"kubectl {ns}apply -f - <<'EOF'\n{yaml_text.rstrip()}\nEOF"


def edit_cmd(ref: ObjectRef) -> str:
    kind = _SHORT.get(ref.kind, ref.kind.lower())
    ns = f"-n {ref.namespace} " if ref.namespace else ""
    return f"kubectl {ns}edit {kind} {ref.name}"


def peer_labels(pod: Pod, app_keys: tuple[str, ...] = ("app", "app.kubernetes.io/name", "k8s-app")) -> dict[str, str]:
    labels = {"k8s:io.kubernetes.pod.namespace": pod.namespace}
    for key in app_keys:
        if key in pod.labels:
            labels[f"k8s:{key}"] = pod.labels[key]
            break
    return labels


def _cilium_ports(port: int, protocol: str) -> list[dict[str, Any]]:
    return [{"ports": [{"port": str(port), "protocol": protocol}]}]


def cilium_entry(direction: str, labels: dict[str, str], port: int, protocol: str) -> str:
    field = "fromEndpoints" if direction == "ingress" else "toEndpoints"
    return to_yaml([{field: [{"matchLabels": dict(labels)}], "toPorts": _cilium_ports(port, protocol)}])


def knp_entry(direction: str, pod: Pod, port: int, protocol: str) -> str:
    peer = "from" if direction == "ingress" else "to"
    app = {k: v for k, v in pod.labels.items() if k in ("app", "app.kubernetes.io/name")}
    selector: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": pod.namespace}},
        "podSelector": {"matchLabels": dict(list(app.items())[:1])},
    }
    return to_yaml([{peer: [selector], "ports": [{"port": port, "protocol": protocol}]}])


def allow_peer_fix(
    policy: ObjectRef, direction: str, peer: Pod | None, port: int, protocol: str, section_path: str
) -> str:
    """B1/B2: add the peer to the policy that makes the direction default-deny."""
    if peer is None:
        return f"{edit_cmd(policy)}  # allow the peer on {protocol}/{port} under {section_path}"
    if policy.kind == "NetworkPolicy":
        entry = knp_entry(direction, peer, port, protocol)
    else:
        entry = cilium_entry(direction, peer_labels(peer), port, protocol)
    return f"{edit_cmd(policy)}   # add under {section_path}:\n{indent(entry, 2)}"


def pa_yaml(
    namespace: str,
    name: str,
    mode: str,
    selector: dict[str, str] | None = None,
    port: int | None = None,
    port_mode: str | None = None,
) -> str:
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    spec["mtls"] = {"mode": mode}
    if port is not None and port_mode:
        spec["portLevelMtls"] = {port: {"mode": port_mode}}
    return to_yaml(
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def _dns_egress_entry() -> dict[str, Any]:
    return {
        "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}],
        "toPorts": [
            {
                "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
                "rules": {"dns": [{"matchPattern": "*"}]},
            }
        ],
    }


def dns_egress_yaml() -> str:
    return to_yaml([_dns_egress_entry()])


def authz_allow_yaml(
    namespace: str,
    selector: dict[str, str],
    principal: str | None,
    method: str,
    path: str,
    port: int,
    http: bool = True,
) -> str:
    """An ALLOW rule for the caller. On raw TCP an ALLOW rule with HTTP-only fields (methods, paths)
    never matches (A5), so it names the port only."""
    rule: dict[str, Any] = {}
    if principal:
        rule["from"] = [{"source": {"principals": [principal]}}]
    operation: dict[str, Any] = {"methods": [method], "paths": [path]} if http else {}
    operation["ports"] = [str(port)]
    rule["to"] = [{"operation": operation}]
    return to_yaml(
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": "allow-caller", "namespace": namespace},
            "spec": {"action": "ALLOW", "selector": {"matchLabels": dict(selector)}, "rules": [rule]},
        }
    )


def probe_ccnp_yaml() -> str:
    return to_yaml(
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "allow-ambient-hostprobes"},
            "spec": {
                "description": "allow kubelet probes SNATed by ztunnel (169.254.7.127)",
                "endpointSelector": {},
                "enableDefaultDeny": {"ingress": False, "egress": False},
                "ingress": [{"fromCIDR": ["169.254.7.127/32"]}],
            },
        }
    )


# --- ready-to-apply manifests (explain --fix-yaml; they round-trip through --what-if) ---


def workload_labels(pod: Pod) -> dict[str, str]:
    for key in ("app", "app.kubernetes.io/name", "k8s-app"):
        if key in pod.labels:
            return {key: pod.labels[key]}
    return {k: v for k, v in pod.labels.items() if k not in ("pod-template-hash", "controller-revision-hash")}


def cilium_peer_labels(peer: Pod) -> dict[str, str]:
    """The narrowest stable selector of a pod: its workload label and namespace."""
    labels = {f"k8s:{k}": v for k, v in workload_labels(peer).items()}
    labels["k8s:io.kubernetes.pod.namespace"] = peer.namespace
    return labels


def cnp_doc(name: str, subject: Pod, direction: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name[:63].rstrip("-"), "namespace": subject.namespace},
        "spec": {"endpointSelector": {"matchLabels": workload_labels(subject)}, direction: entries},
    }


def allow_cnp_yaml(
    subject: Pod, peer: Pod, direction: str, port: int, protocol: str, http: tuple[str, str] | None = None
) -> str:
    """A new CNP that allows the peer (allows are a union across policies, A1.8)."""
    field = "fromEndpoints" if direction == "ingress" else "toEndpoints"
    to_ports: dict[str, Any] = {"ports": [{"port": str(port), "protocol": protocol}]}
    if http is not None:
        method, path = http
        to_ports["rules"] = {"http": [{"method": method, "path": path_regex(path)}]}
    entry = {field: [{"matchLabels": cilium_peer_labels(peer)}], "toPorts": [to_ports]}
    name = f"meshdoctor-allow-{peer.namespace}-{peer.workload_name or peer.name}-{direction}"
    return to_yaml(cnp_doc(name, subject, direction, [entry]))


def dns_cnp_yaml(client: Pod) -> str:
    return to_yaml(cnp_doc("meshdoctor-allow-dns", client, "egress", [_dns_egress_entry()]))


def re_escape(path: str) -> str:
    import re

    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", path)


def path_regex(path: str) -> str:
    """The narrowest Cilium path regex for this request: the path exactly, and its query string as an
    optional group, so the rule holds whether or not Cilium's regex sees the query."""
    base, sep, query = path.partition("?")
    return re_escape(base) + (f"(\\?{re_escape(query)})?" if sep else "")
