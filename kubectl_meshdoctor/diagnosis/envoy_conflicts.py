"""Overlapping CiliumEnvoyConfigs (issue 20 item 4; semantics-gateways.md C5, GB16): Cilium applies
every CiliumEnvoyConfig / CiliumClusterwideEnvoyConfig as written and resolves no conflict between
them. Two configs conflict when both redirect the same Service frontend port (`spec.services`), or
when both define an Envoy resource of the same kind under the same name. Cilium qualifies a resource
name that has no "/" with the config's namespace and name, and keeps an already qualified one as it is
(cilium/cilium PR #26037), so only qualified names can collide across configs; hand-written configs
that reuse the qualified names of the configs Cilium generates for Ingresses and Gateways are the
usual case. Both `explain` (a conflict on the call's Service) and `check` use `conflicts`."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from kubectl_meshdoctor.findings.types import Cause
from kubectl_meshdoctor.model.ingress import EnvoyConfig, EnvoyConfigService
from kubectl_meshdoctor.model.view import Model


@dataclass(frozen=True, slots=True)
class Conflict:
    first: EnvoyConfig
    second: EnvoyConfig
    what: str  # "redirect Service app/echo port 80" | "define Listener app/shared/listener"
    services: tuple[tuple[str, str], ...]  # the (namespace, name) of the Services both redirect

    def cause(self) -> Cause:
        configs = f"{config_name(self.first)} and {config_name(self.second)}"
        refs = (self.first.ref, self.second.ref)
        return Cause("cilium-envoyconfig-conflict", refs, {"configs": configs, "what": self.what})


def config_name(c: EnvoyConfig) -> str:
    ns = f"{c.ref.namespace}/" if c.ref.namespace else ""
    return f"{c.ref.kind} {ns}{c.ref.name}"


def _qualified(c: EnvoyConfig, name: str) -> str:
    return name if "/" in name else f"{c.ref.namespace or ''}/{c.ref.name}/{name}"


def _shared_ports(a: EnvoyConfigService, b: EnvoyConfigService) -> str | None:
    """The ports of one Service both entries redirect ("" = every port), or None when they do not meet."""
    if (a.namespace, a.name) != (b.namespace, b.name):
        return None
    if not a.ports or not b.ports:
        return ", ".join(str(p) for p in (a.ports or b.ports))
    both = sorted(set(a.ports) & set(b.ports))
    return ", ".join(str(p) for p in both) if both else None


def _pair(a: EnvoyConfig, b: EnvoyConfig) -> list[Conflict]:
    out: list[Conflict] = []
    for sa in a.services:
        for sb in b.services:
            ports = _shared_ports(sa, sb)
            if ports is None:
                continue
            where = f"port {ports}" if ports else "every port"
            what = f"redirect Service {sa.namespace}/{sa.name} ({where}) to their Envoy listeners"
            out.append(Conflict(a, b, what, ((sa.namespace, sa.name),)))
    names_b = {(t, _qualified(b, n)) for t, n in b.resource_names}
    for t, n in a.resource_names:
        if (t, _qualified(a, n)) in names_b:
            out.append(Conflict(a, b, f"define the Envoy {t} {_qualified(a, n)}", ()))
    return out


def conflicts(model: Model) -> list[Conflict]:
    configs = sorted(model.ingress.envoy_configs, key=lambda c: (c.ref.kind, c.ref.namespace or "", c.ref.name))
    return [found for a, b in combinations(configs, 2) for found in _pair(a, b)]


def on_path(model: Model, configs: list[EnvoyConfig]) -> list[Cause]:
    """The conflicts that involve a config on the call's path (one cause per pair and subject)."""
    keys = {c.ref for c in configs}
    return [f.cause() for f in conflicts(model) if f.first.ref in keys or f.second.ref in keys]
