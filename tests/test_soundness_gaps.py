"""Contract §7: `allowed` is earned. Kinds we may not read make the hops that read them unknown.

Live cases go through the playground (a real Kubernetes API over HTTP with 403s, the real
kubernetes client, a real Relay over gRPC); the property test covers every bundled demo offline with
the same gaps the live reader produces.
"""

from __future__ import annotations

import json
import random
import re
import shlex
from typing import Any

import pytest
from click.testing import CliRunner

from kubectl_meshdoctor.cli.main import cli
from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.explain import explain
from kubectl_meshdoctor.diagnosis.inputs import declared_kinds
from kubectl_meshdoctor.findings.types import Decision, Gap, Verdict
from kubectl_meshdoctor.model.build import build_model
from kubectl_meshdoctor.raw import RawSnapshot
from kubectl_meshdoctor.sources.demo import list_demos, read_demo
from kubectl_meshdoctor.sources.kube import KINDS, ApiStatus, _gap

CNP = "ciliumnetworkpolicies.cilium.io"
PA = "peerauthentications.security.istio.io"


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=env or {})
    return result.exit_code, result.stdout, result.stderr


def test_forbidden_policies_make_explain_unknown_not_allowed(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", forbidden=frozenset({CNP, PA}))
    args = ["explain", "red/netshoot", "blue/httpbin", "--path", "/ip", "--hubble-server", pg.relay.address]
    code, out, _ = run([*args, "-o", "json"], pg.env())
    doc = json.loads(out)
    assert (code, doc["verdict"], doc["symptom"]) == (3, "unknown", "unknown"), doc["hops"]
    hops = {h["name"]: h for h in doc["hops"]}
    ingress = hops["cilium-ingress"]
    assert ingress["decision"] == "unknown"
    assert any(g.startswith(f"no read access to {CNP} in namespace blue") for g in ingress["gaps"])
    assert f"no read access to {CNP}" in ingress["detail"]
    assert hops["server-proxy"]["decision"] == "unknown"
    # flows attributed to a policy we could not read never "agree"
    assert doc["evidence"]["flows"] > 0 and doc["evidence"]["agrees"] is not True
    # text: the gap is on the hop line, not only at the bottom
    code, text, _ = run(args, pg.env())
    assert code == 3 and "UNKNOWN" in text.splitlines()[0]
    ingress_line = next(line for line in text.splitlines() if "server ingress L3/L4" in line)
    assert "unknown" in ingress_line and "no read access" in text.split("server ingress L3/L4", 1)[1].split("\n\n")[0]
    assert "(agrees)" not in text


def test_forbidden_policies_make_matrix_cells_unknown(playground) -> None:
    pg = playground("sidecar-s2-l7-policy", forbidden=frozenset({CNP, PA}))
    args = ["matrix", "-n", "red,blue,green", "--path", "/ip", "--hubble-server", pg.relay.address]
    code, out, _ = run([*args, "-o", "json"], pg.env())
    doc = json.loads(out)
    assert code == 3, doc
    assert doc["cells"] and not [c for c in doc["cells"] if c["verdict"] == "allowed"]
    assert any(g.startswith(f"no read access to {CNP}") for g in doc["gaps"])
    assert all(c["gaps"] for c in doc["cells"] if c["verdict"] == "unknown")
    code, text, _ = run(args, pg.env())
    assert code == 3 and f"gap: no read access to {CNP}" in text


def test_a_gap_elsewhere_does_not_hide_a_certain_deny(playground) -> None:
    """S1 green -> blue is dropped by the readable CNP; unreadable PeerAuthentications do not change that,
    and green has no sidecar, so its proxy hop rests on pods alone and stays a plain skip."""
    pg = playground("sidecar-s1-l4-policy", forbidden=frozenset({PA}))
    code, out, _ = run(["explain", "green/netshoot", "blue/httpbin", "--no-flows", "-o", "json"], pg.env())
    doc = json.loads(out)
    assert (code, doc["verdict"]) == (1, "denied")
    hops = {h["name"]: h for h in doc["hops"]}
    assert hops["client-proxy"]["decision"] == "skip" and "gaps" not in hops["client-proxy"]
    assert hops["cilium-ingress"]["decision"] in ("deny", "break")
    assert any(g.startswith(f"no read access to {PA}") for g in doc["gaps"])


def test_an_unknown_hop_then_a_certain_break_is_that_break() -> None:
    """S1 green -> blue with green's CiliumNetworkPolicies hidden: the client's egress is unknown, and
    blue's readable CNP still certainly drops the call, so the answer is denied, not unknown."""
    raw = read_demo("sidecar-s1-l4-policy")
    forbidden = _forbid(raw, {"CiliumNetworkPolicy"}, ["green"])
    d = explain(build_model(forbidden), Query("green/netshoot", "blue/httpbin", "default", no_flows=True))
    hops = {h.hop.value: h for h in d.hops}
    assert hops["cilium-egress"].decision is Decision.UNKNOWN and hops["cilium-egress"].gaps
    assert hops["cilium-ingress"].decision in (Decision.DENY, Decision.BREAK)
    assert d.verdict is Verdict.DENIED


# --- property: random forbidden kinds over every bundled demo ------------------------------------


def _try_args(description: str) -> list[str]:
    match = re.search(r"try: explain (.+)$", description)
    assert match, description
    return shlex.split(match.group(1))


def _query(argv: list[str]) -> Query:
    src, dst, *rest = argv
    opts: dict[str, Any] = {}
    for flag, value in zip(rest[::2], rest[1::2], strict=False):
        key = {"--path": "path", "--port": "port", "--method": "method", "--host": "host"}.get(flag)
        if key:
            opts[key] = int(value) if key == "port" else value
    return Query(src, dst, "default", no_flows=True, **opts)


def _forbid(raw: RawSnapshot, kinds: set[str], namespaces: list[str]) -> RawSnapshot:
    """What the live reader returns when these kinds answer 403 in these namespaces."""
    kept = [o for o in raw.objects if not (o.doc.get("kind") in kinds and _ns(o.doc) in namespaces)]
    gaps = list(raw.gaps)
    for spec in KINDS:
        if spec.kind in kinds:
            for ns in namespaces:
                gaps.append(_gap(ApiStatus(403, "forbidden"), spec.qualified, ns, spec.kind))
    return RawSnapshot(kept, raw.flows, gaps, list(raw.warnings), raw.flow_source)


def _ns(doc: dict[str, Any]) -> str:
    return str((doc.get("metadata") or {}).get("namespace") or "")


DEMOS = list_demos()
POLICY_KINDS = sorted(
    {"CiliumNetworkPolicy", "NetworkPolicy", "PeerAuthentication", "AuthorizationPolicy", "DestinationRule"}
    | {"VirtualService", "Sidecar", "ServiceEntry", "EndpointSlice", "Service"}
)


@pytest.mark.parametrize("demo", [d.name for d in DEMOS])
def test_no_allowed_answer_rests_on_an_unreadable_kind(demo: str) -> None:
    description = next(d.description for d in DEMOS if d.name == demo)
    query = _query(_try_args(description))
    raw = read_demo(demo)
    full = explain(build_model(raw), query)
    rng = random.Random(demo)
    for _ in range(12):
        kinds = set(rng.sample(POLICY_KINDS, rng.randint(1, 4)))
        # hidden wherever the call's hops look: both ends, Istio's root namespace, kube-system
        namespaces = [full.source.namespace, full.destination.namespace or "default", "istio-system", "kube-system"]
        d = explain(build_model(_forbid(raw, kinds, namespaces)), query)
        hidden = [h for h in full.hops if h.decision is not Decision.SKIP and _reads(h.hop, kinds)]
        if hidden:
            assert d.verdict is not Verdict.ALLOWED, (kinds, [(h.hop, h.decision) for h in d.hops])
        if d.verdict is Verdict.ALLOWED:
            # allowed only when no hop's declared inputs were hidden, and then it is the full answer
            assert not any(h.gaps for h in d.hops)
            assert full.verdict is Verdict.ALLOWED
        if full.verdict is not Verdict.ALLOWED and d.verdict is not Verdict.UNKNOWN:
            assert d.verdict in (Verdict.DENIED, Verdict.BROKEN)  # missing data never turns a failure into success


def _reads(hop: Any, kinds: set[str]) -> bool:
    return bool(declared_kinds(hop) & kinds)


def test_a_plain_string_gap_is_informational() -> None:
    assert not Gap("x").concerns(["Pod"], ["red"])
    assert Gap("y", {"*"}).concerns(["Pod"], ["red"])
    assert not Gap("z", {"Pod"}, "blue").concerns(["Pod"], ["red"])


def test_live_reads_virtual_services_of_every_namespace(tmp_path) -> None:
    """A VirtualService exported to every namespace applies to red's sidecar wherever it lives: a
    question about red -> blue must read it, not only red's and blue's (else a false "allowed")."""
    from kubectl_meshdoctor.playground.main import start, write_kubeconfig
    from kubectl_meshdoctor.raw import RawObject

    raw = read_demo("sidecar-s0-baseline")
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform"}}
    vs = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "httpbin-faults", "namespace": "platform"},
        "spec": {
            "hosts": ["httpbin.blue.svc.cluster.local"],
            "http": [
                {
                    "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 100}}},
                    "route": [{"destination": {"host": "httpbin.blue.svc.cluster.local"}}],
                }
            ],
        },
    }
    raw.objects += [RawObject(namespace), RawObject(vs)]
    pg = start(raw)
    try:
        assert pg.api is not None
        kubeconfig = write_kubeconfig(tmp_path / "config", pg.api.url)
        env = {"KUBECONFIG": str(kubeconfig), "HUBBLE_SERVER": ""}
        args = ["explain", "red/netshoot", "blue/httpbin", "--path", "/", "--no-flows", "-o", "json"]  # an HTTP call
        code, out, err = run(args, env)
        doc = json.loads(out)
        assert (code, doc["verdict"], doc["symptom"]) == (1, "broken", "http-503"), err
        assert any(c["code"] == "istio-fault-injection" for c in doc["causes"])
        listed = {r.path for r in pg.api.requests if r.path.endswith("/virtualservices")}
        assert any("/namespaces/" not in p for p in listed), listed
    finally:
        pg.stop()
