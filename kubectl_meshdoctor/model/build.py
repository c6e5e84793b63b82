"""RawSnapshot -> Model (model/view.py). The only place raw dicts are read; unknown kinds -> gaps."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from kubectl_meshdoctor.findings.types import Gap
from kubectl_meshdoctor.model.canonical import canonical_order
from kubectl_meshdoctor.model.cilium_parse import PolicyInvalid, parse_cnp, parse_knp
from kubectl_meshdoctor.model.config import CiliumConfig
from kubectl_meshdoctor.model.egress_gateway import READ_KINDS as EGRESS_KINDS
from kubectl_meshdoctor.model.egress_gateway import read as read_egress
from kubectl_meshdoctor.model.gateway_api import KINDS as GATEWAY_API_KINDS
from kubectl_meshdoctor.model.gateway_api_parse import read as read_gateway_api
from kubectl_meshdoctor.model.identities import Identities
from kubectl_meshdoctor.model.ingress import POLICY_KINDS, policy_listeners
from kubectl_meshdoctor.model.ingress import READ_KINDS as INGRESS_KINDS
from kubectl_meshdoctor.model.ingress import read as read_ingress
from kubectl_meshdoctor.model.istio import parse_ap, parse_dr, parse_mesh_config, parse_pa
from kubectl_meshdoctor.model.istio_export import default_export_to
from kubectl_meshdoctor.model.istio_traffic import TRAFFIC_KINDS, add_traffic_object, outbound_policy
from kubectl_meshdoctor.model.objects import (
    Namespace,
    Pod,
    Workload,
)
from kubectl_meshdoctor.model.pod_classes import PodClass, PodClasses, read_classed
from kubectl_meshdoctor.model.raw_memo import RawMemo
from kubectl_meshdoctor.model.readers import meta_of, read_pod, read_service, ref_of, str_map
from kubectl_meshdoctor.model.validity import invalid_cause, invalid_gap, unreadable_gap
from kubectl_meshdoctor.model.view import Model as Model  # re-exported: built here, defined there
from kubectl_meshdoctor.model.workloads import (
    PodTemplate,
    TemplateFields,
    inferred_pod_doc,
    inferred_warning,
    template_fields,
    templates_to_infer,
)
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.validation import Validator

_IGNORED_KINDS = frozenset(
    {
        "ServiceAccount",
        "Secret",
        "Event",
        "Node",
        "ControllerRevision",
        "Lease",
        "CustomResourceDefinition",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "CiliumEndpoint",
        "CiliumIdentity",
        "CiliumNode",
    }
)
_ISTIO_NOT_EVALUATED = frozenset(
    {
        "RequestAuthentication",
        "Telemetry",
        "EnvoyFilter",
        "WorkloadEntry",
        "WorkloadGroup",
        "TCPRoute",
        "ProxyConfig",
        "WasmPlugin",
    }
)
_ALSO_READ_BELOW = TRAFFIC_KINDS | _ISTIO_NOT_EVALUATED  # Gateway/HTTPRoute (issue 7), TCPRoute gaps
_HASH_SUFFIX = re.compile(r"-[a-z0-9]{5,10}$")


class _Builder:
    def __init__(self, snap: RawSnapshot, validator: Validator | None) -> None:
        self.snap = snap
        self.validator = validator or Validator()
        # app_validate's optimistic build: every object is validated elsewhere, its validator says nothing
        self.trusting = getattr(self.validator, "validates_nothing", False) is True
        self.m = Model(
            gaps=list(snap.gaps), warnings=list(snap.warnings), flows=snap.flows, flow_source=snap.flow_source
        )
        self.replicasets: dict[tuple[str, str], tuple[str, str] | None] = {}
        self.slices: list[tuple[RawObject, str]] = []
        self.unknown: dict[str, list[str]] = defaultdict(list)
        self.policies: list[tuple[str, RawObject]] = []
        self.templates: list[TemplateFields] = []  # made into PodTemplates only to infer pods
        self.pod_classes = PodClasses()  # the replicas of a workload: one template, read once
        self.pod_class: dict[str, PodClass | None] = {}  # the class of each pod in model.pods, in its order
        self.policy_memo = RawMemo()  # the policies of a cluster repeat peers and subjects

    def run(self) -> Model:
        # canonical order: the same objects give the same model (pods, rules, "first" choices)
        # whatever order a file, an API server (by name) or a test listed them in
        trusting, kinds_seen, add_pod = self.trusting, self.m.kinds_seen, self.add_pod
        for obj in canonical_order(self.snap.objects):
            doc = obj.doc
            kind = str(doc.get("kind"))
            if kind != "Pod" or not trusting:
                self.checked(obj, kind)
                continue
            kinds_seen.add(kind)  # checked() for a Pod with nothing to validate, inline: most objects at scale
            try:
                add_pod(doc, obj.origin)
            except Exception as err:  # see checked()
                self.m.gaps.append(unreadable_gap(ref_of(kind, doc, obj.origin), err))
        self.finish()
        return self.m

    def checked(self, obj: RawObject, kind: str) -> None:
        """Validate, then read one object; an invalid one is reported and left out (the cluster would
        not have it), and any failure reading one object leaves that object out with a gap.
        ``kind``: ``str(obj.doc.get("kind"))``."""
        self.m.kinds_seen.add(kind)
        try:
            violations = None if self.trusting else self.validator.validate(obj.doc)
            if violations:
                ref = ref_of(kind, obj.doc, obj.origin)
                self.m.invalid.append(invalid_cause(ref, violations))
                self.m.gaps.append(invalid_gap(ref, violations))
                return
            self.add(obj, kind)
        except Exception as err:  # one object's failure is a gap naming it, never an internal error
            self.m.gaps.append(unreadable_gap(ref_of(kind, obj.doc, obj.origin), err))

    def add(self, obj: RawObject, kind: str) -> None:
        """``kind``: ``str(obj.doc.get("kind"))``, as checked() read it."""
        doc, origin = obj.doc, obj.origin
        m = self.m
        if kind == "Pod":  # most objects at scale; no pod template nor any reader below takes a Pod
            self.add_pod(doc, origin)
            return
        if kind in POLICY_KINDS:  # next at scale; read in finish(), after every pod and namespace
            policy_listeners(m.ingress, doc, lambda: ref_of(kind, doc, origin))  # ingress.read's part
            self.policies.append((kind, obj))
            return
        meta = meta_of(doc)
        pod_tpl = template_fields(doc, origin)
        if pod_tpl is not None:
            self.templates.append(pod_tpl)
        if (
            kind in GATEWAY_API_KINDS  # the reader's own first test, before a reference is made for every object
            and read_gateway_api(m.gateway_api, doc, ref_of(kind, doc, origin))
            and kind not in _ALSO_READ_BELOW
        ):
            return  # Gateway API kinds only the north-south walk reads (issue 20)
        if kind in INGRESS_KINDS and read_ingress(m.ingress, doc, ref_of(kind, doc, origin)):
            return  # Ingress, IngressClass, Cilium's Envoy configs (issue 20)
        if kind in EGRESS_KINDS and read_egress(m.egress, doc, ref_of(kind, doc, origin)):
            return  # egress gateway policies and the nodes they pick (issue 20 §5)
        if kind == "Namespace":
            name = str(meta.get("name", ""))
            labels = str_map(meta.get("labels"))
            labels.setdefault("kubernetes.io/metadata.name", name)
            m.namespaces[name] = Namespace(name, labels, origin)
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            spec = doc.get("spec") or {}
            template = (spec.get("template") or {}).get("spec") or {}
            w = Workload(
                str(meta.get("namespace") or "default"),
                str(meta.get("name", "")),
                kind,
                str_map((spec.get("selector") or {}).get("matchLabels")),
                bool(template.get("hostNetwork")),
                origin,
            )
            m.workloads[(w.namespace, w.name)] = w
            if kind == "DaemonSet":
                m.daemonsets[f"{w.namespace}/{w.name}"] = w
        elif kind == "ReplicaSet":
            owner = next(iter(meta.get("ownerReferences") or []), None)
            key = (str(meta.get("namespace") or "default"), str(meta.get("name", "")))
            self.replicasets[key] = (str(owner.get("kind")), str(owner.get("name"))) if owner else None
        elif kind in ("Job", "CronJob"):
            pass  # only their pod templates matter (infer_pods)
        elif kind == "Service":
            svc = read_service(doc, origin)
            m.services[f"{svc.namespace}/{svc.name}"] = svc
        elif kind in ("EndpointSlice", "Endpoints"):
            self.slices.append((obj, kind))
        elif kind in ("NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
            self.policies.append((kind, obj))
        elif kind == "PeerAuthentication":
            m.istio.peer_authns.append(parse_pa(doc, ref_of(kind, doc, origin)))
        elif kind == "AuthorizationPolicy":
            m.istio.authz.append(parse_ap(doc, ref_of(kind, doc, origin)))
        elif kind == "DestinationRule":
            m.istio.dest_rules.append(parse_dr(doc, ref_of(kind, doc, origin)))
            add_traffic_object(m.traffic, doc, ref_of(kind, doc, origin))
        elif kind in TRAFFIC_KINDS and add_traffic_object(m.traffic, doc, ref_of(kind, doc, origin)):
            pass
        elif kind == "ConfigMap":
            self.configmap(doc, origin)
        elif kind in _ISTIO_NOT_EVALUATED:
            m.istio.other_kinds[kind] = m.istio.other_kinds.get(kind, 0) + 1
        elif kind not in _IGNORED_KINDS:
            self.unknown[kind].append(origin or ref_of(kind, doc, origin).name)

    def add_pod(self, doc: dict[str, Any], origin: str | None) -> None:
        pod, cls = read_classed(doc, origin, self.pod_classes)
        pod_key = pod.key()
        self.m.pods[pod_key] = pod
        self.pod_class[pod_key] = cls  # the same keys in the same order as model.pods

    def configmap(self, doc: dict[str, Any], origin: str | None) -> None:
        meta = meta_of(doc)
        ns, name = meta.get("namespace"), meta.get("name")
        data = str_map(doc.get("data"))
        if name == "cilium-config":
            self.m.cilium_config = CiliumConfig(data, True, ref_of("ConfigMap", doc, origin))
        elif name == "istio" and "mesh" in data:
            self.m.istio.mesh = parse_mesh_config(data["mesh"], ref_of("ConfigMap", doc, origin))
            self.m.traffic.outbound_policy = outbound_policy(data["mesh"])
            self.m.traffic.outbound_ref = ref_of("ConfigMap", doc, origin)
            self.m.traffic.default_export = default_export_to(data["mesh"])
        _ = ns

    def finish(self) -> None:
        m = self.m
        identities = Identities(m.cilium_config.get("cluster-name", "default") or "default", m.ns_labels)
        self.infer_pods()
        attached: dict[tuple[str, str, str, str | None], Workload | None] = {}
        by_ip = m.pods_by_ip
        for pod, cls in zip(m.pods.values(), self.pod_class.values(), strict=True):
            if cls is None:
                self.attach_shared(pod, attached)
                if pod.inferred and pod.workload_kind == "Pod" and pod.owner_kind and pod.owner_name:
                    self.attach_inferred(pod, pod.owner_kind, pod.owner_name)
                pod.identity = identities.of(pod)
                m.pods_by_ns[pod.namespace].append(pod)
            elif cls.seen:  # the workload, identity and namespace of the class's first pod: what each would find
                _join(pod, cls.workload)
                pod.identity = cls.identity
                cls.ns_pods.append(pod)
            else:
                self.first_of_class(pod, cls, identities, attached)
            ip = pod.ip  # an IP a finished pod left: the running one has it
            if ip and not pod.host_network:
                held = by_ip.setdefault(ip, pod)
                if held is not pod and pod.ready and not held.ready:
                    by_ip[ip] = pod
        for obj, kind in self.slices:
            try:
                self.endpoints(obj, kind)
            except Exception as err:  # see checked()
                m.gaps.append(unreadable_gap(ref_of(kind, obj.doc, obj.origin), err))
        for svc in m.services.values():
            m.services_by_ns[svc.namespace].append(svc)
        for kind, obj in self.policies:
            try:
                self.policy(kind, obj)
            except Exception as err:  # see checked()
                m.gaps.append(unreadable_gap(ref_of(kind, obj.doc, obj.origin), err))
        for kind, origins in sorted(self.unknown.items()):
            m.gaps.append(f"{len(origins)} object(s) of unknown kind {kind} skipped (first: {origins[0]})")
        for kind, count in sorted(m.istio.other_kinds.items()):
            if count:
                m.gaps.append(Gap(f"{count} Istio {kind} object(s) present: not modelled yet", {kind}))
        if not m.cilium_config.present:
            m.gaps.append("ConfigMap kube-system/cilium-config not available: Cilium agent defaults assumed")

    def first_of_class(
        self,
        pod: Pod,
        cls: PodClass,
        identities: Identities,
        attached: dict[tuple[str, str, str, str | None], Workload | None],
    ) -> None:
        """The first pod of a class in finish(): what attach_shared and ``identities.of`` give the
        pods of the class depends on what the class fixes only (namespace, owner, labels, service
        account), so the other pods take it from the class."""
        self.attach_shared(pod, attached)
        kind, name = pod.owner_kind, pod.owner_name
        if type(kind) is str and type(name) is str:
            cls.workload = attached[(pod.namespace, kind, name, pod.labels.get("pod-template-hash"))]
        else:  # a class's owner kind and name are strings or missing: no workload, for any of its pods
            cls.workload = None
        cls.identity = pod.identity = identities.of(pod)
        cls.ns_pods = self.m.pods_by_ns[pod.namespace]
        cls.ns_pods.append(pod)
        cls.seen = True

    def infer_pods(self) -> None:
        """Item 9: manifests without any Pod (a GitOps repo): each workload template stands for its pods."""
        if "Pod" in self.m.kinds_seen or not self.templates:
            return
        chosen, notes = templates_to_infer([PodTemplate(*fields) for fields in self.templates])
        for t in chosen:
            pod = read_pod(inferred_pod_doc(t), t.origin)
            pod.inferred = True
            self.m.pods[pod.key()] = pod
            self.pod_class[pod.key()] = None
        if chosen:
            self.m.warnings.append(inferred_warning(chosen))
        self.m.warnings.extend(notes)

    def attach_inferred(self, pod: Pod, kind: str, name: str) -> None:
        """Inferred pods of a ReplicaSet, Job or CronJob: that controller is the workload."""
        w = self.m.workloads.get((pod.namespace, name))
        if w is None:
            w = Workload(pod.namespace, name, kind, dict(pod.labels), pod.host_network, pod.origin)
            self.m.workloads[(pod.namespace, name)] = w
        w.pods.append(pod)
        pod.workload_kind, pod.workload_name = w.kind, w.name

    def attach_shared(self, pod: Pod, attached: dict[tuple[str, str, str, str | None], Workload | None]) -> None:
        """``attach_workload``, once per namespace, owner and pod-template-hash (the replicas of a
        workload): what it finds depends on these only, and a workload once made stays."""
        kind, name = pod.owner_kind, pod.owner_name
        if type(kind) is not str or type(name) is not str:
            self.attach_workload(pod)
            return
        key = (pod.namespace, kind, name, pod.labels.get("pod-template-hash"))
        if key not in attached:
            attached[key] = self.attach_workload(pod)
            return
        _join(pod, attached[key])

    def attach_workload(self, pod: Pod) -> Workload | None:
        """The pod's workload (made when only its pods name it), or None: the pod stands alone."""
        m = self.m
        kind, name = pod.owner_kind, pod.owner_name
        if kind == "ReplicaSet" and name:
            owner = self.replicasets.get((pod.namespace, name))
            if owner is not None:
                kind, name = owner
            elif (pod.namespace, name) not in self.replicasets:
                hashed = pod.labels.get("pod-template-hash")
                kind = "Deployment"
                name = (
                    name[: -len(hashed) - 1] if hashed and name.endswith("-" + hashed) else _HASH_SUFFIX.sub("", name)
                )
            else:
                kind = "ReplicaSet"
        if kind in ("Deployment", "StatefulSet", "DaemonSet") and name:
            w = m.workloads.get((pod.namespace, name))
            if w is None:
                w = Workload(pod.namespace, name, kind, {}, pod.host_network)
                m.workloads[(pod.namespace, name)] = w
            _join(pod, w)
            return w
        _join(pod, None)
        return None

    def endpoints(self, obj: RawObject, kind: str) -> None:
        doc = obj.doc
        meta = meta_of(doc)
        ns = str(meta.get("namespace") or "default")
        if kind == "EndpointSlice":
            svc_name = str_map(meta.get("labels")).get("kubernetes.io/service-name")
            addresses = [
                (e or {}) for e in doc.get("endpoints") or [] if ((e or {}).get("conditions") or {}).get("ready", True)
            ]
        else:
            svc_name = meta.get("name")
            addresses = [a for s in doc.get("subsets") or [] for a in (s or {}).get("addresses") or []]
        svc = self.m.services.get(f"{ns}/{svc_name}")
        if svc is None:
            return
        ready = svc.ready_pods if svc.ready_pods is not None else set()
        for a in addresses:
            target = a.get("targetRef") or {}
            if target.get("kind") == "Pod" and target.get("name"):
                ready.add(f"{target.get('namespace') or ns}/{target['name']}")
            for ip in a.get("addresses") or ([a.get("ip")] if a.get("ip") else []):
                pod = self.m.pods_by_ip.get(str(ip))
                if pod is not None:
                    ready.add(pod.key())
        svc.ready_pods = ready

    def policy(self, kind: str, obj: RawObject) -> None:
        m = self.m
        doc = obj.doc
        ref = ref_of(kind, doc, obj.origin)
        if kind == "NetworkPolicy" and not m.cilium_config.knp_enabled:
            m.warnings.append(f"{ref.key()} ignored: cilium-config enable-k8s-networkpolicy is false")
            return
        try:
            if kind == "NetworkPolicy":
                rules = parse_knp(doc, ref)
            else:
                rules = parse_cnp(
                    doc, ref, kind == "CiliumClusterwideNetworkPolicy", m.cilium.warnings, self.policy_memo
                )
        except (PolicyInvalid, TypeError, ValueError, AttributeError) as err:
            m.cilium.invalid.append((ref, str(err)))
            m.warnings.append(f"{ref.key()} is invalid and not enforced by Cilium: {err}")
            return
        for rule in rules:
            m.cilium.rules.append(rule)
            if rule.node_selector:
                continue  # host policies select nodes, not pods
            if rule.namespace is None:
                m.cluster_rules.append(rule)
            else:
                m.rules_by_ns[rule.namespace].append(rule)


def _join(pod: Pod, w: Workload | None) -> None:
    """The pod belongs to ``w``; None: it stands alone, its own workload."""
    if w is None:
        pod.workload_kind, pod.workload_name = "Pod", pod.name
    else:
        w.pods.append(pod)
        pod.workload_kind, pod.workload_name = w.kind, w.name


def build_model(snap: RawSnapshot, validator: Validator | None = None) -> Model:
    """``validator``: share one across builds to reuse its compiled schemas (a new one per call otherwise)."""
    return _Builder(snap, validator).run()
