"""Issue 20 items 1 and 4: world → Kubernetes Ingress. Engine tables (host, path types, precedence), the
bundled Cilium Ingress demo beside its near miss (answer, Hubble evidence from identity ingress), the
JSON answer naming the backend, and bad input (one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.engines.ingress_match import host_matches, match, path_matches
from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.ingress import Ingress, IngressBackend, IngressPath, IngressRule

SCENARIO = Path(__file__).parent / "scenarios" / "k8s-ingress-northsouth"
DEMO = "cilium-ingress-backend-no-ingress"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def explain_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("explain", *args, "-o", "json")
    assert out.startswith("{"), (code, out, err)
    return code, json.loads(out)


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "a.b.example.com", False),  # Ingress wildcards cover exactly one label
        ("*.example.com", "example.com", False),
        ("foo.com", "FOO.com:8080", True),
        (None, "anything.io", True),
        ("foo.com", None, False),
    ],
)
def test_ingress_host_matching(pattern: str | None, host: str | None, expected: bool) -> None:
    assert host_matches(pattern, host) is expected


def _path(value: str, kind: str, svc: str = "s", where: str = "p") -> IngressPath:
    return IngressPath(value, kind, IngressBackend(svc, 80, None, None, where + ".backend"), where)


@pytest.mark.parametrize(
    ("value", "kind", "path", "expected"),
    [
        ("/foo", "Prefix", "/foo", True),
        ("/foo", "Prefix", "/foo/bar", True),
        ("/foo", "Prefix", "/foobar", False),
        ("/foo/", "Prefix", "/foo", True),
        ("/", "Prefix", "/anything", True),
        ("/foo", "Exact", "/foo/", False),
        ("/Foo", "Exact", "/foo", False),
        ("/literal", "ImplementationSpecific", "/literal", True),
        ("/literal", "ImplementationSpecific", "/other", False),
        ("/literal", "ImplementationSpecific", "/literal/more", None),  # prefix or exact: the controller's choice
        ("/v[0-9]+", "ImplementationSpecific", "/v1", None),
    ],
)
def test_path_types(value: str, kind: str, path: str, expected: bool | None) -> None:
    assert path_matches(_path(value, kind), path) is expected


def _ingress(*paths: IngressPath, host: str | None = None, default: bool = False) -> Ingress:
    backend = IngressBackend("dflt", 80, None, None, "spec.defaultBackend") if default else None
    rule = IngressRule(host, tuple(paths), "spec.rules[0]")
    return Ingress(ObjectRef("Ingress", "ns", "i"), "cilium", None, {}, backend, (rule,), ())


def test_longest_path_wins_then_exact_before_prefix() -> None:
    ing = _ingress(_path("/a", "Prefix", "short"), _path("/a/b", "Prefix", "long"), _path("/a/b", "Exact", "exact"))
    assert match(ing, None, "/a/b/c").backend.service == "long"  # type: ignore[union-attr]
    assert match(ing, None, "/a/b").backend.service == "exact"  # type: ignore[union-attr]
    assert match(ing, None, "/a?x=1").backend.service == "short"  # type: ignore[union-attr]


def test_no_match_uses_the_default_backend_else_nothing() -> None:
    assert match(_ingress(_path("/a", "Exact")), None, "/b").backend is None
    found = match(_ingress(_path("/a", "Exact"), default=True), None, "/b")
    assert (found.where, found.backend.service if found.backend else None, found.gaps) == (
        "spec.defaultBackend",
        "dflt",
        (),
    )


def test_a_host_rule_without_a_matching_path_before_the_default_backend_is_a_gap() -> None:
    """Whether the controller falls back to the default backend or answers 404 for that host differs [I]."""
    found = match(_ingress(_path("/a", "Exact"), host="x.io", default=True), "x.io", "/b")
    assert found.gaps and "default backend" in found.gaps[0]


def test_demo_backend_without_ingress_identity_is_denied_with_the_drops_as_evidence() -> None:
    code, doc = explain_json(
        "world", "shop/ingress/storefront", "--host", "shop.example.com", "--path", "/", "--demo", DEMO
    )
    assert (code, doc["verdict"], doc["symptom"]) == (1, "denied", "http-503")
    assert [c["code"] for c in doc["causes"]] == ["cilium-ingress-backend-denied"]
    assert doc["causes"][0]["objects"][0]["name"] == "web-same-namespace"
    gw = doc["gateway"]
    assert (gw["kind"], gw["implementation"], gw["route"]) == ("Ingress", "cilium", "Ingress shop/storefront")
    assert [(b["namespace"], b["name"], b["port"]) for b in gw["backends"]] == [("shop", "web", 80)]
    ev = doc["evidence"]
    assert (ev["flows"], ev["dropReasons"], ev["agrees"]) == (6, {"POLICY_DENIED": 6}, True)


def test_demo_near_miss_backend_admitting_ingress_is_allowed() -> None:
    code, doc = explain_json(
        "world", "shop/ingress/storefront", "--host", "shop.example.com", "--path", "/api/v1", "--demo", DEMO
    )
    assert (code, doc["verdict"], doc["causes"]) == (0, "allowed", [])
    assert doc["gateway"]["backends"][0]["name"] == "api"
    assert (doc["evidence"]["verdicts"], doc["evidence"]["agrees"]) == ({"FORWARDED": 3}, True)


def test_via_ingress_names_the_backend_it_reaches() -> None:
    code, doc = explain_json(
        "world", "shop/api", "--via", "shop/ingress/storefront", "--host", "shop.example.com", "--path", "/",
        "--demo", DEMO,
    )  # fmt: skip
    assert code == 1 and next(c["code"] for c in doc["causes"]) == "gateway-routes-elsewhere"


def test_leg_flows_are_those_of_identity_ingress_and_the_backend() -> None:
    from kubectl_meshdoctor.diagnosis.ingress_flows import IngressPair

    pair = IngressPair(set(), {"shop/web-1"}, set(), set())

    class _Ep:
        def __init__(self, identity: int, ns: str = "", pod: str = "") -> None:
            self.identity, self.namespace, self.pod_name = identity, ns, pod

    class _Ip:
        source = destination = "10.0.0.1"

    class _Flow:
        def __init__(self, src: _Ep, dst: _Ep) -> None:
            self.source, self.destination, self.IP = src, dst, _Ip()

    assert pair.direction(_Flow(_Ep(8), _Ep(1, "shop", "web-1"))) == 1
    assert pair.direction(_Flow(_Ep(1, "shop", "web-1"), _Ep(8))) == -1
    assert pair.direction(_Flow(_Ep(2), _Ep(1, "shop", "web-1"))) == 0  # world, not Cilium's Envoy


def test_drops_that_the_objects_do_not_explain_contradict_them(tmp_path: Path) -> None:
    """The demo's drops read against a web policy that admits ingress: flows-contradict-policy, not allowed."""
    from kubectl_meshdoctor.sources.demo import _root

    src = _root().joinpath(DEMO)
    for entry in src.iterdir():
        text = entry.read_text("utf-8")
        if entry.name == "shop.yaml":
            text = text.replace(
                "metadata: {name: web-same-namespace, namespace: shop}", "metadata: {name: web-open, namespace: shop}"
            )
            text = text.replace(
                '  - fromEndpoints: [{}]\n    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]\n---\n# the near',
                '  - fromEntities: [ingress]\n    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]\n---\n# the near',
            )
        (tmp_path / entry.name).write_text(text)
    _code, doc = explain_json(
        "world", "shop/ingress/storefront", "--host", "shop.example.com", "--path", "/", "--from", str(tmp_path)
    )
    assert (doc["verdict"], doc["evidence"]["agrees"]) == ("unknown", False)
    assert [c["code"] for c in doc["causes"]] == ["flows-contradict-policy"]


