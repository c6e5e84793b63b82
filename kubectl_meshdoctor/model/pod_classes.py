"""The replicas of one pod template, read once (model/build.py reads every Pod through ``read_classed``).

At 50,000 pods most of a pod is what its template gave it: namespace, labels, service account,
containers, ``hostNetwork`` and the owner. A pod's *class* is the raw values these fields are read
from; the pods of one class get the same model values (shared, as ``Identities`` shares identities:
the model never changes a pod's labels in place), and model/build.py attaches the pods of a class
to their workload and gives them their identity once. Only a pod's name, IP, node, readiness and
annotations are read per pod.

A class is found by the strict JSON text of those raw values and ``==`` on the values themselves
(``raw.json_key``, as ``RawMemo``: 1, 1.0 and true differ, NaN is never reused). What
``read_classed`` returns is what ``read_pod`` returns for the pod read alone; when anything fails on
the way, the pod is read alone, so a malformed one fails with the error it fails with alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from orjson import dumps

from kubectl_meshdoctor.model.objects import ContainerPort, Pod, Workload
from kubectl_meshdoctor.model.raw_memo import RawMemo
from kubectl_meshdoctor.model.readers import PodParts, read_pod, str_map
from kubectl_meshdoctor.raw import STRICT_JSON

PENDING_IDENTITY: dict[str, str] = {}  # a pod's identity until model/build.py's finish() gives it its own

_new = object.__new__


def _make_pod(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    service_account: str,
    ip: str | None,
    node: str | None,
    ports: tuple[ContainerPort, ...],
    containers: tuple[str, ...],
    init_containers: tuple[str, ...],
    native_sidecars: tuple[str, ...],
    host_network: bool,
    ready: bool,
    owner_kind: str | None,
    owner_name: str | None,
    origin: str | None,
    probe_ports: tuple[int | str, ...],
    uid_1337: tuple[str, ...],
) -> Pod:
    """``Pod(...)`` with these fields and the others' defaults (identity ``PENDING_IDENTITY``),
    each field set as the dataclass's ``__init__`` sets it, without a type call's dispatch."""
    pod: Pod = _new(Pod)
    pod.namespace = namespace
    pod.name = name
    pod.labels = labels
    pod.annotations = annotations
    pod.service_account = service_account
    pod.ip = ip
    pod.node = node
    pod.ports = ports
    pod.containers = containers
    pod.init_containers = init_containers
    pod.native_sidecars = native_sidecars
    pod.host_network = host_network
    pod.ready = ready
    pod.owner_kind = owner_kind
    pod.owner_name = owner_name
    pod.origin = origin
    pod.probe_ports = probe_ports
    pod.uid_1337 = uid_1337
    pod.workload_kind = "Pod"
    pod.workload_name = ""
    pod.identity = PENDING_IDENTITY
    pod.inferred = False
    return pod


def _pod_of(*fields: Any) -> Pod:
    pod = Pod(*fields)
    pod.identity = PENDING_IDENTITY
    return pod


_FIELDS = tuple((f.name, f.default) for f in dataclasses.fields(Pod))
_SET_HERE = _make_pod.__code__.co_varnames[: _make_pod.__code__.co_argcount]
# Pod's own constructor when its fields are no longer the ones _make_pod sets
make_pod: Callable[..., Pod] = (
    _make_pod
    if tuple(name for name, _ in _FIELDS) == (*_SET_HERE, "workload_kind", "workload_name", "identity", "inferred")
    and [default for _, default in _FIELDS[-4:]] == ["Pod", "", dataclasses.MISSING, False]
    else _pod_of
)


class PodClass:
    """What the pods of one class share (read from its first pod) and, once model/build.py's
    finish() has seen its first pod, the identity, workload and namespace list of all of them."""

    __slots__ = (
        "host_network",
        "identity",
        "labels",
        "namespace",
        "ns_pods",
        "owner",
        "parts",
        "seen",
        "service_account",
        "workload",
    )

    def __init__(self, pod: Pod) -> None:
        self.namespace = pod.namespace
        self.labels = pod.labels
        self.service_account = pod.service_account
        self.parts = (pod.ports, pod.containers, pod.init_containers, pod.native_sidecars)
        self.host_network = pod.host_network
        self.owner = (pod.owner_kind, pod.owner_name, pod.probe_ports, pod.uid_1337)
        self.seen = False  # by finish(), which then sets the three below
        self.identity: dict[str, str] = PENDING_IDENTITY
        self.workload: Workload | None = None
        self.ns_pods: list[Pod] = []


class PodClasses(RawMemo):
    """The classes one build has seen (bounded, as every RawMemo), with the parts of pods of no class."""

    __slots__ = ("no_annotations", "parts")
    LIMIT = 4096

    def __init__(self) -> None:
        super().__init__()
        self.parts = PodParts()  # a class per pod (a label naming the pod): the replicas still share parts
        self.no_annotations: dict[str, str] = {}  # the annotations of every pod of a class without any


def read_classed(doc: dict[str, Any], origin: str | None, classes: PodClasses) -> tuple[Pod, PodClass | None]:
    """``read_pod(doc, origin)`` and the pod's class (None: read alone). Its identity is
    ``PENDING_IDENTITY`` until model/build.py's finish() gives it its own."""
    try:
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        spec = doc.get("spec") or {}
        refs = meta.get("ownerReferences")
        owner = (refs[0] if type(refs) is list and refs else next(iter(refs or []), None)) or {}
        raw = [
            meta.get("namespace"),
            meta.get("labels"),
            spec.get("serviceAccountName") or spec.get("serviceAccount"),  # read_pod reads the second only then
            spec.get("containers"),
            spec.get("initContainers"),
            spec.get("securityContext"),
            spec.get("hostNetwork"),
            owner.get("kind"),
            owner.get("name"),
        ]
        try:  # raw.json_key, inline
            key: bytes | None = dumps(raw, option=STRICT_JSON)
        except TypeError:
            key = None
        seen = classes.held.get(key) if key is not None else None
        if seen is None or seen[0] != raw:
            return _first_of_class(doc, origin, classes, key, raw)
        cls: PodClass = seen[1]
        status = doc.get("status") or {}
        ready = status.get("phase", "Running") == "Running"  # readers.pod_ready, inline
        if ready:
            for c in status.get("conditions") or []:
                if isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") != "True":
                    ready = False
                    break
        annotations = meta.get("annotations")
        ports, containers, init_names, native = cls.parts
        owner_kind, owner_name, probes, uids = cls.owner
        pod = make_pod(  # positional: the fields of Pod, in their order
            cls.namespace,
            str(meta.get("name", "")),
            cls.labels,
            classes.no_annotations if annotations is None else str_map(annotations),
            cls.service_account,
            status.get("podIP"),
            spec.get("nodeName"),
            ports,
            containers,
            init_names,
            native,
            cls.host_network,
            ready,
            owner_kind,
            owner_name,
            origin,
            probes,
            uids,
        )
    except Exception:  # read alone: the error of the pod read alone
        return read_pod(doc, origin), None
    return pod, cls


def _first_of_class(
    doc: dict[str, Any], origin: str | None, classes: PodClasses, key: bytes | None, raw: list[Any]
) -> tuple[Pod, PodClass | None]:
    """The pod read alone, and a new class of it when its owner's kind and name are strings or
    missing (finish() attaches such classes at once)."""
    pod = read_pod(doc, origin, classes.parts)
    kind, name = raw[-2], raw[-1]
    if key is None or not (kind is None or type(kind) is str) or not (name is None or type(name) is str):
        return pod, None
    cls = PodClass(pod)
    classes.keep(key, raw, cls)
    return pod, cls
