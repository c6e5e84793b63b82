"""The listener redirects of Cilium policies (model/ingress.policy_listeners): found in `spec` and
every `specs[i]`, both directions, named by their path; malformed parts are skipped, not fatal."""

from __future__ import annotations

from typing import Any

from kubectl_meshdoctor.findings.types import ObjectRef
from kubectl_meshdoctor.model.ingress import IngressObjects, PolicyListener, policy_listeners

REF = ObjectRef("CiliumNetworkPolicy", "blue", "p")


def _tp(name: str, port: Any = "80") -> dict[str, Any]:
    return {"ports": [{"port": port}, "junk"], "listener": {"name": name, "envoyConfig": {"name": "cec"}}}


def test_listeners_in_spec_and_specs_are_noted_by_path() -> None:
    doc = {
        "spec": {"ingress": [{"toPorts": [_tp("a")]}]},
        "specs": [
            "junk",
            {"egress": [None, {"toPorts": [{"listener": "junk"}, {"listener": {}}, _tp("b", 0)]}]},
        ],
    }
    objs = IngressObjects()
    policy_listeners(objs, doc, lambda: REF)
    assert objs.policy_listeners == {
        ("CiliumNetworkPolicy", "blue", "p", "spec"): [
            PolicyListener("ingress", ("80",), "a", "CiliumEnvoyConfig blue/cec", "spec.ingress[0].toPorts[0].listener")
        ],
        ("CiliumNetworkPolicy", "blue", "p", "specs[1]"): [
            PolicyListener("egress", (), "b", "CiliumEnvoyConfig blue/cec", "specs[1].egress[1].toPorts[2].listener")
        ],
    }


def test_a_policy_without_listeners_makes_no_reference() -> None:
    def no_ref() -> ObjectRef:
        raise AssertionError("made a reference")

    objs = IngressObjects()
    policy_listeners(objs, {"spec": {"ingress": [{"toPorts": [{"ports": [{"port": "80"}]}]}]}}, no_ref)
    assert objs.policy_listeners == {}
