"""Fixes that keep what the user's policies refuse refused (issue 17).

Where a fix would let through requests the user's rules refuse (``FixProof.widened``) — typically
Cilium HTTP rules on an app port that ambient HBONE (port 15008) hides from Cilium's proxy — the
enforcement moves to where it can act: a waypoint for the Service plus an AuthorizationPolicy
bound to it (``targetRefs``) holding the same methods and paths for the same sources, and the
15008 opening admits the waypoint, not the client. Where no faithful translation exists, the
alternative is to take the namespaces out of ambient (Cilium then sees HTTP again), and the
rules that would be lost are named."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kubectl_meshdoctor.diagnosis.call import Query, resolve_call
from kubectl_meshdoctor.diagnosis.fixes import cnp_doc, to_yaml
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.findings.types import FixProof, Mesh
from kubectl_meshdoctor.model import yamlcore
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.sources.base import RawSnapshot

SYSTEM = frozenset({"kube-system", "istio-system"})
_NS_KEYS = ("k8s:io.kubernetes.pod.namespace", "io.kubernetes.pod.namespace", "kubernetes.io/metadata.name")
Candidate = tuple[str, tuple[str, ...], tuple[str, ...]]  # title, manifests, notes


def _walk_namespaces(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _NS_KEYS and isinstance(value, str):
                out.add(value)
            if key == "values" and node.get("key") in (
                "io.kubernetes.pod.namespace",
                "k8s:io.kubernetes.pod.namespace",
            ):
                out.update(str(v) for v in value or [])
            if key in ("namespaces",) and isinstance(value, list):
                out.update(str(v) for v in value)
            if key == "principals" and isinstance(value, list):
                out.update(str(v).split("/ns/")[1].split("/")[0] for v in value if "/ns/" in str(v))
            _walk_namespaces(value, out)
    elif isinstance(node, list):
        for item in node:
            _walk_namespaces(item, out)


def manifest_namespaces(model: Model, manifests: Iterable[str]) -> set[str]:
    """The namespaces a fix touches: where its objects live and every namespace its peers name; a
    cluster-scoped object touches every namespace in view."""
    out: set[str] = set()
    for text in manifests:
        doc = yamlcore.load(text)
        if not isinstance(doc, dict):
            continue
        namespace = (doc.get("metadata") or {}).get("namespace")
        if namespace:
            out.add(str(namespace))
        else:
            out |= {ns for ns in set(model.namespaces) | set(model.pods_by_ns) if ns not in SYSTEM}
        _walk_namespaces(doc.get("spec"), out)
    return out


def alternatives(raw: RawSnapshot, model: Model, query: Query, proof: FixProof) -> tuple[list[Candidate], list[str]]:
    """Fixes that keep refused what ``proof``'s fix lets through: for an ambient server, a waypoint
    holding the HTTP rules (when they translate faithfully), and taking the namespaces out of ambient;
    and the user's rules ``proof``'s fix loses that no waypoint policy can hold."""
    if not proof.widened:
        return [], []
    call = resolve_call(model, query)
    ambient = [m is Mesh.AMBIENT for m in (call.client_mesh, call.server_mesh)]
    if not any(ambient) or call.server is None:
        return [], []
    out: list[Candidate] = []
    lost: list[str] = []
    port = call.target_port or call.port
    if call.server_mesh is Mesh.AMBIENT and call.svc is not None:
        rules, lost = _ap_rules(raw, model, call.server, port)
        if rules and not lost:
            out.append(_waypoint_candidate(raw, model, call.svc, call.server, rules))
    namespaces = [ns for ns, on in zip((call.client.namespace, call.server.namespace), ambient, strict=True) if on]
    leave = _leave_ambient(raw, sorted(set(namespaces)))
    if leave:
        title = f"take {', '.join(sorted(set(namespaces)))} out of ambient: Cilium's proxy sees the HTTP again"
        notes = ("no waypoint is proposed: an AuthorizationPolicy cannot hold every rule (see loses)",) if lost else ()
        out.append((title, leave, notes))
    return out, lost


# --- translating Cilium HTTP rules to a waypoint AuthorizationPolicy ---


def _istio_path(pattern: str) -> str | None:
    """Cilium's path regex as an Istio path (exact, ``prefix*``), or None when Istio cannot say it."""
    body = pattern.removeprefix("^").removesuffix("$")
    if body in (".*", ""):
        return "*"
    if body.endswith(".*"):
        prefix = _literal(body[:-2])
        return f"{prefix}*" if prefix is not None and "*" not in prefix else None
    literal = _literal(body)
    return literal if literal is not None and "*" not in literal else None


