"""Agreement with an independent Kubernetes NetworkPolicy analyzer (issue 11 item 10).

``../shared/data/knp-peer/`` holds 30 test cases of np-guard/netpol-analyzer verbatim (manifests as
shipped: CRLF, typed lists without item kinds, workloads without pods) and its expected
connectivity per workload pair. Every case is loaded through the real offline reader and model,
and every pod-to-pod TCP/UDP verdict on a set of probe ports (every port, range bound and
neighbour a policy or container names, plus a few others) is compared with the peer's.

Documented differences (not counted as disagreement, listed in the summary):

* host-network pods. The peer treats them as ordinary pods. Cilium gives them no endpoint: as a
  source they carry the node's identity (``host`` on the same node, ``remote-node`` otherwise), which
  pod and namespace selectors never match, and as a destination pod policies do not apply to them
  [S] Cilium docs, Documentation/security/policy/language.rst (entities ``host`` and
  ``remote-node`` "include host-networking pods") and kubernetes.rst; semantics.md A1.5.
  To show the difference is only that, those verdicts are recomputed with the host-network pods
  treated as ordinary pods (what the peer assumes) and must then all agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from kubectl_meshdoctor.engines.cilium.decide import evaluate
from kubectl_meshdoctor.engines.cilium.identity import peer_view
from kubectl_meshdoctor.findings.types import Decision
from kubectl_meshdoctor.model.build import Model, build_model
from kubectl_meshdoctor.model.objects import Pod, pod_peer
from kubectl_meshdoctor.sources.snapshot import read_snapshot

PEER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "knp-peer"
PROTOCOLS = ("TCP", "UDP")
EXTRA_PORTS = (1, 22, 53, 80, 443, 5000, 8080, 9090, 33333, 65535)
_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conns>.+)$")

Conns = dict[str, list[tuple[int, int]]] | None  # None = All Connections


def _cases() -> list[str]:
    if not (PEER / "tests").is_dir():
        return []
    return sorted(p.name for p in (PEER / "tests").iterdir() if p.is_dir())


def parse_conns(text: str) -> Conns:
    """``All Connections`` or ``SCTP 9003,TCP 80,8080-8090,UDP 53`` (a bare range continues the protocol)."""
    if text.strip() == "All Connections":
        return None
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    proto = ""
    for token in text.split(","):
        parts = token.strip().split()
        if len(parts) == 2:
            proto, spec = parts
        else:
            spec = parts[0]
        lo, _, hi = spec.partition("-")
        out[proto].append((int(lo), int(hi or lo)))
    return dict(out)


def expected_pairs(case: str) -> dict[tuple[str, str], Conns]:
    out: dict[tuple[str, str], Conns] = {}
    for line in (PEER / "expected" / f"{case}_connlist_output.txt").read_text().splitlines():
        m = _LINE.match(line.strip())
        if m and "[External]" not in line and "{" not in line:
            out[(m["src"], m["dst"])] = parse_conns(m["conns"])
    return out


def allows(conns: Conns, proto: str, port: int) -> bool:
    if conns is None:
        return True
    return any(lo <= port <= hi for lo, hi in conns.get(proto, ()))


def peer_name(pod: Pod) -> str:
    """How the peer names a pod's workload: its owner reference (kind Pod when unstated), else the pod."""
    if pod.owner_name:
        return f"{pod.namespace}/{pod.owner_name}[{pod.owner_kind or 'Pod'}]"
    return f"{pod.namespace}/{pod.name}[Pod]"


def probe_ports(model: Model, expected: dict[tuple[str, str], Conns]) -> list[int]:
    ports = set(EXTRA_PORTS)
    named: set[str] = set()
    for rule in model.cilium.rules:
        for entry in rule.ingress + rule.egress:
            for pr in entry.to_ports:
                for pp in pr.ports:
                    if pp.port.isdigit():
                        n = int(pp.port)
                        ports |= {n - 1, n, n + 1}
                        if pp.end_port:
                            ports |= {pp.end_port - 1, pp.end_port, pp.end_port + 1}
                    else:
                        named.add(pp.port)
    for pod in model.pods.values():
        for cp in pod.ports:
            ports |= {cp.port - 1, cp.port, cp.port + 1} if cp.name in named else {cp.port}
    for conns in expected.values():
        for spans in (conns or {}).values():
            for lo, hi in spans:
                ports |= {lo - 1, lo, hi, hi + 1}
    return sorted(p for p in ports if 1 <= p <= 65535)


def as_pod(pod: Pod) -> Pod:
    return replace(pod, host_network=False) if pod.host_network else pod


