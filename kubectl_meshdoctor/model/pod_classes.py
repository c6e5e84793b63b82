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

from typing import Any

from kubectl_meshdoctor.model.objects import Pod, Workload
from kubectl_meshdoctor.model.raw_memo import RawMemo
from kubectl_meshdoctor.model.readers import PodParts, pod_ready, read_pod, str_map
from kubectl_meshdoctor.raw import json_key


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
        self.identity: dict[str, str] = {}
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
    """``read_pod(doc, origin)`` and the pod's class (None: read alone); model/build.py's finish()
    gives the pod its identity."""
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
        key = json_key(raw)
        cls: PodClass | None = classes.find(key, raw) if key is not None else None
        if cls is None:
            return _first_of_class(doc, origin, classes, key, raw)
        status = doc.get("status") or {}
        ready = pod_ready(status)
        annotations = meta.get("annotations")
        ports, containers, init_names, native = cls.parts
        owner_kind, owner_name, probes, uids = cls.owner
        pod = Pod(  # positional: the fields of Pod, in their order
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