def _literal(regex: str) -> str | None:
    out, i = [], 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            out.append(regex[i + 1])
            i += 2
            continue
        if ch in ".^$*+?{}[]|()":
            return None
        out.append(ch)
        i += 1
    return "".join(out)


def _methods(pattern: str) -> list[str] | None:
    body = pattern.removeprefix("^").removesuffix("$")
    if body in ("", ".*"):
        return []
    parts = body.strip("()").split("|")
    return parts if all(re.fullmatch(r"[A-Z]+", p) for p in parts) else None


def _sources(entry: dict[str, Any], policy_ns: str | None) -> tuple[list[str] | None, str]:
    """Cilium fromEndpoints as Istio source namespaces, or (None, why) when it cannot be said."""
    if any(
        entry.get(k) for k in ("fromEntities", "fromCIDR", "fromCIDRSet", "fromRequires", "fromGroups", "fromNodes")
    ):
        return None, "a fromEntities/fromCIDR peer has no identity a waypoint policy can name"
    namespaces: list[str] = []
    for selector in entry.get("fromEndpoints") or []:
        selector = selector or {}
        labels = dict(selector.get("matchLabels") or {})
        found = [labels.pop(k) for k in list(labels) if k.removeprefix("k8s:") == "io.kubernetes.pod.namespace"]
        for expr in selector.get("matchExpressions") or []:
            if (
                str(expr.get("key", "")).removeprefix("k8s:") == "io.kubernetes.pod.namespace"
                and expr.get("operator") == "In"
            ):
                found += [str(v) for v in expr.get("values") or []]
            else:
                return None, f"the selector {expr} names pods by label, not an identity Istio sees"
        if labels:
            return None, f"the selector {labels} names pods by label, not an identity Istio sees"
        if not found and not policy_ns:
            return None, "an empty selector of a clusterwide policy admits every endpoint, not one identity"
        namespaces += found or [str(policy_ns)]
    if not namespaces:
        return None, "the rule names no endpoint peers"
    return sorted(set(namespaces)), ""