def test_unknown_and_invalid_ingress_are_one_line_exit_2() -> None:
    code, _, err = run("explain", "world", "shop/ingress/storefrnt", "--demo", DEMO)
    assert code == 2 and "did you mean shop/ingress/storefront" in err and len(err.strip().splitlines()) == 1
    code, _out, err = run("explain", "world", "junk/ingress/broken", "--from", str(SCENARIO / "objects.yaml"))
    assert code == 2 and "is invalid" in err and "must be an absolute path" in err
    assert len(err.strip().splitlines()) == 1


def test_invalid_ingress_is_reported_as_invalid_object_by_check() -> None:
    _code, out, _ = run("check", "-A", "--from", str(SCENARIO / "objects.yaml"), "-o", "json")
    doc = json.loads(out)
    invalid = [f for f in doc["findings"] if f["code"] == "invalid-object"]
    assert any(o["name"] == "broken" and o["kind"] == "Ingress" for f in invalid for o in f["objects"])


def test_check_finds_the_backend_that_refuses_ingress_and_not_its_near_miss() -> None:
    code, out, _ = run("check", "-A", "--demo", DEMO, "-o", "json")
    doc = json.loads(out)
    found = [(f["code"], [o["name"] for o in f["objects"]]) for f in doc["findings"]]
    assert code == 1
    assert found == [("cilium-ingress-backend-denied", ["web-same-namespace"])]  # api admits ingress: not reported


