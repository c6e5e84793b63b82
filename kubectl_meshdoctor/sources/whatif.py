"""What-if: apply manifests (create or replace by kind/namespace/name) or delete objects in
memory, before the model is built. Nothing is sent to a cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.sources.decode import decode_documents

KIND_ALIASES = {
    "cnp": "CiliumNetworkPolicy",
    "ciliumnetworkpolicy": "CiliumNetworkPolicy",
    "ccnp": "CiliumClusterwideNetworkPolicy",
    "ciliumclusterwidenetworkpolicy": "CiliumClusterwideNetworkPolicy",
    "netpol": "NetworkPolicy",
    "networkpolicy": "NetworkPolicy",
    "pa": "PeerAuthentication",
    "peerauthentication": "PeerAuthentication",
    "ap": "AuthorizationPolicy",
    "authorizationpolicy": "AuthorizationPolicy",
    "dr": "DestinationRule",
    "destinationrule": "DestinationRule",
    "vs": "VirtualService",
    "virtualservice": "VirtualService",
    "se": "ServiceEntry",
    "serviceentry": "ServiceEntry",
    "sidecar": "Sidecar",
    "ns": "Namespace",
    "namespace": "Namespace",
    "pod": "Pod",
    "po": "Pod",
    "deploy": "Deployment",
    "deployment": "Deployment",
    "svc": "Service",
    "service": "Service",
    "cm": "ConfigMap",
    "configmap": "ConfigMap",
    "gateway": "Gateway",
    "gw": "Gateway",
    "httproute": "HTTPRoute",
}
CLUSTER_SCOPED = {"Namespace", "CiliumClusterwideNetworkPolicy", "Node"}


@dataclass(frozen=True, slots=True)
class Change:
    action: str  # "apply" | "delete"
    kind: str
    namespace: str | None
    name: str
    obj: RawObject | None = None

    def describe(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.action} {self.kind} {ns}{self.name}"


def _key(kind: str, namespace: str | None, name: str) -> tuple[str, str | None, str]:
    return kind.lower(), (None if kind in CLUSTER_SCOPED else (namespace or "default")), name


def changes_from_text(text: str, origin: str) -> list[Change]:
    """The objects of one manifest text (a --what-if file, or a fix's YAML) as apply changes."""
    objects, gaps = decode_documents(text, origin)
    if gaps and not objects:
        raise UsageError(f"--what-if {origin!r}: {gaps[0]}")
    if not objects:
        raise UsageError(f"--what-if {origin!r}: no Kubernetes objects in the file")
    changes = []
    for obj in objects:
        meta = obj.doc.get("metadata") or {}
        kind = str(obj.doc.get("kind"))
        ns = None if kind in CLUSTER_SCOPED else (meta.get("namespace") or "default")
        changes.append(Change("apply", kind, ns, str(meta.get("name", "")), obj))
    return changes


def read_changes(files: tuple[str, ...], deletes: tuple[str, ...]) -> list[Change]:
    changes: list[Change] = []
    for file in files:
        path = Path(file)
        if not path.exists():
            raise UsageError(f"--what-if {file!r}: no such file")
        if path.is_dir():
            raise UsageError(f"--what-if {file!r}: is a directory; give the manifest files")
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise UsageError(f"--what-if {file!r}: cannot read: {err}") from None
        changes.extend(changes_from_text(text, file))
    for text in deletes:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"--what-if-delete {text!r}: use KIND/NS/NAME (or KIND/NAME for cluster-scoped kinds)")
        kind = KIND_ALIASES.get(parts[0].lower(), parts[0])
        ns, name = (parts[1], parts[2]) if len(parts) == 3 else (None, parts[1])
        changes.append(Change("delete", kind, ns, name))
    return changes


