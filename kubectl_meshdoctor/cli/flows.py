"""``kubectl meshdoctor flows SOURCE DESTINATION``: the pair's Hubble flows, annotated."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from kubectl_meshdoctor.cli.options import (
    debug_option,
    hubble_options,
    kube_options,
    run,
    source_from_flags,
    source_options,
)
from kubectl_meshdoctor.cli.values import COUNT, PORT, WINDOW, OptionError

if TYPE_CHECKING:
    from kubectl_meshdoctor.app import SourceOptions
    from kubectl_meshdoctor.diagnosis.call import Query
    from kubectl_meshdoctor.findings.types import Diagnosis
    from kubectl_meshdoctor.sources.flow_window import Window
    from kubectl_meshdoctor.sources.flowflags import FlowOptions

_Moment = tuple[int | None, float | None]
if TYPE_CHECKING:
    _WhenParam = click.ParamType[_Moment]
else:
    _WhenParam = click.ParamType


class _When(_WhenParam):
    """``--since``/``--until``: an RFC 3339 time (to the nanosecond, as Hubble records), a
    ``2026-11-20 10:00`` (UTC), or a duration (5m), as ``(absolute ns, None)`` or ``(None, seconds back)``."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> _Moment:
        if isinstance(value, tuple):
            return (value[0], value[1])
        from google.protobuf import timestamp_pb2

        text = str(value).strip()
        stamp = timestamp_pb2.Timestamp()
        try:
            stamp.FromJsonString(text)
            return stamp.seconds * 1_000_000_000 + stamp.nanos, None
        except ValueError:
            pass
        if re.fullmatch(r"\d{4}-\d\d-\d\d([ T].*)?", text):
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise OptionError(f"{text}: not a time (2026-11-20T10:00:00Z) or a duration (5m)", ctx, param) from None
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000, None
        return None, WINDOW.convert(text, param, ctx)


WHEN = _When()


EXAMPLES = """\b
Examples:
  kubectl meshdoctor flows red/netshoot blue/httpbin                 # compact, like hubble observe
  kubectl meshdoctor flows red/netshoot blue/httpbin --follow        # stream until Ctrl-C
  kubectl meshdoctor flows red/netshoot blue/httpbin -o json         # {"flow", "hop", "by"} per line
  kubectl meshdoctor flows red/netshoot blue/httpbin --verdict DROPPED --since 10m
  hubble observe -o jsonpb --last 10000 | kubectl meshdoctor flows red/netshoot blue/httpbin --from -
  kubectl meshdoctor flows red/netshoot blue/httpbin --from events.log --from events-2026-11-20T10-00-00.000.log.gz
"""


@click.command("flows", epilog=EXAMPLES)
@click.argument("source")
@click.argument("destination")
@click.option("--port", "ports", type=PORT, multiple=True,
              help="Only flows with this source or destination port (as hubble observe --port); "
                   "the first one is also the port the annotation reasons about.")  # fmt: skip
@click.option("--verdict", "verdicts", multiple=True, help="Only flows with this verdict (FORWARDED, DROPPED, ...).")
@click.option("--http-status", "http_status", multiple=True, help="Only L7 responses with this code (403, 5+).")
@click.option(
    "--type", "types", multiple=True, help="Only this event type: trace[:to-endpoint], drop, l7, policy-verdict..."
)
@click.option("--since", type=WHEN, help="Flows since: RFC 3339, or a duration (5m; offline: before the newest flow).")
@click.option("--until", type=WHEN, help="Flows until a time, as --since.")
@click.option("--last", type=COUNT, help="The last N flows (live default 20, as hubble observe).")
@click.option("--first", type=COUNT, help="The first N flows.")
@click.option(
    "--all", "all_flows", is_flag=True, help="All flows (the offline default, as hubble observe --input-file)."
)
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new flows until Ctrl-C (live only).")
@click.option("-o", "--output", type=click.Choice(["compact", "json", "jsonpb"]), default="compact", show_default=True)
@source_options
@kube_options
@hubble_options
@debug_option
def flows(
    source: str,
    destination: str,
    ports: tuple[int, ...],
    verdicts: tuple[str, ...],
    http_status: tuple[str, ...],
    types: tuple[str, ...],
    since: _Moment | None,
    until: _Moment | None,
    last: int | None,
    first: int | None,
    all_flows: bool,
    follow: bool,
    output: str,
    from_path: str | None,
    demo_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    request_timeout: float,
    debug: bool,
    **hubble: object,
) -> None:
    """The Hubble flows of SOURCE <-> DESTINATION (both directions), each with the hop and policy
    that explains it. References as for explain; with flows only (no objects in --from) they
    resolve from the flows' endpoints. Filters as in hubble observe."""

    def body() -> int:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.diagnosis.call import Query
        from kubectl_meshdoctor.errors import UsageError
        from kubectl_meshdoctor.sources.flow_window import Window
        from kubectl_meshdoctor.sources.flowflags import FlowOptions

        if sum(x is not None for x in (last, first)) + all_flows > 1:
            raise UsageError("--first, --last and --all cannot be combined")
        if first is not None and follow:
            raise UsageError("--first and --follow cannot be combined")
        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout, hubble)
        since_at, since_back = since or (None, None)
        until_at, until_back = until or (None, None)
        window = Window(since_at, until_at, since_back, until_back, first, last)
        options = FlowOptions(verdicts, http_status, ports, types)
        try:
            options.filters()
        except ValueError as err:
            raise UsageError(str(err)) from None
        port = ports[0] if ports else None
        query = Query(source, destination, app.default_namespace(opts, namespace), port, since_seconds=since_back,
                      last=last, no_flows=True)  # fmt: skip
        if not app.is_live(opts):
            if follow:
                raise UsageError("--follow needs a live cluster (not --from/--demo)")
            return _offline(opts, query, options, window, output)
        return _live(opts, query, options, window, output, follow, all_flows)

    run(body, debug)


