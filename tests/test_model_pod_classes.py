"""The pods of one template are read once per class (model/pod_classes.read_classed): every pod
read so is the pod read on its own (values that compare equal in Python but read differently, a
malformed pod, an owner that is not a string), and a build attaches the pods of a class to the
workload and identity each finds alone."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubectl_meshdoctor.model.build import build_model
from kubectl_meshdoctor.model.pod_classes import PodClasses, read_classed
from kubectl_meshdoctor.model.readers import read_pod
from kubectl_meshdoctor.raw import RawObject, RawSnapshot
from kubectl_meshdoctor.validation import Validator, Violation


def _pod(name: str, labels: Any = None, owner: Any = "web-5d9f", ns: Any = "blue", **spec: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app": "web", "pod-template-hash": "5d9f"} if labels is None else labels,
            "ownerReferences": [{"kind": "ReplicaSet", "name": owner}],
        },
        "spec": {"containers": [{"name": "app", "ports": [{"containerPort": 8080, "name": "http"}]}], **spec},
        "status": {"phase": "Running", "podIP": f"10.0.0.{len(name)}"},
    }
    return doc


PODS = [
    _pod("web-5d9f-a"),
    _pod("web-5d9f-b"),  # the class of the first
    _pod("web-5d9f-c", labels={"app": "web", "pod-template-hash": 1}),  # a number where a string belongs
    _pod("web-5d9f-d", labels={"app": "web", "pod-template-hash": True}),
    _pod("web-5d9f-e", labels={"app": "web", "pod-template-hash": 1.0}),
    _pod("web-5d9f-f", labels={"app": "web", "pod-template-hash": float("nan")}),
    _pod("web-5d9f-g", labels={"app": "web", "pod-template-hash": None}),
    _pod("web-5d9f-h", labels={"app": "web", "pod-template-hash": datetime.date(2026, 12, 7)}),
    _pod("web-5d9f-i", owner=7),  # an owner name not a string: read alone
    _pod("web-5d9f-j", owner=None),
    _pod("web-5d9f-k", ns=1),
    _pod("web-5d9f-l", ns=True),
    _pod("web-5d9f-m", hostNetwork=1),
    _pod("web-5d9f-n", hostNetwork=True),
    _pod("web-5d9f-o", serviceAccountName="api"),
    {**_pod("web-5d9f-p"), "status": None},
    {**_pod("web-5d9f-q"), "metadata": {**_pod("x")["metadata"], "name": "web-5d9f-q", "annotations": {"a": 1}}},
]


def test_pods_read_by_class_are_the_pods_read_alone() -> None:
    classes = PodClasses()
    for doc in PODS + PODS[::-1] + PODS:
        pod, _cls = read_classed(doc, "f.yaml:1", classes)
        assert pod == read_pod(doc, "f.yaml:1")
        assert type(pod.namespace) is str and all(type(v) is str for v in pod.labels.values())


def test_replicas_share_one_class_and_other_values_do_not() -> None:
    classes = PodClasses()
    (one, first), (two, second), (other, third) = (read_classed(d, None, classes) for d in PODS[:3])
    assert first is second and one.labels is two.labels and one.name != two.name
    assert third is not first and other.labels == {"app": "web", "pod-template-hash": "1"}
    assert read_classed(PODS[8], None, classes)[1] is None  # owner 7: no class


def test_a_malformed_pod_fails_as_it_does_alone() -> None:
    classes = PodClasses()
    read_classed(PODS[0], None, classes)
    for bad in (
        {**PODS[1], "status": "broken"},
        {**PODS[1], "spec": "broken"},
        {**PODS[1], "metadata": {"ownerReferences": 3}},
    ):
        with pytest.raises(Exception) as alone:
            read_pod(bad, None)
        with pytest.raises(Exception) as shared:
            read_classed(bad, None, classes)
        assert type(shared.value) is type(alone.value) and str(shared.value) == str(alone.value)


def test_a_build_attaches_each_pod_of_a_class_as_it_would_alone() -> None:
    docs = [_pod(f"web-5d9f-{i}") for i in "abc"] + [_pod("web-5d9f-d", serviceAccountName="web")]  # d: another class
    docs += [_pod(f"db-77-{i}", labels={"app": "db"}, owner="db-77") for i in "ab"]
    docs += [_pod(f"solo-{i}", labels={"app": "solo"}, owner=None) for i in "ab"]
    model = build_model(RawSnapshot(objects=[RawObject(d) for d in docs]))
    pods = model.pods
    assert [p.name for p in model.pods_by_ns["blue"]] == sorted(p["metadata"]["name"] for p in docs)
    web = model.workloads[("blue", "web")]
    assert [p.name for p in web.pods] == ["web-5d9f-a", "web-5d9f-b", "web-5d9f-c", "web-5d9f-d"]
    assert [p.name for p in model.workloads[("blue", "db-77")].pods] == ["db-77-a", "db-77-b"]
    assert {(p.workload_kind, p.workload_name) for p in web.pods} == {("Deployment", "web")}
    assert [(p.workload_kind, p.workload_name) for p in (pods["blue/solo-a"], pods["blue/solo-b"])] == [
        ("Pod", "solo-a"),
        ("Pod", "solo-b"),
    ]
    assert pods["blue/web-5d9f-a"].identity is pods["blue/web-5d9f-c"].identity
    assert (
        pods["blue/web-5d9f-a"].identity["app"] == "web" and "pod-template-hash" not in pods["blue/web-5d9f-a"].identity
    )
    assert pods["blue/web-5d9f-d"].identity["io.cilium.k8s.policy.serviceaccount"] == "web"
    assert pods["blue/solo-a"].identity is pods["blue/solo-b"].identity


def test_the_trusting_build_reads_pods_as_the_validating_build() -> None:
    from kubectl_meshdoctor.app_validate import build_trusting

    docs = [
        *PODS[:8],
        *PODS[9:],
        _pod("web-5d9f-z"),
        {**_pod("web-5d9f-y"), "status": "broken"},
        {"kind": "Pod", "metadata": 3},
    ]
    raw = RawSnapshot(objects=[RawObject(d, f"f.yaml:{i}") for i, d in enumerate(docs)])
    trusting, validating = build_trusting(raw), build_model(raw, validator=_NoViolations())
    assert trusting.pods == validating.pods and list(trusting.pods) == list(validating.pods)
    assert trusting.gaps == validating.gaps and any("web-5d9f-y" in str(g) for g in trusting.gaps)
    assert trusting.workloads == validating.workloads and trusting.kinds_seen == validating.kinds_seen


class _NoViolations(Validator):
    """Validates every object (a call per object, as the ordinary build) and finds nothing wrong."""

    def validate(self, doc: dict[str, Any]) -> list[Violation]:
        return []