def _doc(raw: RawSnapshot, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
    for obj in raw.objects:
        meta = obj.doc.get("metadata") or {}
        if obj.doc.get("kind") == kind and meta.get("name") == name and meta.get("namespace") == namespace:
            return obj.doc
    return None


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    """An object as one applies it: no status, no server-set metadata."""
    meta = {k: v for k, v in (doc.get("metadata") or {}).items() if k in ("name", "namespace", "labels", "annotations")}
    return {**{k: v for k, v in doc.items() if k != "status"}, "metadata": meta}


def _ap_rules(raw: RawSnapshot, model: Model, server: Pod, port: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The Cilium ingress rules on ``port`` of the server as AuthorizationPolicy rules, and what
    cannot be said faithfully (then nothing is translated)."""
    rules: list[dict[str, Any]] = []
    lost: list[str] = []
    for rule in selecting_rules(model, server):
        doc = _doc(raw, rule.policy.kind, rule.policy.namespace, rule.policy.name)
        if doc is None or rule.is_knp:
            continue
        spec = doc.get("spec") if rule.path == "spec" else (doc.get("specs") or [{}] * 99)[int(rule.path[6:-1])]
        where = f"{rule.policy.kind} {rule.policy.namespace or ''}/{rule.policy.name} {rule.path}".replace(" /", " ")
        if any(_on_port(e, port) for e in (spec or {}).get("ingressDeny") or []):
            lost.append(f"{where}.ingressDeny: a deny on port {port} is not carried over")
        for j, entry in enumerate((spec or {}).get("ingress") or []):
            for k, to_ports in enumerate(entry.get("toPorts") or [{}]):
                if not _on_port({"toPorts": [to_ports]}, port):
                    continue
                at = f"{where}.ingress[{j}].toPorts[{k}]"
                sources, why = _sources(entry, rule.namespace)
                if sources is None:
                    lost.append(f"{at}: {why}")
                    continue
                frm = [{"source": {"namespaces": sources}}]
                http = (to_ports.get("rules") or {}).get("http")
                if not http:
                    rules.append({"from": frm, "to": [{"operation": {"ports": [str(port)]}}]})
                for n, h in enumerate(http or []):
                    op = _operation(h, port)
                    if op is None:
                        lost.append(f"{at}.rules.http[{n}]: {_describe(h)} has no exact AuthorizationPolicy form")
                    else:
                        rules.append({"from": frm, "to": [{"operation": op}]})
    return rules, lost


def _on_port(entry: dict[str, Any], port: int) -> bool:
    ports = [p for tp in entry.get("toPorts") or [] for p in tp.get("ports") or []]
    return not ports or any(str(p.get("port")) in (str(port), "0", "") for p in ports)


def _operation(rule: dict[str, Any], port: int) -> dict[str, Any] | None:
    if rule.get("headers") or rule.get("headerMatches") or rule.get("host"):
        return None
    methods = _methods(str(rule.get("method") or ""))
    path = _istio_path(str(rule.get("path") or ""))
    if methods is None or path is None:
        return None
    op: dict[str, Any] = {"ports": [str(port)]}
    if methods:
        op["methods"] = methods
    if path != "*":
        op["paths"] = [path]
    return op


def _describe(rule: dict[str, Any]) -> str:
    parts = [f"{k} {rule[k]!r}" for k in ("method", "path", "host") if rule.get(k)]
    parts += [f"headers {rule[k]}" for k in ("headers", "headerMatches") if rule.get(k)]
    return ", ".join(parts) or "the rule"


def _waypoint_candidate(
    raw: RawSnapshot, model: Model, svc: Service, server: Pod, rules: list[dict[str, Any]]
) -> Candidate:
    ns = svc.namespace
    existing = next(
        (g for g in model.traffic.kube_gateways if g.ref.namespace == ns and g.class_name == "istio-waypoint"), None
    )
    name = existing.ref.name if existing is not None else "waypoint"
    docs: list[dict[str, Any]] = []
    if existing is None:
        docs.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "Gateway",
                "metadata": {"name": name, "namespace": ns, "labels": {"istio.io/waypoint-for": "service"}},
                "spec": {
                    "gatewayClassName": "istio-waypoint",
                    "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
                },
            }
        )
    svc_doc = _doc(raw, "Service", ns, svc.name)
    if svc_doc is not None:
        labelled = _clean(svc_doc)
        labelled["metadata"]["labels"] = {**(labelled["metadata"].get("labels") or {}), "istio.io/use-waypoint": name}
        docs.append(labelled)
    docs.append(
        {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": f"meshdoctor-{svc.name}-l7", "namespace": ns},
            "spec": {
                "targetRefs": [{"kind": "Service", "group": "", "name": svc.name}],
                "action": "ALLOW",
                "rules": rules,
            },
        }
    )
    # the waypoint runs under a service account named after it (its gateway-name label is not part
    # of the Cilium identity: the default label filter drops kubernetes.io keys)
    waypoint_peer = {"k8s:io.kubernetes.pod.namespace": ns, "k8s:io.cilium.k8s.policy.serviceaccount": name}
    entry = {
        "fromEndpoints": [{"matchLabels": waypoint_peer}],
        "toPorts": [{"ports": [{"port": "15008", "protocol": "TCP"}]}],
    }
    docs.append(cnp_doc(f"meshdoctor-allow-{name}-{svc.name}-hbone", server, "ingress", [entry]))
    title = (
        f"waypoint {ns}/{name} for Service {ns}/{svc.name}: its HTTP rules move to an AuthorizationPolicy the "
        "waypoint enforces, and 15008 admits the waypoint, not the client"
    )
    return title, tuple(to_yaml(d) for d in docs), ()


def _leave_ambient(raw: RawSnapshot, namespaces: list[str]) -> tuple[str, ...]:
    out = []
    for ns in namespaces:
        doc = _doc(raw, "Namespace", None, ns)
        if doc is None:
            return ()
        cleaned = _clean(doc)
        labels = {k: v for k, v in (cleaned["metadata"].get("labels") or {}).items() if k != "istio.io/dataplane-mode"}
        cleaned["metadata"]["labels"] = labels
        out.append(to_yaml(cleaned))
    return tuple(out)