def ours(model: Model, src: Pod, dst: Pod, proto: str, port: int) -> bool:
    """Both ends must agree (A1.8.6): client egress, then server ingress as Cilium sees the peer."""
    egress = evaluate(model, src, "egress", pod_peer(dst, peer_name(dst)), port, proto)
    if egress.decision is not Decision.ALLOW:
        return False
    view = peer_view(src, peer_name(src), dst)
    return all(evaluate(model, dst, "ingress", peer, port, proto).decision is Decision.ALLOW for peer in view.peers)


@dataclass
class Tally:
    verdicts: int = 0
    agree: int = 0
    documented: int = 0
    documented_differ: int = 0
    as_pods_wrong: int = 0
    pairs: set[tuple[str, str]] = field(default_factory=set)
    wrong: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # objects the API server would reject (absent for us)


def run_case(case: str) -> Tally:
    model = build_model(read_snapshot(str(PEER / "tests" / case)))
    expected = expected_pairs(case)
    ports = probe_ports(model, expected)
    pods = sorted(model.pods.values(), key=lambda p: p.key())
    tally = Tally()
    # documented difference 2: the peer reads objects the API server would reject (e.g. a container
    # port written `containerport:`); contract §7 evaluates them as absent and reports invalid-object
    tally.invalid = [c.objects[0].key() for c in model.invalid]
    for src in pods:
        for dst in pods:
            a, b = peer_name(src), peer_name(dst)
            if a == b:
                continue  # the peer never lists a workload to itself
            conns = expected.get((a, b), {})
            tally.pairs.add((a, b))
            for proto in PROTOCOLS:
                for port in ports:
                    want = allows(conns, proto, port)
                    got = ours(model, src, dst, proto, port)
                    tally.verdicts += 1
                    if src.host_network or dst.host_network:
                        # documented difference: the peer treats host-network pods as ordinary pods.
                        # Our engine, told the same, must agree with it; only the identity differs.
                        tally.documented += 1
                        tally.documented_differ += got != want
                        as_pods = ours(model, as_pod(src), as_pod(dst), proto, port)
                        if as_pods != want and len(tally.wrong) < 5:
                            tally.wrong.append(f"{src.key()} -> {dst.key()} {proto}/{port} (as pods): peer {want}")
                        tally.as_pods_wrong += as_pods != want
                    elif got == want:
                        tally.agree += 1
                    elif len(tally.wrong) < 5:
                        tally.wrong.append(f"{src.key()} -> {dst.key()} {proto}/{port}: peer {want}, ours {got}")
    return tally


@pytest.mark.skipif(not _cases(), reason="../shared/data/knp-peer not beside the repo")
def test_knp_peer_suite_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    cases = _cases()
    assert len(cases) == 30
    total = Tally()
    lines = []
    for case in cases:
        t = run_case(case)
        if t.invalid:
            lines.append(f"  {case}: rejected by the API server's schema, absent for us: {', '.join(t.invalid)}")
            total.invalid.extend(t.invalid)
        assert t.verdicts or t.invalid, f"{case}: no pod pairs loaded (manifests not read?)"
        counted = t.verdicts - t.documented
        lines.append(f"  {case}: {t.agree}/{counted}" + (f" (+{t.documented} host-network)" if t.documented else ""))
        total.verdicts += t.verdicts
        total.agree += t.agree
        total.documented += t.documented
        total.documented_differ += t.documented_differ
        total.as_pods_wrong += t.as_pods_wrong
        total.pairs |= {(case, *p) for p in t.pairs}  # type: ignore[arg-type]
        total.wrong.extend(f"{case}: {w}" for w in t.wrong)
    counted = total.verdicts - total.documented
    summary = (
        f"knp-peer agreement: {total.agree}/{counted} pod-to-pod TCP/UDP verdicts over {len(cases)} cases, "
        f"{len(total.pairs)} workload pairs; {total.documented} verdicts involve host-network pods "
        f"(documented difference, not counted; {total.documented_differ} of them differ from the peer, "
        f"{total.as_pods_wrong} when they are treated as ordinary pods as the peer does); "
        f"{len(total.invalid)} object(s) the API server would reject are absent for us (documented difference)"
    )
    with capsys.disabled():
        print("\n" + summary + "\n" + "\n".join(lines))
    assert total.agree == counted and total.as_pods_wrong == 0, summary + "\n" + "\n".join(total.wrong[:20])


@pytest.mark.parametrize(
    ("text", "proto", "port", "expected"),
    [
        ("All Connections", "UDP", 9, True),
        ("SCTP 9003,TCP 80,8080-8090,UDP 53", "TCP", 8085, True),
        ("SCTP 9003,TCP 80,8080-8090,UDP 53", "TCP", 8091, False),
        ("SCTP 9003,TCP 80,8080-8090,UDP 53", "UDP", 80, False),
        ("SCTP 9003,TCP 80,8080-8090,UDP 53", "UDP", 53, True),
    ],
)
def test_parse_peer_connections(text: str, proto: str, port: int, expected: bool) -> None:
    assert allows(parse_conns(text), proto, port) is expected
