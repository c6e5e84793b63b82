"""Kubernetes Ingress and IngressClass (networking.k8s.io/v1), and Cilium's Envoy configurations
(CiliumEnvoyConfig, CiliumClusterwideEnvoyConfig) and the Cilium policy port rules that redirect to
their listeners, as the north-south walk and the routing hop read them (issue 20 items 1 and 4;
semantics-gateways.md C1, C5). Rule paths follow the YAML
(``spec.rules[0].http.paths[1]``) so findings point at their proof."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.istio_routes import as_dict, as_list

INGRESS_GROUP = "networking.k8s.io"
CILIUM_INGRESS_CONTROLLER = "cilium.io/ingress-controller"
ISTIO_INGRESS_CONTROLLER = "istio.io/ingress-controller"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
CILIUM_LB_MODE_ANNOTATION = "ingress.cilium.io/loadbalancer-mode"
ENVOY_CONFIG_KINDS = frozenset({"CiliumEnvoyConfig", "CiliumClusterwideEnvoyConfig"})
KINDS = frozenset({"Ingress", "IngressClass"} | ENVOY_CONFIG_KINDS)
POLICY_KINDS = frozenset({"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"})  # their listener redirects
READ_KINDS = KINDS | POLICY_KINDS  # every kind read() looks at (model/build.py asks it for these only)


@dataclass(frozen=True, slots=True)
class IngressBackend:
    service: str | None  # Service name in the Ingress's namespace; None = a resource backend
    port_number: int | None
    port_name: str | None
    resource: str | None  # "Kind name" of a resource backend (not a Service)
    path: str  # "spec.rules[0].http.paths[1].backend"


@dataclass(frozen=True, slots=True)
class IngressPath:
    path: str  # "" = none given (ImplementationSpecific may omit it)
    path_type: str  # Exact | Prefix | ImplementationSpecific
    backend: IngressBackend
    where: str  # "spec.rules[0].http.paths[1]"


@dataclass(frozen=True, slots=True)
class IngressRule:
    host: str | None  # None = every host
    paths: tuple[IngressPath, ...]
    where: str  # "spec.rules[0]"


@dataclass(frozen=True, slots=True)
class IngressTLS:
    hosts: tuple[str, ...]  # empty = every host of the rules
    secret: str | None


@dataclass(frozen=True, slots=True)
class Ingress:
    ref: ObjectRef
    class_name: str | None  # spec.ingressClassName
    legacy_class: str | None  # the kubernetes.io/ingress.class annotation
    annotations: dict[str, str]
    default_backend: IngressBackend | None
    rules: tuple[IngressRule, ...]
    tls: tuple[IngressTLS, ...]


@dataclass(frozen=True, slots=True)
class IngressClass:
    ref: ObjectRef
    controller: str
    is_default: bool


@dataclass(frozen=True, slots=True)
class EnvoyConfigService:
    namespace: str
    name: str
    ports: tuple[int, ...]  # empty = every port of the Service


@dataclass(frozen=True, slots=True)
class EnvoyConfig:
    """A CiliumEnvoyConfig (namespaced) or CiliumClusterwideEnvoyConfig: Services whose frontend
    traffic Cilium redirects to the Envoy listener it defines (C5)."""

    ref: ObjectRef
    services: tuple[EnvoyConfigService, ...]
    backend_services: tuple[EnvoyConfigService, ...]
    resource_types: tuple[str, ...]  # the @type of each Envoy resource, short ("Listener", "RouteConfiguration")
    resource_names: tuple[tuple[str, str], ...] = ()  # (short @type, name) of each named Envoy resource


@dataclass(frozen=True, slots=True)
class PolicyListener:
    """A CiliumNetworkPolicy port rule that redirects matching traffic to an Envoy listener of a CEC
    (`toPorts[].listener`): keyed by the policy and its rule (`spec` / `specs[i]`)."""

    direction: str  # ingress | egress
    ports: tuple[str, ...]  # as written (numbers or names); empty = every port
    listener: str
    config: str  # "CiliumEnvoyConfig NS/NAME" or "CiliumClusterwideEnvoyConfig NAME"
    where: str  # "spec.ingress[0].toPorts[1].listener"


@dataclass(slots=True)
class IngressObjects:
    ingresses: list[Ingress] = field(default_factory=list)
    classes: dict[str, IngressClass] = field(default_factory=dict)
    envoy_configs: list[EnvoyConfig] = field(default_factory=list)
    # (policy kind, namespace, name, rule path) -> the listeners its port rules redirect to
    policy_listeners: dict[tuple[str, str | None, str, str], list[PolicyListener]] = field(default_factory=dict)

    def default_classes(self) -> list[IngressClass]:
        return sorted((c for c in self.classes.values() if c.is_default), key=lambda c: c.ref.name)


def _backend(raw: Any, where: str) -> IngressBackend:
    b = as_dict(raw)
    svc = as_dict(b.get("service"))
    res = as_dict(b.get("resource"))
    port = as_dict(svc.get("port"))
    number = port.get("number")
    return IngressBackend(
        str(svc["name"]) if svc.get("name") else None,
        int(number) if isinstance(number, int) else None,
        str(port["name"]) if port.get("name") else None,
        f"{res.get('kind') or 'resource'} {res.get('name') or ''}".strip() if res else None,
        where,
    )


def _rule(raw: Any, i: int) -> IngressRule:
    r = as_dict(raw)
    where = f"spec.rules[{i}]"
    paths = []
    for j, p in enumerate(as_list(as_dict(r.get("http")).get("paths"))):
        pd = as_dict(p)
        pw = f"{where}.http.paths[{j}]"
        paths.append(
            IngressPath(
                str(pd.get("path") or ""),
                str(pd.get("pathType") or "ImplementationSpecific"),
                _backend(pd.get("backend"), f"{pw}.backend"),
                pw,
            )
        )
    host = r.get("host")
    return IngressRule(str(host).lower() if host else None, tuple(paths), where)


def _ports(raw: Any) -> tuple[int, ...]:
    return tuple(int(p) for p in as_list(raw) if isinstance(p, int) or (isinstance(p, str) and p.isdigit()))


def _services(raw: Any, ns: str | None) -> tuple[EnvoyConfigService, ...]:
    out = []
    for s in as_list(raw):
        sd = as_dict(s)
        if sd.get("name"):
            out.append(
                EnvoyConfigService(
                    str(sd.get("namespace") or ns or "default"), str(sd["name"]), _ports(sd.get("ports"))
                )
            )
    return tuple(out)


def policy_listeners(objs: IngressObjects, doc: dict[str, Any], make_ref: Callable[[], ObjectRef]) -> None:
    """Note the `toPorts[].listener` redirects of a Cilium policy (the policy itself is read elsewhere).
    ``make_ref``: the policy's reference, made only for a policy with a redirect (most have none)."""
    specs = doc.get("specs")
    rules = [doc.get("spec")] + (specs if isinstance(specs, list) else [])
    ref: ObjectRef | None = None
    for path, direction, i, j, tp, listener in _redirects(rules):
        if ref is None:
            ref = make_ref()
        cfg = as_dict(listener.get("envoyConfig"))
        cfg_kind = str(cfg.get("kind") or "CiliumEnvoyConfig")
        ns = f"{ref.namespace}/" if cfg_kind == "CiliumEnvoyConfig" and ref.namespace else ""
        ports = tuple(str(as_dict(p).get("port") or "") for p in as_list(tp.get("ports")))
        found = PolicyListener(
            direction,
            tuple(p for p in ports if p and p != "0"),
            str(listener.get("name") or ""),
            f"{cfg_kind} {ns}{cfg.get('name') or ''}",
            f"{path}.{direction}[{i}].toPorts[{j}].listener",
        )
        key = (ref.kind, ref.namespace, ref.name, path)
        objs.policy_listeners.setdefault(key, []).append(found)


