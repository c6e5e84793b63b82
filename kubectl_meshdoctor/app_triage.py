"""The triage use case without click or rich: read the failing flows, load the objects once, explain.

Offline (``--from``, ``--demo``): the objects are read first and the exports streamed through the
failure selection (sources/triage_flows.py). Live: one Relay request for the failures of the window,
then the objects of only the namespaces those failures touch (plus the system ones; measured at L,
a list per kind and namespace for 200 namespaces cost less than listing and building the whole
cluster); with no failure, no object is read. Relay unreachable is a gap and exit 3, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubectl_meshdoctor.app import (
    SourceOptions,
    build_model,
    check_namespaces,
    is_live,
    live_options,
)
from kubectl_meshdoctor.collector import paused_then_frozen
from kubectl_meshdoctor.diagnosis.triage import Finding, TriageResult, triage
from kubectl_meshdoctor.diagnosis.triage_groups import Grouper
from kubectl_meshdoctor.diagnosis.triage_unseen import Unseen, unseen
from kubectl_meshdoctor.errors import UsageError
from kubectl_meshdoctor.model.view import Model

if TYPE_CHECKING:
    from kubectl_meshdoctor.sources.flow_window import Window
    from kubectl_meshdoctor.sources.live import LiveSource

DEFAULT_LIVE_SINCE = 15 * 60.0


@dataclass(slots=True)
class Session:
    """What triage holds between answers (``-f`` adds flows to ``grouper`` and asks again)."""

    model: Model
    grouper: Grouper
    flows_only: bool
    flow_source: str
    namespaces: list[str] | None
    gaps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    loaded: set[str] | None = None  # live: namespaces whose objects are in the model (None: all)
    unseen: tuple[Model, list[Unseen]] | None = None  # what Hubble cannot show, for this model

    def result(self) -> TriageResult:
        findings: list[Finding] = triage(self.model, self.grouper.groups.values(), self.flows_only,
                                         self.flow_source)  # fmt: skip
        warnings = list(dict.fromkeys([*self.warnings, *self.model.warnings]))
        flows = sum(c.group.flows for f in findings for c in f.calls)  # redirects kept only where they fail
        if self.unseen is None or self.unseen[0] is not self.model:  # once per model (-f asks often)
            self.unseen = (self.model, unseen(self.model, self.namespaces))
        hidden = self.unseen[1]  # Istio's own answers: no failing flow shows them
        return TriageResult(findings, flows, list(dict.fromkeys(self.gaps)), warnings, hidden)


def offline(opts: SourceOptions, namespaces: list[str] | None, window: Window) -> Session:
    from kubectl_meshdoctor.sources.flowfiles import memory_file
    from kubectl_meshdoctor.sources.flowlite_lines import KeptLines
    from kubectl_meshdoctor.sources.pair_flows import no_objects
    from kubectl_meshdoctor.sources.triage_flows import read_failures

    if opts.from_path is not None and opts.demo_name is not None:
        raise UsageError("--from and --demo cannot be combined")
    from kubectl_meshdoctor.app import refuse_mesh_input

    refuse_mesh_input(opts)  # issue 21: N-cluster input is read by explain and check only
    if opts.demo_name is not None:
        from kubectl_meshdoctor.sources.demo import read_demo

        raw = read_demo(opts.demo_name)
    else:
        from kubectl_meshdoctor.sources.snapshot import read_snapshot

        assert opts.from_path is not None
        with paused_then_frozen():
            raw = read_snapshot(opts.from_path, lazy_flows=True)
    files = list(raw.flow_files)
    if raw.flows:
        files.append(memory_file(raw.flows))
    raw.flows, raw.flow_files = [], []
    model = build_model(raw)
    flows_only = no_objects(model)
    if not flows_only:
        check_namespaces(model, namespaces)
    grouper = Grouper(None if flows_only else model)
    result = read_failures(files, namespaces, window, grouper.add_read)
    grouper.materialize(KeptLines().parse)
    return Session(model, grouper, flows_only, "snapshot", namespaces, warnings=list(result.warnings))


def flows_request(namespaces: list[str] | None, since_seconds: float | None, until_ns: int | None,
                  follow: bool = False) -> Any:  # fmt: skip
    """The one GetFlowsRequest: the failures of the window, from or to the namespaces."""
    from kubectl_meshdoctor.sources.hubble import flows_request as bounded
    from kubectl_meshdoctor.sources.triage_flows import failure_filters

    request = bounded(failure_filters(namespaces), since_seconds if since_seconds is not None else DEFAULT_LIVE_SINCE,
                      None, follow=follow)  # fmt: skip
    if until_ns is not None:
        request.until.FromNanoseconds(until_ns)
    return request


def touched(flows: list[Any]) -> set[str]:
    """The namespaces at either end of these flows (pods and Service frontends)."""
    out: set[str] = set()
    for flow in flows:
        for ns in (flow.source.namespace, flow.destination.namespace, flow.destination_service.namespace,
                   flow.source_service.namespace):  # fmt: skip
            if ns:
                out.add(ns)
    return out


def entry_namespaces(live: LiveSource, flows: list[Any], warnings: list[str]) -> set[str] | None:
    """Cilium's Envoy (identity ingress, no pod) at an end of a failure: the namespaces holding Gateways
    and Ingresses (one list per kind), so the entry points in front of it are in the model (the flows
    name only the backend; diagnosis/triage_envoy.py). None: no such failure (nothing listed)."""
    from kubectl_meshdoctor.diagnosis.triage_envoy import is_envoy
    from kubectl_meshdoctor.errors import MeshdoctorError

    if not any(is_envoy(f.source) or is_envoy(f.destination) for f in flows):
        return None
    try:
        raw = live.objects(None, frozenset({"Gateway", "Ingress"}))
    except MeshdoctorError as err:
        warnings.append(f"Gateways and Ingresses not listed ({err}): entry points in other namespaces are not read")
        return set()
    return {ns for o in raw.objects if (ns := (o.doc.get("metadata") or {}).get("namespace"))}


def load_objects(live: LiveSource, namespaces: set[str]) -> Model:
    from kubectl_meshdoctor.sources.live import SYSTEM_NAMESPACES

    with paused_then_frozen():
        raw = live.objects(sorted(namespaces | set(SYSTEM_NAMESPACES)), wide=True)  # sources/kube_wide.py
    raw.flows, raw.flow_files = [], []
    return build_model(raw)


def istio_answers(live: LiveSource, namespaces: list[str] | None, warnings: list[str]) -> Model:
    """No failing flow: only the Istio objects that can answer calls themselves (triage_unseen), so
    the answer still says what Hubble cannot show; unreadable, a warning (no failure was seen)."""
    from kubectl_meshdoctor.diagnosis.triage_unseen import KINDS
    from kubectl_meshdoctor.errors import MeshdoctorError

    scope = None if namespaces is None else sorted({*namespaces, "istio-system"})
    try:
        raw = live.objects(scope, KINDS)
    except MeshdoctorError as err:
        warnings.append(f"Istio objects not read ({err}): what Hubble cannot show is not listed")
        return Model()
    raw.flows, raw.flow_files = [], []
    return build_model(raw)


def live_session(live: LiveSource, namespaces: list[str] | None, since_seconds: float | None,
                 until_ns: int | None) -> Session:  # fmt: skip
    """One Relay request for the window's failures, then the objects they need."""
    from kubectl_meshdoctor.diagnosis.triage_live import LiveFailures
    from kubectl_meshdoctor.sources.hubble import RelayError
    from kubectl_meshdoctor.sources.live import relay_down_warning

    gaps: list[str] = []
    warnings: list[str] = []
    failures = LiveFailures(namespaces)  # re-checks each flow on its facts, holds what grouping needs
    try:
        batch = live.flows(flows_request(namespaces, since_seconds, until_ns), failures, hold=False)
        warnings = list(batch.warnings)
        if batch.cut_short:
            gaps.append(batch.cut_short)
    except RelayError as err:
        failures.clear()  # what a failed stream read before failing is dropped
        gaps.append(relay_down_warning(err))
    needed = set(failures.namespaces)
    needed |= entry_namespaces(live, failures.envoy, warnings) or set()
    model = load_objects(live, needed) if needed else istio_answers(live, namespaces, warnings)
    grouper = Grouper(model)
    failures.replay(grouper)
    return Session(model, grouper, False, "hubble", namespaces, gaps, warnings, needed)


def live(opts: SourceOptions, namespaces: list[str] | None, since_seconds: float | None,
         until_ns: int | None) -> Session:  # fmt: skip
    from kubectl_meshdoctor.sources.live import LiveSource

    with LiveSource(live_options(opts)) as source:
        return live_session(source, namespaces, since_seconds, until_ns)


def live_window(window: Window) -> tuple[float | None, int | None]:
    """``--since``/``--until`` for Relay: seconds back from now, and the end in nanoseconds."""
    now = datetime.now(UTC).timestamp()
    until = window.until
    if window.until_back is not None:
        until = int((now - window.until_back) * 1e9)
    since = window.since_back
    if window.since is not None:
        since = max(now - window.since / 1e9, 0.0)
    return since, until


def load(opts: SourceOptions, namespaces: list[str] | None, window: Window) -> Session:
    if not is_live(opts):
        return offline(opts, namespaces, window)
    since, until = live_window(window)
    return live(opts, namespaces, since, until)
