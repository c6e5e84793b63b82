"""Typed results of a diagnosis. Every string the contract spells is a StrEnum."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from kubectl_meshdoctor.findings.gateway_types import GatewayAnswer, MeshRouteAnswer


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    BREAK = "break"
    SKIP = "skip"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    BROKEN = "broken"
    UNKNOWN = "unknown"


class Symptom(StrEnum):
    OK = "ok"
    HTTP_400 = "http-400"
    HTTP_403 = "http-403"
    HTTP_404 = "http-404"
    HTTP_502 = "http-502"
    HTTP_500 = "http-500"
    HTTP_503 = "http-503"
    HTTP_504 = "http-504"
    TIMEOUT = "timeout"
    RESET = "reset"
    REFUSED = "refused"
    DNS_FAILURE = "dns-failure"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Mesh(StrEnum):
    SIDECAR = "sidecar"
    AMBIENT = "ambient"
    NONE = "none"
    UNKNOWN = "unknown"  # flows only: the flows do not show the endpoint's mesh mode


class Hop(StrEnum):
    """Hop names of the call path (semantics.md B24), in order."""

    GATEWAY = "gateway"  # issue 20: north-south, the gateway's listener and route (world → gateway)
    RESOLVE = "resolve"
    DNS = "dns"
    CLIENT_EGRESS = "cilium-egress"
    CLIENT_PROXY = "client-proxy"
    CLIENT_ROUTE = "client-route"
    CILIUM_INGRESS = "cilium-ingress"
    CILIUM_L7 = "cilium-l7"
    WAYPOINT = "waypoint"
    SERVER_PROXY = "server-proxy"
    APP = "app"


HOP_TITLES: Mapping[Hop, str] = {
    Hop.GATEWAY: "gateway listener / route",
    Hop.RESOLVE: "service / endpoints",
    Hop.DNS: "DNS (kube-dns egress)",
    Hop.CLIENT_EGRESS: "client egress (Cilium)",
    Hop.CLIENT_PROXY: "client sidecar/ztunnel",
    Hop.CLIENT_ROUTE: "client sidecar routing",
    Hop.CILIUM_INGRESS: "server ingress L3/L4",
    Hop.CILIUM_L7: "Cilium L7 proxy",
    Hop.WAYPOINT: "waypoint (L7 authz)",
    Hop.SERVER_PROXY: "server sidecar/ztunnel",
    Hop.APP: "app",
}


@dataclass(frozen=True, slots=True)
class ObjectRef:
    kind: str
    namespace: str | None
    name: str
    rule: str | None = None  # "specs[0].ingress[0].toPorts[0].rules.http"
    origin: str | None = None  # "blue/l7.yaml:14" offline

    def key(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        rule = f" {self.rule}" if self.rule else ""
        return f"{self.kind} {ns}{self.name}{rule}"

    def key_tuple(self) -> tuple[str, str | None, str]:
        return (self.kind, self.namespace, self.name)

    def with_rule(self, rule: str | None) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name, rule, self.origin)


ALL_KINDS = "*"


class Gap(str):
    """Something the answer could not see, as the sentence the user reads.

    A ``str`` so gap lists print and serialise as the contract's ``"gaps": [...]`` strings; it also
    says which inputs it concerns, so a hop that depends on them becomes ``unknown`` (contract §7)
    instead of deciding on a partial view:

    * ``kinds``: Kubernetes kinds whose objects are missing or incomplete (``"CiliumNetworkPolicy"``);
      ``"*"`` = every kind. Empty = informational only (e.g. a CRD that is not installed: no object of
      that kind can exist, so nothing is missing).
    * ``namespace``: where they are missing; ``None`` = every namespace (and cluster-scoped kinds).
    * ``objects``: the objects it names (an invalid or unevaluable object).
    """

    kinds: frozenset[str]
    namespace: str | None
    objects: tuple[ObjectRef, ...]

    def __new__(
        cls,
        message: str,
        kinds: Iterable[str] = (),
        namespace: str | None = None,
        objects: Iterable[ObjectRef] = (),
    ) -> Gap:
        gap = super().__new__(cls, message)
        gap.kinds = frozenset(kinds)
        gap.namespace = namespace
        gap.objects = tuple(objects)
        return gap

    def concerns(self, kinds: Iterable[str], namespaces: Iterable[str | None]) -> bool:
        """Does this gap hide objects of one of ``kinds`` in one of ``namespaces``?"""
        if not self.kinds:
            return False
        wanted = set(kinds)
        if ALL_KINDS not in self.kinds and not (self.kinds & wanted):
            return False
        return self.namespace is None or self.namespace in set(namespaces)


def gap_kinds(gap: str) -> frozenset[str]:
    """The kinds a gap concerns (a plain string concerns none)."""
    return gap.kinds if isinstance(gap, Gap) else frozenset()


@dataclass(frozen=True, slots=True)
class Cause:
    code: str  # a key of findings.catalog.CAUSES
    objects: tuple[ObjectRef, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""  # the concrete sentence for this case
    severity: Severity | None = None  # None = the catalog's default


@dataclass(frozen=True, slots=True)
class HopResult:
    hop: Hop
    decision: Decision
    by: tuple[ObjectRef, ...]
    detail: str
    symptom: Symptom | None = None  # what the client sees if this hop breaks
    verdict: Verdict | None = None  # denied / broken / unknown when decision is not allow/skip
    causes: tuple[Cause, ...] = ()
    gaps: tuple[str, ...] = ()  # what this hop could not see (it is then unknown)
    # the kinds this result rests on when fewer than the hop's declared inputs (diagnosis/inputs.py),
    # e.g. a sidecar hop skipped because the pod has no sidecar reads only Pods and Namespaces
    reads: tuple[str, ...] | None = None
    leg: str | None = None  # "red/netshoot → waypoint blue/waypoint" when the call has several legs
    cluster: str | None = None  # multi-cluster input (issue 21): the cluster whose objects decide this hop


@dataclass(slots=True)
class Evidence:
    source: str = "none"  # hubble | snapshot | none
    flows: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    drop_reasons: dict[str, int] = field(default_factory=dict)
    http_status: dict[str, int] = field(default_factory=dict)
    agrees: bool | None = None
    summary: str = ""
    observed: str | None = None  # the outcome the flows suggest, e.g. "timeout", "http-403"
    window: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    namespace: str
    workload: str
    kind: str
    pods: tuple[str, ...]
    mesh: Mesh
    identity: str | None = None
    service: str | None = None
    port: int | None = None
    target_port: int | None = None
    external: str | None = None  # IP/CIDR/DNS target outside the cluster
    cluster: str | None = None  # multi-cluster input (issue 21): the Cilium cluster-name of the endpoint


@dataclass(frozen=True, slots=True)
class Request:
    protocol: str = "TCP"
    method: str = "GET"
    path: str = "/"
    host: str | None = None  # the name the client uses, e.g. httpbin.blue
    headers: Mapping[str, str] = field(default_factory=dict)
    app_protocol: str = "http"  # tcp | http | grpc: the payload assumed (issue 22)
    app_protocol_why: str = ""  # --app-protocol, the Service port's declaration, or the default


@dataclass(frozen=True, slots=True)
class CallChange:
    """One call of the matrix a fix touches, before and after the fix (what-if, static)."""

    source: str  # ns/workload
    destination: str  # ns/workload
    port: int | None
    protocol: str
    method: str
    path: str
    before: Verdict
    after: Verdict
    refused_by: str = ""  # a widening: the user's rule that refuses this request

    def label(self) -> str:
        port = f" {self.protocol}/{self.port}" if self.port is not None else ""
        return f"{self.source} → {self.destination}{port} {self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class FixProof:
    """A fix as a proposal with its proof (issue 17): applied in memory, the call it resolves, every
    other call whose verdict it changes (blast radius), the requests the user's policies refuse that
    it would let through (``widened``: intent lost) and the rules it cannot carry over (``lost``)."""

    title: str
    manifests: tuple[str, ...]
    applied: tuple[str, ...]
    before: Verdict
    after: Verdict
    after_symptom: Symptom
    compared: int  # other calls compared
    namespaces: tuple[str, ...]
    ports: tuple[int, ...]
    changes: tuple[CallChange, ...]
    widened: tuple[CallChange, ...]
    kept: int = 0  # requests refused for another reason before that stay refused
    lost: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    chosen: bool = False

    @property
    def resolves(self) -> bool:
        return self.after is Verdict.ALLOWED


@dataclass(slots=True)
class Diagnosis:
    source: Endpoint
    destination: Endpoint
    request: Request
    verdict: Verdict
    symptom: Symptom
    hops: list[HopResult]
    causes: list[Cause]
    evidence: Evidence
    gaps: list[str]
    warnings: list[str] = field(default_factory=list)
    fixes: list[FixProof] = field(default_factory=list)  # the fix proposals with their proof
    share: float | None = None  # percent of requests that get the symptom (issue 17); None = every request
    gateway: GatewayAnswer | None = None  # issue 20: what the gateway on the path did with the request
    mesh_route: MeshRouteAnswer | None = None  # issue 20 §3: the GAMMA route attached to the called Service