def _redirects(rules: list[Any]) -> Iterator[tuple[str, str, int, int, dict[str, Any], dict[str, Any]]]:
    """(``spec`` or ``specs[k]``, direction, entry index, toPorts index, the toPorts entry, the
    listener) for each redirect in the rules of one policy: most policies have none."""
    for k, raw in enumerate(rules):
        if not isinstance(raw, dict):
            continue
        for direction in ("ingress", "egress"):
            entries = raw.get(direction)
            if not isinstance(entries, list):
                continue
            for i, entry in enumerate(entries):
                to_ports = entry.get("toPorts") if isinstance(entry, dict) else None
                if not isinstance(to_ports, list):
                    continue
                for j, tp in enumerate(to_ports):
                    listener = tp.get("listener") if isinstance(tp, dict) else None
                    if listener and isinstance(listener, dict):
                        yield ("spec" if k == 0 else f"specs[{k - 1}]"), direction, i, j, tp, listener


def read(objs: IngressObjects, doc: dict[str, Any], ref: ObjectRef) -> bool:
    """Add one object when it is of a kind read here; False otherwise."""
    kind = str(doc.get("kind") or "")
    if kind in POLICY_KINDS:
        policy_listeners(objs, doc, lambda: ref)
        return False  # the policy itself is read by model/cilium_parse.py
    if kind not in KINDS:
        return False
    api = str(doc.get("apiVersion") or "")
    if kind in ("Ingress", "IngressClass") and not api.startswith(INGRESS_GROUP + "/"):
        return False  # extensions/v1beta1 and networking.k8s.io/v1beta1 are gone from the API (1.22)
    meta = as_dict(doc.get("metadata"))
    annotations = {str(k): str(v) for k, v in as_dict(meta.get("annotations")).items()}
    spec = as_dict(doc.get("spec"))
    if kind == "IngressClass":
        default = annotations.get(DEFAULT_CLASS_ANNOTATION, "").lower() == "true"
        objs.classes[ref.name] = IngressClass(ref, str(spec.get("controller") or ""), default)
    elif kind == "Ingress":
        backend = spec.get("defaultBackend")
        objs.ingresses.append(
            Ingress(
                ref,
                str(spec["ingressClassName"]) if spec.get("ingressClassName") else None,
                annotations.get(LEGACY_CLASS_ANNOTATION) or None,
                annotations,
                _backend(backend, "spec.defaultBackend") if backend else None,
                tuple(_rule(r, i) for i, r in enumerate(as_list(spec.get("rules")))),
                tuple(
                    IngressTLS(
                        tuple(str(h).lower() for h in as_list(as_dict(t).get("hosts"))),
                        str(as_dict(t).get("secretName") or "") or None,
                    )
                    for t in as_list(spec.get("tls"))
                ),
            )
        )
    else:
        ns = ref.namespace if kind == "CiliumEnvoyConfig" else None
        types = tuple(str(as_dict(r).get("@type") or "?").rsplit(".", 1)[-1] for r in as_list(spec.get("resources")))
        resources = [as_dict(r) for r in as_list(spec.get("resources"))]
        names = tuple((t, str(r["name"])) for t, r in zip(types, resources, strict=True) if r.get("name"))
        services = _services(spec.get("services"), ns)
        objs.envoy_configs.append(EnvoyConfig(ref, services, _services(spec.get("backendServices"), ns), types, names))
    return True
