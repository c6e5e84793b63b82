"""``kubectl meshdoctor flows SOURCE DESTINATION``: the pair's Hubble flows, annotated."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kubectl_meshdoctor.cli.options import (
    hubble_options,
    kube_options,
    port_option,
    run,
    source_from_flags,
    source_options,
)
from kubectl_meshdoctor.cli.values import COUNT, WINDOW, parse_duration

if TYPE_CHECKING:
    from kubectl_meshdoctor.app import SourceOptions
    from kubectl_meshdoctor.diagnosis.call import Query

EXAMPLES = """\b
Examples:
  kubectl meshdoctor flows red/netshoot blue/httpbin                 # compact, like hubble observe
  kubectl meshdoctor flows red/netshoot blue/httpbin --follow        # stream until Ctrl-C
  kubectl meshdoctor flows red/netshoot blue/httpbin -o json         # {"flow", "hop", "by"} per line
  kubectl meshdoctor flows red/netshoot blue/httpbin --demo sidecar-s2-l7-policy -o jsonpb
"""


@click.command("flows", epilog=EXAMPLES)
@click.argument("source")
@click.argument("destination")
@port_option
@click.option("--since", type=WINDOW, help="Flows of this window, e.g. 5m.")
@click.option("--last", type=COUNT, help="The last N flows (default 20, as hubble observe).")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming new flows until Ctrl-C (live only).")
@click.option("-o", "--output", type=click.Choice(["compact", "json", "jsonpb"]), default="compact", show_default=True)
@source_options
@kube_options
@hubble_options
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def flows(
    source: str,
    destination: str,
    port: int | None,
    since: float | None,
    last: int | None,
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
    that explains it. References as for explain."""

    def body() -> int:

        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.diagnosis.call import Query
        from kubectl_meshdoctor.errors import UsageError

        if last is not None and last <= 0:
            raise UsageError("--last must be a positive number")
        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout, hubble)
        window = parse_duration(since)
        count = last if last is not None or window is not None else 20
        query = Query(source, destination, app.default_namespace(opts, namespace), port, since_seconds=window,
                      last=count, no_flows=True)  # fmt: skip
        if not app.is_live(opts):
            if follow:
                raise UsageError("--follow needs a live cluster (not --from/--demo)")
            return _offline(opts, query, output)
        return _live(opts, query, output, follow)

    run(body, debug)


def _offline(opts: SourceOptions, query: Query, output: str) -> int:
    """--from/--demo: the pair's flows in the file, with --since relative to its newest flow (as explain)."""
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.diagnosis.call import resolve_call
    from kubectl_meshdoctor.diagnosis.evidence import PairSelector
    from kubectl_meshdoctor.render.flows import render

    model = app.load_model(opts)
    diagnosis = app.explain(model, query)
    call = resolve_call(model, query)
    pair = PairSelector.of(call.src.pods, call.dst.pods)
    chosen = [f for f in model.flows if pair.direction(f)]
    if query.since_seconds is not None and model.flows:
        newest = max(f.time.seconds for f in model.flows)
        chosen = [f for f in chosen if f.time.seconds >= newest - query.since_seconds]
    if query.last is not None:
        chosen = chosen[-query.last :]
    for flow in chosen:
        click.echo(render(flow, diagnosis, output))
    return 0


def _live(opts: SourceOptions, query: Query, output: str, follow: bool) -> int:
    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.render.flows import render
    from kubectl_meshdoctor.sources.hubble import flows_request
    from kubectl_meshdoctor.sources.live import LiveSource, namespaces_for, pair_whitelist

    with LiveSource(app.live_options(opts)) as live:
        raw = live.objects(namespaces_for([query.source, query.destination], query.namespace))
        model = app.build_model(raw)
        diagnosis = app.explain(model, query)
        whitelist = pair_whitelist(model, query)
        last = None if follow and query.since_seconds is None and query.last == 20 else query.last
        request = flows_request(whitelist, query.since_seconds, last, follow=follow)

        def warn(text: str) -> None:
            click.echo(f"warning: {text}", err=True)

        try:
            for flow in live.follow(request, warn):
                click.echo(render(flow, diagnosis, output))
        except KeyboardInterrupt:
            return 0  # Ctrl-C ends --follow cleanly
    return 0
