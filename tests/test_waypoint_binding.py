"""Issue 11 §1 (A6): which waypoint a call passes, as a pure table over the ambient-waypoint
scenario's objects: use-waypoint on Namespace / Service / Pod, use-waypoint-namespace, `none`,
waypoint-for service|workload, and missing / not-ready waypoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_meshdoctor.engines.istio_waypoint import waypoint_for
from kubectl_meshdoctor.model.build import Model, build_model
from kubectl_meshdoctor.sources.snapshot import load_files

ROOT = Path(__file__).parent / "scenarios" / "ambient-waypoint"


@pytest.fixture(scope="module")
def model() -> Model:
    return build_model(load_files(iter([("objects.yaml", (ROOT / "objects.yaml").read_bytes())]), "waypoint"))


# (namespace, service or None = the pod addressed directly, pod name) -> (waypoint, problem substring) or None
TABLE = [
    ("blue", "server", "server-1", ("blue/waypoint", "")),  # namespace label, service traffic
    ("blue", "optout", "optout-1", None),  # Service label "none" opts out
    ("blue", None, "server-1", None),  # waypoint-for defaults to service: pod traffic goes direct
    ("svclabel", "server", "server-1", ("svclabel/waypoint", "")),  # Service label
    ("svclabel", "plain", "plain-1", None),  # another Service in the namespace is not enrolled
    ("xns", "server", "server-1", ("blue/waypoint", "")),  # use-waypoint-namespace
    ("wl", "server", "server-1", None),  # waypoint-for: workload ignores service traffic
    ("wl", None, "server-1", ("wl/waypoint", "")),  # ...and takes pod-addressed traffic
    ("podlabel", None, "server-1", ("podlabel/wp", "")),  # pod label, workload traffic
    ("podlabel", "server", "server-1", None),  # the pod label does not enroll service traffic
    ("gone", "server", "server-1", ("gone/nope", "no waypoint gone/nope exists")),
    ("sleepy", "server", "server-1", ("sleepy/waypoint", "no ready pod")),
    ("red", None, "client", None),  # not enrolled at all
]


@pytest.mark.parametrize(("ns", "svc", "pod", "want"), TABLE)
def test_waypoint_for(model: Model, ns: str, svc: str | None, pod: str, want: tuple[str, str] | None) -> None:
    pods = [p for p in model.pods_by_ns[ns] if p.name == pod]
    binding = waypoint_for(model, pods, model.services[f"{ns}/{svc}"] if svc else None, ns)
    if want is None:
        assert binding is None
        return
    assert binding is not None
    assert binding.label == want[0]
    assert (want[1] in binding.problem) if want[1] else binding.problem == ""
