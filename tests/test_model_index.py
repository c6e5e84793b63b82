"""The lookups kept on the model (model/index.py) answer exactly what a scan of every pod and Service
answers, in the same order, on every demo and on a synthetic cluster with overlapping selectors
(the Cilium rules selecting a pod too: replicas share one answer); and a caller changing a list it
got cannot change the next answer."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from kubectl_meshdoctor import app
from kubectl_meshdoctor.checks.pairs import representatives
from kubectl_meshdoctor.engines.cilium.decide import selecting_rules
from kubectl_meshdoctor.model.index import any_pod_selected, distinct_identities, selects_some
from kubectl_meshdoctor.model.refs import pods_for_service, services_for
from kubectl_meshdoctor.model.view import Model
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.sources.demo import list_demos, read_demo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import bench_cluster


def _selected(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _assert_like_scans(model: Model) -> None:
    for svc in model.services.values():
        expected = [
            p for p in model.pods_by_ns.get(svc.namespace, []) if svc.selector and _selected(p.labels, svc.selector)
        ]
        assert pods_for_service(model, svc) == expected, svc.name
    for pod in model.pods.values():
        expected = sorted(
            (
                s
                for s in model.services_by_ns.get(pod.namespace, [])
                if s.selector and _selected(pod.labels, s.selector)
            ),
            key=lambda s: s.name,
        )
        assert services_for(model, [pod]) == expected, pod.key()
    for namespace in [*model.pods_by_ns, None, "no-such-namespace"]:
        pods = model.pods_by_ns.get(namespace, []) if namespace is not None else list(model.pods.values())
        identities = distinct_identities(model, namespace)
        assert {frozenset(p.identity.items()) for p in pods} == {frozenset(i.items()) for i in identities}
        for selector in [{}, *({k: v} for p in pods[:3] for k, v in p.labels.items()), {"app": "no-such-app"}]:
            assert any_pod_selected(model, namespace, selector) == any(_selected(p.labels, selector) for p in pods)
    for pod in model.pods.values():
        candidates = model.rules_by_ns.get(pod.namespace, []) + model.cluster_rules
        expected_rules = [r for r in candidates if r.subject.matches(pod.identity)]
        assert selecting_rules(model, pod) == expected_rules, pod.key()


@pytest.mark.parametrize("demo", [d.name for d in list_demos()])
def test_demo_lookups_equal_scans(demo: str) -> None:
    _assert_like_scans(app.build_model(read_demo(demo)))


def test_synthetic_cluster_with_overlapping_selectors() -> None:
    """Services selecting on one, two or three labels of the same pods, and selectors no pod has."""
    rnd = random.Random(5)
    items = bench_cluster.generate(bench_cluster.SIZES["S"])
    for item in items:
        if item["kind"] == "Pod":
            item["metadata"]["labels"]["tier"] = rnd.choice(("a", "b"))
            item["metadata"]["labels"]["zone"] = rnd.choice(("1", "2", "3"))
    extra = []
    for n, item in enumerate(i for i in items if i["kind"] == "Service"):
        selector = dict(item["spec"]["selector"])
        selector.update(rnd.choice(({}, {"tier": "a"}, {"tier": "b", "zone": "2"}, {"zone": "9"})))
        extra.append(
            {
                **item,
                "metadata": {**item["metadata"], "name": f"extra-{n}"},
                "spec": {**item["spec"], "selector": selector},
            }
        )
    model = app.build_model(RawSnapshot([RawObject(doc, "test") for doc in items + extra]))
    _assert_like_scans(model)


def test_a_caller_changing_a_list_changes_no_later_answer() -> None:
    model = app.build_model(read_demo("sidecar-s2-l7-policy"))
    svc = model.services["blue/httpbin"]
    pods = pods_for_service(model, svc)
    assert pods
    pods.clear()
    assert pods_for_service(model, svc)
    reps = representatives(model)
    reps.clear()
    assert representatives(model)
    first = next(iter(model.pods.values()))
    found = services_for(model, [first])
    found.append(svc)
    assert services_for(model, [first]) == found[:-1]


def test_pods_and_services_with_values_no_schema_checked_are_still_read() -> None:
    """An apiVersion no shipped schema covers is read unchecked: a port name that is a list (it cannot
    be shared between pods) or 80 next to 80.0 each keep their own value."""
    docs = [
        {
            "apiVersion": "v9",
            "kind": "Pod",
            "metadata": {"name": f"p{i}", "namespace": "a", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": name}]}]},
            "status": {"podIP": f"10.0.0.{i}"},
        }
        for i, name in enumerate((["odd"], "http", 80, 80.0))
    ]
    docs.append(
        {
            "apiVersion": "v9",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "a"},
            "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "name": {"odd": 1}}, {"port": 81, "name": 81.0}]},
        }
    )
    model = app.build_model(RawSnapshot([RawObject(doc, "test") for doc in docs]))
    names = [model.pods[f"a/p{i}"].ports[0].name for i in range(4)]
    assert names == [["odd"], "http", 80, 80.0]
    assert [type(n) for n in names[2:]] == [int, float]
    assert [p.name for p in model.services["a/s"].ports] == [{"odd": 1}, 81.0]


def test_rules_selecting_pods_of_equal_labels_follow_their_identity() -> None:
    """Pods with the same labels share the rules that select them only when their whole Cilium
    identity agrees: a service account or namespace apart, a rule on it selects one and not the other."""
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
            "spec": {"serviceAccountName": sa, "containers": [{"name": "c"}]},
            "status": {"podIP": f"10.0.0.{i}"},
        }
        for i, (ns, name, sa) in enumerate(
            (("a", "p1", "web"), ("a", "p2", "web"), ("a", "p3", "other"), ("b", "p4", "web"))
        )
    ]
    docs += [
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "by-sa", "namespace": "a"},
            "spec": {
                "endpointSelector": {"matchLabels": {"app": "web", "io.cilium.k8s.policy.serviceaccount": "web"}},
                "ingress": [{}],
            },
        },
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "in-b"},
            "spec": {"endpointSelector": {"matchLabels": {"io.kubernetes.pod.namespace": "b"}}, "ingress": [{}]},
        },
    ]
    model = app.build_model(RawSnapshot([RawObject(doc, "test") for doc in docs]))
    names = {key: [r.policy.name for r in selecting_rules(model, model.pods[key])] for key in sorted(model.pods)}
    assert names == {"a/p1": ["by-sa"], "a/p2": ["by-sa"], "a/p3": [], "b/p4": ["in-b"]}


def test_rules_with_set_expressions_select_what_their_selectors_select() -> None:
    """Rules whose endpointSelector has In with several values, NotIn, Exists and a label no pod has
    select exactly the pods their selector matches (the first-equality shortcut drops no rule)."""
    labels = ({"app": "web", "tier": "a"}, {"app": "api", "tier": "b"}, {"app": "db"}, {"tier": "a"}, {})
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"p{i}", "namespace": "a", "labels": dict(lab)},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"podIP": f"10.0.0.{i}"},
        }
        for i, lab in enumerate(labels)
    ]
    selectors = (
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]},
        {"matchLabels": {"tier": "a"}, "matchExpressions": [{"key": "app", "operator": "Exists"}]},
        {
            "matchExpressions": [
                {"key": "app", "operator": "DoesNotExist"},
                {"key": "tier", "operator": "In", "values": ["a"]},
            ]
        },
        {"matchLabels": {"zone": "9"}},
        {},
    )
    docs += [
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": f"r{i}", "namespace": "a"},
            "spec": {"endpointSelector": sel, "ingress": [{}]},
        }
        for i, sel in enumerate(selectors)
    ]
    model = app.build_model(RawSnapshot([RawObject(doc, "test") for doc in docs]))
    _assert_like_scans(model)
    names = {key: [r.policy.name for r in selecting_rules(model, model.pods[key])] for key in sorted(model.pods)}
    assert names == {
        "a/p0": ["r0", "r2", "r5"],
        "a/p1": ["r0", "r1", "r5"],
        "a/p2": ["r1", "r5"],
        "a/p3": ["r3", "r5"],
        "a/p4": ["r1", "r5"],
    }


def test_a_selector_asked_of_identities_with_values_that_cannot_be_hashed() -> None:
    """An identity whose label value is a list (no schema checked it) is still matched by the selector."""
    model = app.build_model(read_demo("sidecar-s2-l7-policy"))
    rule = next(r for r in model.cilium.rules if any(q.op == "In" for q in r.subject.requirements))
    req = next(q for q in rule.subject.requirements if q.op == "In")
    odd: dict[str, object] = {req.key: ["a", "list"]}
    fitting = {q.key: q.values[0] for q in rule.subject.requirements if q.op == "In"}
    assert selects_some(model, rule.subject, [odd]) is False  # type: ignore[list-item]
    assert selects_some(model, rule.subject, [odd, fitting]) is rule.subject.matches(fitting)  # type: ignore[list-item]
    assert selects_some(model, rule.subject, [fitting]) is rule.subject.matches(fitting)