def test_check_reports_each_ingress_backend_cause_of_the_scenario() -> None:
    _, out, _ = run("check", "-A", "--from", str(SCENARIO / "objects.yaml"), "-o", "json")
    doc = json.loads(out)
    by_code: dict[str, list[str]] = {}
    for f in doc["findings"]:
        by_code.setdefault(f["code"], []).append(f["summary"])
    # web/shop /gone (no Service) and /badport (no port 81); web/meshgone (Istio) /
    assert len(by_code["ingress-backend-missing"]) == 3
    assert any("Istio's ingress gateway" in s for s in by_code["ingress-backend-missing"])
    assert any("web/closed-1" in s for s in by_code["cilium-ingress-backend-denied"])
    assert not any("web/open-1" in s for s in by_code["cilium-ingress-backend-denied"])
    assert len(by_code["cilium-ingress-vs-istio-mtls"]) == 1  # web/shop → meshed; Istio's meshgate is not Cilium


def test_the_dedicated_load_balancer_service_stands_for_its_ingress() -> None:
    code, doc = explain_json(
        "world", "shop/svc/cilium-ingress-storefront", "--host", "shop.example.com", "--path", "/", "--demo", DEMO
    )
    assert (code, doc["gateway"]["kind"], doc["gateway"]["name"]) == (1, "Ingress", "storefront")
    assert doc["evidence"]["flows"] == 6  # the same leg's flows as through shop/ingress/storefront


def test_istio_served_ingress_reads_the_gateway_pod_leg_flows(tmp_path: Path) -> None:
    """Istio's ingress gateway is a pod: the flows of its leg to the backend are the evidence."""
    (tmp_path / "objects.yaml").write_text((SCENARIO / "objects.yaml").read_text())
    gw = {"namespace": "istio-system", "pod_name": "istio-ingressgateway-5d9c7b8f6-abcde", "identity": 4001}
    backend = {"namespace": "web", "pod_name": "meshed-1", "identity": 4002}
    flow = {
        "time": "2026-11-20T10:00:00Z",
        "verdict": "FORWARDED",
        "IP": {"source": "10.0.0.30", "destination": "10.0.4.12", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 41000, "destination_port": 8080, "flags": {"SYN": True}}},
        "source": gw,
        "destination": backend,
        "Type": "L3_L4",
        "event_type": {"type": 4},
        "traffic_direction": "INGRESS",
        "is_reply": False,
    }
    (tmp_path / "flows.jsonl").write_text(json.dumps({"flow": flow}) + "\n")
    code, doc = explain_json("world", "web/ingress/meshgate", "--path", "/", "--from", str(tmp_path))
    assert (code, doc["verdict"], doc["evidence"]["flows"]) == (0, "allowed", 1)


def test_live_forbidden_ingresses_say_so_instead_of_no_such_ingress(playground) -> None:  # type: ignore[no-untyped-def]
    pg = playground(DEMO, forbidden=frozenset({"ingresses.networking.k8s.io"}))
    args = ["explain", "world", "shop/ingress/storefront", "--host", "shop.example.com", "--path", "/"]
    result = CliRunner().invoke(cli, [*args, "--hubble-server", pg.relay.address], env=pg.env())
    assert result.exit_code == 3 and "not in view" in result.stderr and "no read access" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_live_forbidden_policies_make_the_envoy_leg_unknown(playground) -> None:  # type: ignore[no-untyped-def]
    pg = playground(DEMO, forbidden=frozenset({"ciliumnetworkpolicies.cilium.io"}))
    args = ["explain", "world", "shop/ingress/storefront", "--host", "shop.example.com", "--path", "/api"]
    result = CliRunner().invoke(cli, [*args, "--hubble-server", pg.relay.address, "-o", "json"], env=pg.env())
    doc = json.loads(result.stdout)
    assert (result.exit_code, doc["verdict"]) == (3, "unknown")  # the near miss is no longer "allowed"