def _offline(opts: SourceOptions, query: Query, options: FlowOptions, window: Window, output: str) -> int:
    """--from/--demo: the pair's flows streamed from the input (sources/pair_flows.py)."""
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.app_flows import exact_pods, from_refs
    from kubectl_meshdoctor.raw import RawSnapshot
    from kubectl_meshdoctor.render.flows import render
    from kubectl_meshdoctor.sources.flow_window import select
    from kubectl_meshdoctor.sources.flowfiles import FlowFile, memory_file
    from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
    from kubectl_meshdoctor.sources.pair_flows import PairSpec, missing_refs, no_objects

    raw: RawSnapshot = app.load_raw(opts, query)  # objects; flows stay in their files
    files: list[FlowFile] = list(raw.flow_files)
    if raw.flows:  # demos and other in-memory inputs
        files.append(memory_file(raw.flows))
    raw.flow_files = []
    model = app.build_model(raw)
    diagnosis: Diagnosis | None = None
    spec: PairSpec
    if no_objects(model):
        spec = from_refs(query)
    else:
        diagnosis = app.explain(model, query)
        spec = exact_pods(model, query)
    printed = [0]
    pending: list[str] = []
    stdout = sys.stdout

    def out(flow: Any) -> None:
        printed[0] += 1
        pending.append(render(flow, diagnosis, output) + "\n")
        if len(pending) >= 512:  # one write per batch: a line per write costs more than the rest
            stdout.write("".join(pending))
            pending.clear()

    result = select(files, spec, FlowMatcher(options.filters()), window, out)
    stdout.write("".join(pending))
    stdout.flush()
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not printed[0] and spec.refs is not None:
        unknown = missing_refs(files, spec.refs)
        if unknown is not None:
            from kubectl_meshdoctor.model.flow_refs import resolve

            for ref in spec.refs:  # raises for the reference no flow names
                resolve(unknown, ref.text, query.namespace, allow_external=ref is spec.refs[1])
    if not printed[0]:
        click.echo("no flow of this pair in the input matches", err=True)
    return 0


def _live(opts: SourceOptions, query: Query, options: FlowOptions, window: Window, output: str, follow: bool,
          all_flows: bool) -> int:  # fmt: skip
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.app_flows import exact_pods, pair_whitelist
    from kubectl_meshdoctor.render.flows import render
    from kubectl_meshdoctor.sources.flow_window import in_window_ns
    from kubectl_meshdoctor.sources.flowfilter import FlowMatcher
    from kubectl_meshdoctor.sources.flowflags import combine
    from kubectl_meshdoctor.sources.hubble import flows_request
    from kubectl_meshdoctor.sources.live import LiveSource, namespaces_for

    with LiveSource(app.live_options(opts)) as live:
        raw = live.objects(namespaces_for([query.source, query.destination], query.namespace))
        model = app.build_model(raw)
        diagnosis = app.explain(model, query)
        spec = exact_pods(model, query)  # Relay matches pod-name prefixes; re-checked exactly here
        whitelist = combine(pair_whitelist(model, query), options.filters())
        timed = window.since is not None or window.since_back is not None or window.until is not None
        last = window.last
        if last is None and window.first is None and not all_flows and not timed and not follow:
            last = 20  # hubble observe's default
        request = flows_request(whitelist, window.since_back, last, follow=follow)
        if all_flows:
            request.number = (1 << 64) - 1  # hubble: --all is an alias for --last uint64 max
        if window.first is not None:
            request.first, request.number = True, window.first
        if window.since is not None:
            request.since.FromNanoseconds(window.since)
        until = window.until
        if window.until_back is not None:
            until = int((datetime.now(UTC).timestamp() - window.until_back) * 1e9)
        if until is not None:
            request.until.FromNanoseconds(until)
        options_match = FlowMatcher(options.filters())

        def warn(text: str) -> None:
            click.echo(f"warning: {text}", err=True)

        try:
            for flow in live.follow(request, warn):
                if spec.direction(flow) and options_match(flow) and in_window_ns(flow, window.since, until):
                    click.echo(render(flow, diagnosis, output))
        except KeyboardInterrupt:
            return 0  # Ctrl-C ends --follow cleanly
    return 0
