"""Concrete fixes: ready-to-apply YAML snippets and kubectl commands for each cause."""

from __future__ import annotations

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.objects import Pod

_SHORT = {
    "CiliumNetworkPolicy": "cnp",
    "CiliumClusterwideNetworkPolicy": "ccnp",
    "NetworkPolicy": "networkpolicy",
}


def _indent(text: str, n: int) -> str:
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


def cilium_entry(direction: str, labels: dict[str, str], port: int, protocol: str) -> str:
    field = "fromEndpoints" if direction == "ingress" else "toEndpoints"
    label_lines = "\n".join(f"      {k}: {v}" for k, v in labels.items())
    return (
        f"- {field}:\n  - matchLabels:\n{label_lines}\n"
        f'  toPorts:\n  - ports:\n    - port: "{port}"\n      protocol: {protocol}'
    )


def knp_entry(direction: str, pod: Pod, port: int, protocol: str) -> str:
    peer = "from" if direction == "ingress" else "to"
    app = next((f"{k}: {v}" for k, v in pod.labels.items() if k in ("app", "app.kubernetes.io/name")), "{}")
    return (
        f"- {peer}:\n  - namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: {pod.namespace}\n"
        f"    podSelector:\n      matchLabels:\n        {app}\n"
        f"  ports:\n  - port: {port}\n    protocol: {protocol}"
    )


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
    return f"{edit_cmd(policy)}   # add under {section_path}:\n{_indent(entry, 2)}"


def pa_yaml(
    namespace: str,
    name: str,
    mode: str,
    selector: dict[str, str] | None = None,
    port: int | None = None,
    port_mode: str | None = None,
) -> str:
    lines = [
        "apiVersion: security.istio.io/v1",
        "kind: PeerAuthentication",
        f"metadata: {{name: {name}, namespace: {namespace}}}",
        "spec:",
    ]
    if selector:
        lines.append("  selector:\n    matchLabels:")
        lines.extend(f"      {k}: {v}" for k, v in selector.items())
    lines.append(f"  mtls: {{mode: {mode}}}")
    if port is not None and port_mode:
        lines.append(f"  portLevelMtls:\n    {port}: {{mode: {port_mode}}}")
    return "\n".join(lines)


def dns_egress_yaml() -> str:
    return (
        "- toEndpoints:\n  - matchLabels:\n      k8s:io.kubernetes.pod.namespace: kube-system\n"
        '      k8s:k8s-app: kube-dns\n  toPorts:\n  - ports:\n    - port: "53"\n      protocol: UDP\n'
        '    - port: "53"\n      protocol: TCP\n    rules:\n      dns:\n      - matchPattern: "*"'
    )


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
    sel = "\n".join(f"      {k}: {v}" for k, v in selector.items()) or "      {}"
    frm = f'  - from:\n    - source:\n        principals: ["{principal}"]\n' if principal else "  - from: []\n"
    l7 = f'        methods: ["{method}"]\n        paths: ["{path}"]\n' if http else ""
    return (
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
        f"metadata: {{name: allow-caller, namespace: {namespace}}}\n"
        f"spec:\n  action: ALLOW\n  selector:\n    matchLabels:\n{sel}\n  rules:\n{frm}"
        f'    to:\n    - operation:\n{l7}        ports: ["{port}"]'
    ).replace("  - from: []\n    to:", "  - to:")


def probe_ccnp_yaml() -> str:
    return (
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: allow-ambient-hostprobes}\n"
        "spec:\n  description: allow kubelet probes SNATed by ztunnel (169.254.7.127)\n  endpointSelector: {}\n"
        '  enableDefaultDeny: {ingress: false, egress: false}\n  ingress:\n  - fromCIDR: ["169.254.7.127/32"]'
    )


# --- ready-to-apply manifests (explain --fix-yaml; they round-trip through --what-if) ---


def workload_labels(pod: Pod) -> dict[str, str]:
    for key in ("app", "app.kubernetes.io/name", "k8s-app"):
        if key in pod.labels:
            return {key: pod.labels[key]}
    return {k: v for k, v in pod.labels.items() if k not in ("pod-template-hash", "controller-revision-hash")}


def _labels_block(labels: dict[str, str], indent: int) -> str:
    pad = " " * indent
    return "\n".join(f'{pad}{k}: "{v}"' for k, v in labels.items()) or f"{pad}{{}}"


def allow_cnp_yaml(
    subject: Pod, peer: Pod, direction: str, port: int, protocol: str, http: tuple[str, str] | None = None
) -> str:
    """A new CNP that allows the peer (allows are a union across policies, A1.8)."""
    field = "fromEndpoints" if direction == "ingress" else "toEndpoints"
    peer_labels = {f"k8s:{k}": v for k, v in workload_labels(peer).items()}
    peer_labels["k8s:io.kubernetes.pod.namespace"] = peer.namespace
    rules = ""
    if http is not None:
        method, path = http
        rules = f'\n      rules:\n        http:\n        - method: "{method}"\n          path: "{re_escape(path)}"'
    name = f"meshdoctor-allow-{peer.namespace}-{peer.workload_name or peer.name}-{direction}"[:63].rstrip("-")
    return (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        f"metadata:\n  name: {name}\n  namespace: {subject.namespace}\n"
        f"spec:\n  endpointSelector:\n    matchLabels:\n{_labels_block(workload_labels(subject), 6)}\n"
        f"  {direction}:\n  - {field}:\n    - matchLabels:\n{_labels_block(peer_labels, 8)}\n"
        f'    toPorts:\n    - ports:\n      - port: "{port}"\n        protocol: {protocol}{rules}\n'
    )


def dns_cnp_yaml(client: Pod) -> str:
    return (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        f"metadata:\n  name: meshdoctor-allow-dns\n  namespace: {client.namespace}\n"
        f"spec:\n  endpointSelector:\n    matchLabels:\n{_labels_block(workload_labels(client), 6)}\n"
        "  egress:\n" + _indent(dns_egress_yaml(), 2) + "\n"
    )


def re_escape(path: str) -> str:
    import re

    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", path)
