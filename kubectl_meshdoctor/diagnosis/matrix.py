"""matrix(): the predicted (and observed) outcome of every client -> server pair.

One model, one flow index and the per-pod policy caches are shared by all cells
(no per-cell reload); each cell is one explain().
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_meshdoctor.diagnosis.call import Query
from kubectl_meshdoctor.diagnosis.explain import explain
from kubectl_meshdoctor.errors import MeshdoctorError, UsageError
from kubectl_meshdoctor.findings.types import Diagnosis, Symptom, Verdict
from kubectl_meshdoctor.model.objects import Workload
from kubectl_meshdoctor.model.refs import services_for
from kubectl_meshdoctor.model.view import Model

SHORT = {
    Symptom.OK: "200",
    Symptom.HTTP_403: "403",
    Symptom.HTTP_404: "404",
    Symptom.HTTP_502: "502",
    Symptom.HTTP_503: "503",
    Symptom.TIMEOUT: "000",
    Symptom.RESET: "reset",
    Symptom.REFUSED: "refused",
    Symptom.DNS_FAILURE: "dns",
    Symptom.UNKNOWN: "?",
}
OBSERVED = {"ok": "200", "dropped": "000", "proxied-no-l7": "proxied", "forwarded": "fwd", "audit": "audit"}


@dataclass(frozen=True, slots=True)
class Cell:
    source: str
    destination: str
    verdict: Verdict
    symptom: Symptom
    causes: tuple[str, ...]
    observed: str | None
    agrees: bool | None
    error: str | None = None
    gaps: tuple[str, ...] = ()  # what the cell's hops could not see (the cell is then unknown)
    clusters: tuple[str, str] | None = None  # N-cluster input (issue 21): the client's and the server's cluster

    @property
    def predicted(self) -> str:
        return SHORT.get(self.symptom, self.symptom.value.removeprefix("http-"))


# labels Istio puts on the waypoints and gateways it deploys for Gateway API Gateways
_PROXY_LABELS = ("gateway.networking.k8s.io/gateway-name", "gateway.istio.io/managed")


def to_cell(source: str, destination: str, d: Diagnosis) -> Cell:
    """The cell of one explain answer: its verdict, causes, what Hubble observed and the hops' gaps."""
    observed = d.evidence.observed
    shown = None
    if observed is not None and d.evidence.flows:
        shown = OBSERVED.get(observed, observed.removeprefix("http-"))
    return Cell(
        source,
        destination,
        d.verdict,
        d.symptom,
        tuple(c.code for c in d.causes),
        shown,
        d.evidence.agrees if d.evidence.flows else None,
        gaps=tuple(dict.fromkeys(g for h in d.hops for g in h.gaps)),
    )


def matrix_exit_code(cells: list[Cell]) -> int:
    """Contract §6: 1 when a call fails, else 3 when a cell could not be decided, else 0."""
    if any(c.verdict in (Verdict.DENIED, Verdict.BROKEN) for c in cells):
        return 1
    return 3 if any(c.verdict is Verdict.UNKNOWN for c in cells) else 0


def _matches(w: Workload, selector: dict[str, str]) -> bool:
    labels = w.pods[0].labels if w.pods else w.selector
    return all(labels.get(k) == v for k, v in selector.items())


def workloads(model: Model, namespaces: list[str] | None, selector: dict[str, str]) -> list[Workload]:
    out = []
    known = {(p.namespace, p.workload_name) for p in model.pods.values()}
    pods_only = [
        Workload(p.namespace, p.name, "Pod", dict(p.labels), pods=[p])
        for p in model.pods.values()
        if p.workload_kind == "Pod"
    ]
    for w in list(model.workloads.values()) + pods_only:
        if namespaces is not None and w.namespace not in namespaces:
            continue
        if not w.pods or (w.namespace, w.name) not in known or w.pods[0].host_network:
            continue
        if any(k in w.pods[0].labels for k in _PROXY_LABELS):
            continue  # a waypoint or gateway deployment is a hop of other calls (explain shows its legs)
        if selector and not _matches(w, selector):
            continue
        out.append(w)
    return sorted(out, key=lambda w: (w.namespace, w.name))


def is_server(model: Model, w: Workload) -> bool:
    app_ports = [port for p in w.pods for port in p.ports if port.container not in ("istio-proxy", "istio-init")]
    return bool(services_for(model, w.pods)) or bool(app_ports)


def parse_selector(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-l {text!r}: use key=value[,key=value]")
        out[key.strip()] = value.strip()
    return out


def matrix(
    model: Model,
    namespaces: list[str] | None,
    selector: dict[str, str],
    method: str = "GET",
    path: str = "/",
    no_flows: bool = False,
) -> tuple[list[Workload], list[Workload], list[Cell]]:
    if namespaces is not None:
        missing = [ns for ns in namespaces if ns not in model.namespaces and ns not in model.pods_by_ns]
        if missing and model.namespaces:
            from kubectl_meshdoctor.model.refs import closest

            known = sorted(set(model.namespaces) | set(model.pods_by_ns))
            hints = [f"{ns} (did you mean {', '.join(h)}?)" if (h := closest(ns, known)) else ns for ns in missing]
            raise UsageError(f"namespace(s) not found: {', '.join(hints)}")
    chosen = workloads(model, namespaces, selector)
    clients = chosen
    servers = [w for w in chosen if is_server(model, w)]
    cells: list[Cell] = []
    for c in clients:
        for s in servers:
            if (c.namespace, c.name) == (s.namespace, s.name):
                continue
            src, dst = f"{c.namespace}/{c.name}", f"{s.namespace}/{s.name}"
            kinds = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}
            target = dst if s.kind == "Pod" else f"{s.namespace}/{kinds[s.kind]}/{s.name}"
            origin = f"{c.namespace}/pod/{c.name}" if c.kind == "Pod" else f"{c.namespace}/{kinds[c.kind]}/{c.name}"
            query = Query(origin, target, c.namespace, method=method, path=path, no_flows=no_flows)
            try:
                d = explain(model, query)
            except MeshdoctorError as err:
                cells.append(Cell(src, dst, Verdict.UNKNOWN, Symptom.UNKNOWN, (), None, None, str(err)))
                continue
            cells.append(to_cell(src, dst, d))
    return clients, servers, cells
