"""cilium-config (semantics.md A7) as typed flags. Absent keys mean the agent default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubectl_meshdoctor.findings.types import ObjectRef


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "strict", "1", "yes")


@dataclass(frozen=True, slots=True)
class CiliumConfig:
    data: Mapping[str, str] = field(default_factory=dict)
    present: bool = False
    ref: ObjectRef | None = None

    def get(self, key: str, default: str = "") -> str:
        return str(self.data.get(key, default))

    @property
    def enable_policy(self) -> str:
        return self.get("enable-policy", "default").lower() or "default"

    @property
    def audit_mode(self) -> bool:
        return _true(self.data.get("policy-audit-mode"))

    @property
    def l7_proxy(self) -> bool:
        return self.get("enable-l7-proxy", "true").lower() != "false"

    @property
    def knp_enabled(self) -> bool:
        return self.get("enable-k8s-networkpolicy", "true").lower() != "false"

    @property
    def deny_response_icmp(self) -> bool:
        return self.get("policy-deny-response", "none").lower() == "icmp"

    @property
    def socket_lb(self) -> tuple[bool, str]:
        kpr = self.get("kube-proxy-replacement").lower()
        if _true(self.data.get("bpf-lb-sock")):
            return True, 'bpf-lb-sock: "true"'
        if kpr in ("true", "strict"):
            return True, f'kube-proxy-replacement: "{kpr}"'
        return False, ""

    @property
    def socket_lb_hostns_only(self) -> bool:
        return _true(self.data.get("bpf-lb-sock-hostns-only"))

    @property
    def cni_exclusive(self) -> bool:
        # Helm's cni.exclusive defaults to true; an absent key is the agent default (true).
        return self.get("cni-exclusive", "true").lower() == "true"

    @property
    def tunnel(self) -> str | None:
        mode = self.get("routing-mode").lower()
        legacy = self.get("tunnel").lower()
        proto = self.get("tunnel-protocol", "vxlan").lower() or "vxlan"
        if mode == "tunnel":
            return proto
        if legacy in ("vxlan", "geneve"):
            return legacy
        if not mode and not legacy and self.present:
            return None
        return None

    @property
    def service_no_backend_drop(self) -> bool:
        return self.get("service-no-backend-response", "reject").lower() == "drop"

    @property
    def cidr_match_nodes(self) -> bool:
        """A1.6: CIDR/ipBlock rules select node IPs only with ``policy-cidr-match-mode: nodes``."""
        return "nodes" in self.get("policy-cidr-match-mode").lower().replace(",", " ").split()

    @property
    def allow_localhost(self) -> str:
        """``allow-localhost``: ``auto`` (the default) means ``always`` when the agent runs in
        Kubernetes [C] (agent startup: "k8s mode: Allowing localhost to reach local endpoints");
        ``policy`` makes the local host subject to ingress policy like any peer."""
        value = self.get("allow-localhost", "auto").lower() or "auto"
        return "always" if value == "auto" else value
