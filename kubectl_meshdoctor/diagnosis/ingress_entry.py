"""Who serves a Kubernetes Ingress (issue 20 item 1; semantics-gateways.md C1): `spec.ingressClassName`
names an IngressClass whose `controller` decides (Cilium `cilium.io/ingress-controller`, Istio
`istio.io/ingress-controller`); the legacy annotation `kubernetes.io/ingress.class` names a class too
(Cilium documents the value `cilium`, Istio `istio`); without either, the one IngressClass marked
default (the API server's admission writes it into new Ingresses). Anything else: the proxy is not
modelled and the walk says so."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.errors import DataError, UsageError
from kubectl_meshdoctor.findings.types import Gap, ObjectRef
from kubectl_meshdoctor.model.ingress import (
    CILIUM_INGRESS_CONTROLLER,
    CILIUM_LB_MODE_ANNOTATION,
    ISTIO_INGRESS_CONTROLLER,
    LEGACY_CLASS_ANNOTATION,
    Ingress,
)
from kubectl_meshdoctor.model.objects import Pod
from kubectl_meshdoctor.model.refs import closest
from kubectl_meshdoctor.model.validity import dropped_as_invalid
from kubectl_meshdoctor.model.view import Model

INGRESS_KINDS = ("ingress", "ingresses", "ing")
_BY_LEGACY_VALUE = {"cilium": CILIUM_INGRESS_CONTROLLER, "istio": ISTIO_INGRESS_CONTROLLER}
# Istio serves Ingresses with the gateway pods meshConfig.ingressSelector picks (default: istio=ingressgateway)
ISTIO_INGRESS_LABEL = ("istio", "ingressgateway")


@dataclass(frozen=True, slots=True)
class IngressEntry:
    ingress: Ingress
    class_name: str | None
    controller: str | None
    implementation: str  # cilium | istio | unknown
    how: str  # how the class was found, for the hop line
    by: tuple[ObjectRef, ...]  # the IngressClass that decided
    lb: str | None  # Cilium: the load-balancer mode and its Service
    gaps: tuple[str, ...]


def is_ingress_ref(text: str) -> bool:
    parts = text.strip().split("/")
    return len(parts) == 3 and parts[1].lower() in INGRESS_KINDS


def ingress_of_service(model: Model, text: str, default_ns: str) -> str | None:
    """DESTINATION the Service Cilium creates for a dedicated Ingress (NS/cilium-ingress-NAME): that
    Ingress, as NS/ingress/NAME. The shared Service serves many Ingresses: name the Ingress instead."""
    parts = text.strip().split("/")
    if len(parts) == 3 and parts[1].lower() in ("svc", "service", "services"):
        ns, name = parts[0], parts[2]
    elif len(parts) == 2:
        ns, name = parts
    elif len(parts) == 1:
        ns, name = default_ns, parts[0]
    else:
        return None
    if not name.startswith("cilium-ingress-") or f"{ns}/{name}" not in model.services:
        return None
    wanted = name.removeprefix("cilium-ingress-")
    found = any(i.ref.namespace == ns and i.ref.name == wanted for i in model.ingress.ingresses)
    return f"{ns}/ingress/{wanted}" if found else None


def find_ingress(model: Model, text: str) -> Ingress:
    ns, _, name = text.strip().split("/")
    for ing in model.ingress.ingresses:
        if ing.ref.namespace == ns and ing.ref.name == name:
            return ing
    dropped = dropped_as_invalid(model.invalid, ns, name, ("Ingress",))
    if dropped is not None:
        raise UsageError(f"ingress {text!r}: {dropped}")
    hidden = [g for g in model.gaps if isinstance(g, Gap) and g.concerns(("Ingress",), [ns])]
    if hidden:  # not read (RBAC, timeout): we cannot say it does not exist
        raise DataError(f"ingress {text!r}: Ingress {ns}/{name} is not in view: {hidden[0]}")
    known = [f"{i.ref.namespace}/ingress/{i.ref.name}" for i in model.ingress.ingresses]
    hint = closest(f"{ns}/ingress/{name}", known)
    more = f"; did you mean {', '.join(hint)}?" if hint else ""
    raise UsageError(f"unknown ingress {text!r}: no Ingress {name!r} in {ns}{more}")


def _implementation(controller: str | None) -> str:
    return {CILIUM_INGRESS_CONTROLLER: "cilium", ISTIO_INGRESS_CONTROLLER: "istio"}.get(controller or "", "unknown")


def _class_gap(model: Model, name: str, key: str) -> str:
    unread = [g for g in model.gaps if isinstance(g, Gap) and "IngressClass" in g.kinds]
    why = f" ({unread[0]})" if unread else ""
    return (
        f"IngressClass {name!r} of Ingress {key} is not in this view{why}: which controller serves it (and whether "
        "any does) is unknown"
    )


def _cilium_lb(model: Model, ing: Ingress) -> str:
    """C1: shared mode → kube-system/cilium-ingress for every shared Ingress; dedicated → its own Service."""
    cfg = model.cilium_config
    mode = ing.annotations.get(CILIUM_LB_MODE_ANNOTATION) or cfg.get("ingress-default-lb-mode") or "dedicated"
    if mode == "shared":
        name = cfg.get("ingress-shared-lb-service-name") or "cilium-ingress"
        return f"shared load balancer (Service kube-system/{name})"
    return f"dedicated load balancer (Service {ing.ref.namespace}/cilium-ingress-{ing.ref.name})"


def ingress_entry(model: Model, text: str) -> IngressEntry:
    ing = find_ingress(model, text)
    key = f"{ing.ref.namespace}/{ing.ref.name}"
    classes = model.ingress.classes
    gaps: list[str] = []
    by: tuple[ObjectRef, ...] = ()
    controller: str | None = None
    name = ing.class_name or ing.legacy_class
    if ing.class_name is not None:
        how = f"spec.ingressClassName {ing.class_name}"
    elif ing.legacy_class is not None:
        how = f"annotation {LEGACY_CLASS_ANNOTATION}: {ing.legacy_class}"
    else:
        defaults = model.ingress.default_classes()
        if len(defaults) == 1:
            name = defaults[0].ref.name
            how = f"no class set: the default IngressClass {name}"
        else:
            how = "no class set"
            names = ", ".join(c.ref.name for c in defaults)
            gaps.append(
                f"Ingress {key} names no class and "
                + (f"several IngressClasses are marked default ({names})" if defaults else "no IngressClass is default")
                + ": which controller serves it depends on the controllers' own settings, not evaluated"
            )
    if name is not None:
        cls = classes.get(name)
        if cls is not None:
            controller, by = cls.controller, (cls.ref,)
        elif ing.class_name is None and name in _BY_LEGACY_VALUE:
            controller = _BY_LEGACY_VALUE[name]
        else:
            gaps.append(_class_gap(model, name, key))
    impl = _implementation(controller)
    if controller is not None and impl == "unknown":
        gaps.append(
            f"Ingress {key} is served by controller {controller}, which meshdoctor does not model (Cilium's and "
            "Istio's are): its proxy hop is not evaluated"
        )
    cfg = model.cilium_config
    if impl == "cilium" and cfg.present and cfg.get("enable-ingress-controller", "true").lower() == "false":
        gaps.append("cilium-config enable-ingress-controller is false: Cilium's ingress controller may not run")
    lb = _cilium_lb(model, ing) if impl == "cilium" else None
    return IngressEntry(ing, name, controller, impl, how, by, lb, tuple(gaps))


def istio_ingress_pods(model: Model) -> list[Pod]:
    """The pods of Istio's ingress gateway (meshConfig.ingressSelector, default istio=ingressgateway)."""
    k, v = ISTIO_INGRESS_LABEL
    root = model.istio.mesh.root_namespace
    pods = [p for p in model.pods.values() if p.labels.get(k) == v]
    return sorted(pods, key=lambda p: (not p.ready, p.namespace != root, p.key()))