def apply_changes(raw: RawSnapshot, changes: list[Change]) -> tuple[RawSnapshot, list[str]]:
    """Create or replace by kind/namespace/name; delete must name an existing object."""
    objects = list(raw.objects)
    index = {
        _key(
            str(o.doc.get("kind")),
            (o.doc.get("metadata") or {}).get("namespace"),
            str((o.doc.get("metadata") or {}).get("name", "")),
        ): i
        for i, o in enumerate(objects)
    }
    applied: list[str] = []
    removed: set[int] = set()
    for change in changes:
        key = _key(change.kind, change.namespace, change.name)
        pos = index.get(key)
        if change.action == "delete":
            if pos is None or pos in removed:
                raise UsageError(f"--what-if-delete: {change.kind} {change.namespace or ''}/{change.name} not found")
            removed.add(pos)
            applied.append(change.describe())
            continue
        assert change.obj is not None
        if pos is None or pos in removed:
            index[key] = len(objects)
            objects.append(change.obj)
            applied.append(f"create {change.describe().split(' ', 1)[1]}")
        else:
            objects[pos] = change.obj
            applied.append(f"replace {change.describe().split(' ', 1)[1]}")
    kept = [o for i, o in enumerate(objects) if i not in removed]
    touched = {c.name for c in changes if c.kind == "Namespace"}
    if touched:
        kept = _settle_ambient(kept, touched)
    waypoints = [c for c in changes if c.kind == "Gateway" and c.action == "apply" and c.obj is not None]
    if waypoints:
        kept = _deploy_waypoints(kept, waypoints)
    return (
        RawSnapshot(kept, raw.flows, list(raw.gaps), list(raw.warnings), raw.flow_source),
        applied,
    )


_MODE = "istio.io/dataplane-mode"
_REDIRECT = "ambient.istio.io/redirection"


def _settle_ambient(objects: list[RawObject], namespaces: set[str]) -> list[RawObject]:
    """After a namespace's ambient label changes, istio-cni (un)captures its pods: mirror that on the
    pods' redirection annotation so the model shows the settled state (A6, C1.3 A3)."""
    labels = {
        str((o.doc.get("metadata") or {}).get("name")): (o.doc.get("metadata") or {}).get("labels") or {}
        for o in objects
        if o.doc.get("kind") == "Namespace"
    }
    out = []
    for obj in objects:
        meta = obj.doc.get("metadata") or {}
        ns = meta.get("namespace")
        if obj.doc.get("kind") != "Pod" or ns not in namespaces:
            out.append(obj)
            continue
        pod_mode = (meta.get("labels") or {}).get(_MODE)
        names = [c.get("name") for c in (obj.doc.get("spec") or {}).get("containers") or []]
        enrolled = pod_mode == "ambient" or (pod_mode != "none" and labels.get(ns, {}).get(_MODE) == "ambient")
        annotations = dict(meta.get("annotations") or {})
        if enrolled and "istio-proxy" not in names:
            annotations[_REDIRECT] = "enabled"
        else:
            annotations.pop(_REDIRECT, None)
        doc = {**obj.doc, "metadata": {**meta, "annotations": annotations}}
        out.append(RawObject(doc, obj.origin))
    return out


_GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"


def _deploy_waypoints(objects: list[RawObject], gateways: list[Change]) -> list[RawObject]:
    """A waypoint Gateway applied in memory: Istio deploys its Deployment, a ready pod and its
    Service (as ``istioctl waypoint apply`` does); mirror that so the model shows the settled state."""
    out = list(objects)
    for change in gateways:
        assert change.obj is not None
        if (change.obj.doc.get("spec") or {}).get("gatewayClassName") != "istio-waypoint":
            continue
        ns, name = change.namespace or "default", change.name
        if any(
            o.doc.get("kind") == "Pod"
            and (o.doc.get("metadata") or {}).get("namespace") == ns
            and ((o.doc.get("metadata") or {}).get("labels") or {}).get(_GATEWAY_NAME) == name
            for o in objects
        ):
            continue
        origin = f"what-if: deployed by Istio for Gateway {ns}/{name}"
        labels = {_GATEWAY_NAME: name, "gateway.istio.io/managed": "istio.io-mesh-controller"}
        pod_labels = {**labels, "istio.io/dataplane-mode": "none"}
        ports = [{"containerPort": 15008, "name": "hbone", "protocol": "TCP"}]
        container = {"name": "istio-proxy", "image": "istio/proxyv2", "ports": ports}
        template = {"metadata": {"labels": pod_labels}, "spec": {"serviceAccountName": name, "containers": [container]}}
        deploy_spec = {"replicas": 1, "selector": {"matchLabels": {_GATEWAY_NAME: name}}, "template": template}
        meta = {"name": name, "namespace": ns, "labels": labels}
        out.append(
            RawObject({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": deploy_spec}, origin)
        )
        pod_meta = {"name": f"{name}-whatif", "namespace": ns, "labels": pod_labels}
        status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template["spec"], "status": status}
        out.append(RawObject(pod, origin))
        svc_spec = {
            "selector": {_GATEWAY_NAME: name},
            "ports": [{"name": "mesh", "port": 15008, "protocol": "TCP", "targetPort": 15008}],
        }
        out.append(RawObject({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": svc_spec}, origin))
    return out
