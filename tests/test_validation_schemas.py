"""The shipped schemas beyond Istio's fixtures: Cilium's policies, Gateway API and the core kinds we read.
Each row is one object and the field the API server would name (None: accepted)."""

from __future__ import annotations

import pytest
import yaml

from kubectl_meshdoctor.validation import Validator

CNP = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: blue}\n"
CCNP = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: p}\n"
GW = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ingress}\n"
ROUTE = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: blue}\n"
LISTENER = "{name: http, port: 80, protocol: HTTP}"
RULE = "parentRefs: [{name: gw}]\n  rules: [{matches: [%s], backendRefs: [{name: httpbin, port: 80}]}]"

ROWS = [
    # Cilium: structural schema of pkg/k8s/apis/cilium.io/client/crds/v2
    (CNP + "spec: {endpointSelector: {}, ingress: [{fromEntities: [world]}]}", None),
    (CNP + "specs: [{endpointSelector: {}, egress: [{toPorts: [{ports: [{port: '53', protocol: UDP}]}]}]}]", None),
    (CNP + "spec: {endpointSelector: {}, nodeSelector: {}, ingress: [{}]}", "spec"),
    (CNP + "spec: {endpointSelector: {}}", "spec"),
    (CNP + "spec: {endpointSelector: {}, ingress: [{toPorts: [{ports: [{port: 80}]}]}]}",
     "spec.ingress[0].toPorts[0].ports[0].port"),
    (CNP + "spec: {endpointSelector: {}, ingress: [{toPorts: [{ports: [{port: '80', protocol: TPC}]}]}]}",
     "spec.ingress[0].toPorts[0].ports[0].protocol"),
    (CNP + "spec: {endpointSelector: {}, ingress: [{fromEntities: [wrold]}]}", "spec.ingress[0].fromEntities[0]"),
    (CNP + "spec: {endpointSelector: {}, egress: [{toCIDR: [10.0.0.0]}]}", "spec.egress[0].toCIDR[0]"),
    (CNP + "spec: {endpointSelector: {matchLabels: {app: 'a b'}}, ingress: [{}]}",
     "spec.endpointSelector.matchLabels.app"),
    (CNP + "spec: {endpointSelector: {}, ingressDeny: [{toPorts: [{ports: [{port: '80'}], rules: {}}]}]}", None),
    (CCNP + "spec: {nodeSelector: {}, ingress: [{fromEntities: [cluster]}]}", None),
    (CCNP + "spec: {endpointSelector: {}, egress: [{toFQDNs: [{matchName: 'a.b', matchPattern: '*.b'}]}]}",
     "spec.egress[0].toFQDNs[0]"),
    # Gateway API, with the API server's defaults applied before its CEL rules
    (GW + f"spec: {{gatewayClassName: istio, listeners: [{LISTENER}]}}", None),
    (GW + f"spec: {{gatewayClassName: istio, listeners: [{LISTENER}, {LISTENER}]}}", "spec.listeners"),
    (GW + "spec: {gatewayClassName: istio, listeners: [{name: t, port: 9000, protocol: TCP, hostname: a.b}]}",
     "spec.listeners"),
    (GW + "spec: {gatewayClassName: istio, listeners: [{name: h, port: 70000, protocol: HTTP}]}",
     "spec.listeners[0].port"),
    (GW + "spec: {listeners: []}", "spec.gatewayClassName"),
    (ROUTE + "spec:\n  " + RULE % "{path: {value: /ip}}", None),
    (ROUTE + "spec:\n  " + RULE % "{path: {value: ip}}", "spec.rules[0].matches[0].path"),
    (ROUTE + "spec:\n  " + RULE % "{method: FETCH}", "spec.rules[0].matches[0].method"),
    (ROUTE + "spec: {rules: [{backendRefs: [{name: httpbin}]}]}", "spec.rules[0].backendRefs[0]"),
    (ROUTE + "spec: {rules: [{backendRefs: [{name: httpbin, port: 80, weight: -1}]}]}",
     "spec.rules[0].backendRefs[0].weight"),
    # core kinds: the fields meshdoctor reads
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}", "spec.ports[0].port"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: Clusterip}", "spec.type"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: http}]}", None),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{containerPort: '80'}]}]}",
     "spec.containers[0].ports[0].containerPort"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: [x]}}\nspec: {containers: [{name: c}]}",
     "metadata.labels.app"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostNetwork: null, containers: [{name: c}]}", None),
    ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv5", "addressType"),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {policyTypes: [ingress]}",
     "spec.policyTypes[0]"),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n"
     "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: http}]}]}", None),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config}\ndata: {enable-l7-proxy: true}",
     "data.enable-l7-proxy"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: many}", "spec.replicas"),
]  # fmt: skip


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.mark.parametrize(("manifest", "field"), ROWS)
def test_schema_row(validator: Validator, manifest: str, field: str | None) -> None:
    doc = yaml.safe_load(manifest)
    assert validator.knows(doc["kind"], doc["apiVersion"])
    violations = validator.validate(doc)
    if field is None:
        assert violations == [], [v.text() for v in violations]
    else:
        assert field in [v.path for v in violations], [v.text() for v in violations]


def test_a_kind_or_version_without_a_schema_is_not_checked(validator: Validator) -> None:
    assert not validator.knows("CiliumNetworkPolicy", "cilium.io/v3")
    assert validator.validate({"apiVersion": "x/v1", "kind": "Widget", "metadata": {"name": 1}}) == []


def test_shipped_json_schemas_are_current() -> None:
    """The package loads JSON; the hand-written YAML beside it is the source (scripts/gen-validation-schemas)."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "kubectl_meshdoctor" / "validation" / "schemas"
    for name in ("core", "cilium", "gateway"):
        source = yaml.safe_load((folder / f"{name}.yaml").read_text())
        assert json.loads((folder / f"{name}.json").read_text()) == source, (
            f"run scripts/gen-validation-schemas ({name})"
        )
