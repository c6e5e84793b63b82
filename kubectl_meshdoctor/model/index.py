"""Lookups over a built Model, made on first use and kept on it (habit 3: on the model, never in
globals). A Model is not changed once built (what-if builds a new one), so an index never goes
stale; lookups hand out new lists, so a caller may change what it gets.

Each index answers exactly what the scan it replaces answered, in the same order: pods by one
label (the shortest list of a selector's labels is filtered by the whole selector), Services by
the labels of the pod they select, the distinct Cilium identities of a namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubectl_meshdoctor.findings.types import Mesh
from kubectl_meshdoctor.model.cilium import PolicyRule
from kubectl_meshdoctor.model.objects import Pod, Service
from kubectl_meshdoctor.model.selectors import Selector

if TYPE_CHECKING:
    from kubectl_meshdoctor.model.view import Model

_Labels = frozenset[tuple[str, str]]


@dataclass(slots=True)
class ModelIndex:
    # namespace -> (label key, value) -> pods with that label, in model.pods_by_ns order (by namespace
    # on first use)
    pods_by_label: dict[str, dict[tuple[str, str], list[Pod]]] | None = None
    # (namespace, pod labels) -> the Services of that namespace selecting such a pod, by name
    services_by_labels: dict[tuple[str, _Labels], list[Service]] = field(default_factory=dict)
    # namespace -> its Services with a selector, sorted by name, with the selector's items (None:
    # names that cannot be sorted)
    services_by_name: dict[str, list[tuple[Service, tuple[tuple[str, str], ...]]] | None] = field(default_factory=dict)
    # id(pod) -> (pod, its services_by_labels answer); the pod is held so its id cannot be reused
    services_of_pod: dict[int, tuple[Pod, list[Service]]] = field(default_factory=dict)
    # namespace (None: every namespace) -> one identity per distinct label set
    identities: dict[str | None, list[Mapping[str, str]]] = field(default_factory=dict)
    representatives: list[Pod] | None = None  # checks.pairs.representatives
    # id(pod) -> (pod, Model.pod_mesh answer); the pod is held so its id cannot be reused
    meshes: dict[int, tuple[Pod, tuple[Mesh, str]]] = field(default_factory=dict)
    # id(selector) -> (selector, its first equality requirement on a label: key, values); see guard
    guards: dict[int, tuple[Selector, str | None, frozenset[object]]] = field(default_factory=dict)
    # namespace -> (its rules list, the clusterwide list, their lengths, each rule with its guard)
    guarded: dict[
        str,
        tuple[
            list[PolicyRule], list[PolicyRule], tuple[int, int], list[tuple[PolicyRule, str | None, frozenset[object]]]
        ],
    ] = field(default_factory=dict)


def _postings(model: Model, namespace: str) -> dict[tuple[str, str], list[Pod]]:
    """(label key, value) -> the pods of ``namespace`` with that label; made for a namespace when
    it is first asked about (a question about a few Services indexes only their namespaces)."""
    index = model.index.pods_by_label
    if index is None:
        index = model.index.pods_by_label = {}
    postings = index.get(namespace)
    if postings is None:
        postings = index[namespace] = {}
        for pod in model.pods_by_ns.get(namespace, ()):
            for item in pod.labels.items():
                found = postings.get(item)
                if found is None:
                    postings[item] = [pod]
                else:
                    found.append(pod)
    return postings


def pods_selected(model: Model, namespace: str, selector: Mapping[str, str]) -> list[Pod]:
    """The pods of ``namespace`` carrying every label of a non-empty equality ``selector``."""
    postings = _postings(model, namespace)
    if not postings:
        return []
    if len(selector) == 1:  # the posting holds exactly the pods with that label
        (item,) = selector.items()
        return list(postings.get(item, ()))
    candidates = min((postings.get(item, []) for item in selector.items()), key=len)
    return [p for p in candidates if all(p.labels.get(k) == v for k, v in selector.items())]


def any_pod_selected(model: Model, namespace: str | None, selector: Mapping[str, str]) -> bool:
    """Does some pod of ``namespace`` (None: of any namespace) carry every label of ``selector``?"""
    if not selector:
        return bool(model.pods_by_ns.get(namespace) if namespace is not None else model.pods)
    spaces = [namespace] if namespace is not None else list(model.pods_by_ns)
    return any(pods_selected(model, ns, selector) for ns in spaces)


def services_selecting(model: Model, pod: Pod) -> list[Service]:
    """The Services of the pod's namespace whose selector the pod's labels match, sorted by name."""
    held = model.index.services_of_pod.get(id(pod))
    if held is not None and held[0] is pod:  # asked for a pod again: no key to make
        return list(held[1])
    key = (pod.namespace, frozenset(pod.labels.items()))
    found = model.index.services_by_labels.get(key)
    if found is None:
        labels = pod.labels
        by_name = _selecting_by_name(model, pod.namespace)
        if by_name is not None:  # sorted once per namespace: a stable sort, filtered, is the same list
            found = [
                svc
                for svc, items in by_name
                if (
                    labels.get(items[0][0]) == items[0][1]
                    if len(items) == 1
                    else all(labels.get(k) == v for k, v in items)
                )
            ]
        else:
            found = sorted(
                (
                    svc
                    for svc in model.services_by_ns.get(pod.namespace, [])
                    if svc.selector and all(labels.get(k) == v for k, v in svc.selector.items())
                ),
                key=lambda s: s.name,
            )
        model.index.services_by_labels[key] = found
    model.index.services_of_pod[id(pod)] = (pod, found)
    return list(found)


def _selecting_by_name(model: Model, namespace: str) -> list[tuple[Service, tuple[tuple[str, str], ...]]] | None:
    """The Services of ``namespace`` with a selector, sorted by name, each with its selector's items
    (None: names that cannot be sorted; the caller sorts what it found, and fails as it would)."""
    if namespace in model.index.services_by_name:
        return model.index.services_by_name[namespace]
    services = [s for s in model.services_by_ns.get(namespace, ()) if s.selector]
    held: list[tuple[Service, tuple[tuple[str, str], ...]]] | None
    try:
        ordered = sorted(services, key=lambda s: s.name)
    except TypeError:
        held = None
    else:
        held = [(svc, tuple(svc.selector.items()) if svc.selector else ()) for svc in ordered]
    model.index.services_by_name[namespace] = held
    return held


def distinct_identities(model: Model, namespace: str | None) -> list[Mapping[str, str]]:
    """The Cilium identities of the pods of ``namespace`` (None: all pods), one per distinct label set:
    whether some pod matches a selector depends only on these."""
    found = model.index.identities.get(namespace)
    if found is None:
        pods = model.pods_by_ns.get(namespace, []) if namespace is not None else model.pods.values()
        unique: dict[frozenset[tuple[str, str]], Mapping[str, str]] = {}
        seen: set[int] = set()  # replicas share one identity mapping (model/identities.py): skip them at once
        for pod in pods:
            if id(pod.identity) not in seen:
                seen.add(id(pod.identity))
                unique.setdefault(frozenset(pod.identity.items()), pod.identity)
        found = model.index.identities[namespace] = list(unique.values())
    return found


def guard(model: Model, selector: Selector) -> tuple[Selector, str | None, frozenset[object]]:
    """A test the labels of every identity the selector matches pass: ``labels.get(key) in values``
    for its first ``In`` requirement on a label (key None: no such requirement, no test). Cheaper
    than ``selector.matches``, which still decides whatever passes it. For labels whose values
    are all hashable (the test hashes the value)."""
    held = model.index.guards.get(id(selector))
    if held is None or held[0] is not selector:
        held = model.index.guards[id(selector)] = (selector, *_first_equality(selector))
    return held


def guarded_rules(model: Model, namespace: str) -> list[tuple[PolicyRule, str | None, frozenset[object]]]:
    """The namespace's rules then the clusterwide ones (the rules that may select its pods), each
    with its selector's guard. Kept per namespace while those two lists stay what they were."""
    ns_rules = model.rules_by_ns.get(namespace) or _NO_RULES
    cluster = model.cluster_rules
    held = model.index.guarded.get(namespace)
    if held is None or held[0] is not ns_rules or held[1] is not cluster or held[2] != (len(ns_rules), len(cluster)):
        rules = [(rule, *guard(model, rule.subject)[1:]) for rule in (*ns_rules, *cluster)]
        held = model.index.guarded[namespace] = (ns_rules, cluster, (len(ns_rules), len(cluster)), rules)
    return held[3]


_NO_RULES: list[PolicyRule] = []


def _first_equality(selector: Selector) -> tuple[str | None, frozenset[object]]:
    for req in selector.requirements:
        if req.op == "In" and req.source in ("k8s", "any"):
            try:
                return req.key, frozenset(req.values)
            except TypeError:  # a value that cannot be hashed: no shortcut
                continue
    return None, frozenset()


def selects_some(model: Model, selector: Selector, identities: list[Mapping[str, str]]) -> bool:
    """``any(selector.matches(i) for i in identities)``, the selector's guard asked first."""
    _, label, values = guard(model, selector)
    if label is None:
        return any(selector.matches(identity) for identity in identities)
    try:
        return any(identity.get(label) in values and selector.matches(identity) for identity in identities)
    except TypeError:  # a label value that cannot be hashed: asked of the selector alone
        return any(selector.matches(identity) for identity in identities)
