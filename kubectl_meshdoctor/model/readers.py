"""One raw Pod or Service dict -> its model object (model/build.py calls these once per object).

At 50,000 pods this is the largest part of building a model, so each reader walks its dict once
and reuses equal immutable values (the pods of one workload declare the same container ports)
instead of making a new one per pod. What a reader returns is exactly what reading each field on
its own would give, for any input, valid or not.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.frozen import maker
from kubectl_meshdoctor.model.istio_export import service_export_to
from kubectl_meshdoctor.model.objects import ContainerPort, Pod, Service, ServicePort
from kubectl_meshdoctor.model.raw_memo import RawMemo
from kubectl_meshdoctor.raw import json_key

_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
_HANDLERS = ("httpGet", "tcpSocket", "grpc")


def meta_of(doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc.get("metadata")
    return meta if isinstance(meta, dict) else {}


def str_map(raw: Any) -> dict[str, str]:
    if type(raw) is dict:  # labels as read: every key and value a str already, so a copy is the answer
        for k, v in raw.items():
            if type(k) is not str or type(v) is not str:
                break
        else:
            return raw.copy()
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


_object_ref = maker(ObjectRef)  # ObjectRef(...) with every field given, as fast as an unfrozen one


def ref_of(kind: str, doc: dict[str, Any], origin: str | None) -> ObjectRef:
    meta = meta_of(doc)
    ns = meta.get("namespace")
    return _object_ref(kind, str(ns) if ns else None, str(meta.get("name", "")), None, origin)


# bounded, and of immutable values only: sharing one instance between pods changes nothing
# (typed: 80 and 80.0 stay apart); a value that cannot be a key (a list where a name belongs, in
# an object no schema checked) gets its own instance
_shared_container_port = lru_cache(maxsize=4096, typed=True)(ContainerPort)
_shared_service_port = lru_cache(maxsize=4096, typed=True)(ServicePort)


def _container_port(name: Any, port: int, protocol: str, container: str) -> ContainerPort:
    try:
        return _shared_container_port(name, port, protocol, container)
    except TypeError:
        return ContainerPort(name, port, protocol, container)


def _service_port(name: Any, port: int, target: int | str, protocol: str, app_protocol: str | None) -> ServicePort:
    try:
        return _shared_service_port(name, port, target, protocol, app_protocol)
    except TypeError:
        return ServicePort(name, port, target, protocol, app_protocol)


def container_ports(spec: dict[str, Any]) -> tuple[ContainerPort, ...]:
    out = []
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for p in (c or {}).get("ports") or []:
            if isinstance(p, dict):
                number = p.get("containerPort")
                if number is not None:
                    port = int(number)
                    out.append(
                        _container_port(p.get("name"), port, str(p.get("protocol") or "TCP"), str(c.get("name", "")))
                    )
    return tuple(out)


def probe_ports(containers: list[Any]) -> tuple[int | str, ...]:
    out: list[int | str] = []
    for c in containers:
        if not c:
            continue
        for key in _PROBES:
            probe = c.get(key)
            if not probe:
                continue
            for kind in _HANDLERS:
                handler = probe.get(kind)
                port = handler.get("port") if handler else None
                if port is not None:
                    out.append(int(port) if str(port).isdigit() else str(port))
    return tuple(out)


def uid_1337(spec: dict[str, Any], containers: list[Any]) -> tuple[str, ...]:
    """App containers running as UID 1337: istio-init's iptables rules skip that UID's traffic."""
    pod_ctx = spec.get("securityContext")
    pod_uid = pod_ctx.get("runAsUser") if isinstance(pod_ctx, dict) else None
    out = []
    for c in containers:
        if not isinstance(c, dict) or c.get("name") == "istio-proxy":
            continue
        ctx = c.get("securityContext")
        uid = ctx.get("runAsUser", pod_uid) if isinstance(ctx, dict) else pod_uid
        if uid is not None and str(uid) == "1337":
            out.append(str(c.get("name", "")))
    return tuple(out)


def pod_ready(status: dict[str, Any]) -> bool:
    """Running, and no Ready condition other than True."""
    if status.get("phase", "Running") != "Running":
        return False
    for c in status.get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") != "True":
            return False
    return True


_Parts = tuple[
    tuple[str, ...], tuple[ContainerPort, ...], tuple[str, ...], tuple[str, ...], tuple[int | str, ...], tuple[str, ...]
]


class PodParts(RawMemo):
    """What a pod's containers say, read once for the replicas that declare the same containers.

    The key is the JSON text of the containers, the init containers and the pod's securityContext
    (everything these parts are read from; ``raw.json_key``). Equal text, with the values also
    equal, means equal types and values (1, 1.0 and true differ in the text; NaN is never equal; a
    value JSON cannot hold is never remembered), so the parts read for one pod are the parts of the
    other."""

    __slots__ = ()
    LIMIT = 4096


def read_pod(doc: dict[str, Any], origin: str | None, parts: PodParts | None = None) -> Pod:
    """``parts``: share the container parts between the pods of one build (model/build.py); a pod's
    fields are read in the same order either way, so a malformed one fails with the same error."""
    meta = doc.get("metadata")  # meta_of, inline: at 50,000 pods every call counts
    if not isinstance(meta, dict):
        meta = {}
    spec = doc.get("spec") or {}
    status = doc.get("status") or {}
    owner = next(iter(meta.get("ownerReferences") or []), None) or {}
    raw_containers = spec.get("containers") or []
    inits = spec.get("initContainers") or []
    raw = [raw_containers, inits, spec.get("securityContext")]
    key = json_key(raw) if parts is not None else None
    held: _Parts | None = parts.find(key, raw) if parts is not None and key is not None else None
    if held is None:
        containers = tuple([str((c or {}).get("name", "")) for c in raw_containers])
    ready = pod_ready(status)
    labels, annotations = str_map(meta.get("labels")), meta.get("annotations")
    annotations = {} if annotations is None else str_map(annotations)  # most pods have none
    if held is None:
        ports = container_ports(spec)
        init_names = tuple([str((c or {}).get("name", "")) for c in inits])
        native = tuple([str(c.get("name", "")) for c in inits if (c or {}).get("restartPolicy") == "Always"])
        held = (containers, ports, init_names, native, probe_ports(raw_containers), uid_1337(spec, raw_containers))
        if parts is not None and key is not None:
            parts.keep(key, raw, held)
    containers, ports, init_names, native, probes, uids = held
    return Pod(  # positional: the fields of Pod, in their order
        str(meta.get("namespace") or "default"),
        str(meta.get("name", "")),
        labels,
        annotations,
        str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"),
        status.get("podIP"),
        spec.get("nodeName"),
        ports,
        containers,
        init_names,
        native,
        bool(spec.get("hostNetwork")),
        ready,
        owner.get("kind"),
        owner.get("name"),
        origin,
        probes,
        uids,
    )


def read_service(doc: dict[str, Any], origin: str | None) -> Service:
    meta = meta_of(doc)
    spec = doc.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        p = p or {}
        target = p.get("targetPort", p.get("port"))
        target_value: int | str = int(str(target)) if str(target).isdigit() else str(target)
        app_protocol = str(p["appProtocol"]) if p.get("appProtocol") else None
        protocol = str(p.get("protocol") or "TCP")
        ports.append(_service_port(p.get("name"), int(p.get("port") or 0), target_value, protocol, app_protocol))
    selector = spec.get("selector")
    ips = [spec.get("clusterIP"), *(spec.get("clusterIPs") or [])]
    cluster_ips = tuple(dict.fromkeys(str(ip) for ip in ips if isinstance(ip, str) and ip and ip != "None"))
    return Service(  # positional: the fields of Service, in their order
        str(meta.get("namespace") or "default"),
        str(meta.get("name", "")),
        str_map(selector) if isinstance(selector, dict) and selector else None,
        tuple(ports),
        spec.get("clusterIP"),
        str(spec.get("type") or "ClusterIP"),
        origin,
        None,
        cluster_ips,
        service_export_to(meta.get("annotations")),
        {} if (labels := meta.get("labels")) is None else str_map(labels),  # most Services have none
        str(spec["externalName"]) if spec.get("externalName") else None,
    )
