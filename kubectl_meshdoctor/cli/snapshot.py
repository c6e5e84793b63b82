"""``kubectl meshdoctor snapshot -o PATH``: capture objects and flows for ``--from``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kubectl_meshdoctor.cli.options import (
    command_timeout,
    debug_option,
    hubble_options,
    kube_options,
    request_seconds,
    run,
)
from kubectl_meshdoctor.cli.values import COUNT, WINDOW, parse_duration

if TYPE_CHECKING:
    from kubectl_meshdoctor.app import SourceOptions

EXAMPLES = """\b
Examples:
  kubectl meshdoctor snapshot -o ./snap                 # every namespace, last flows
  kubectl meshdoctor snapshot -o snap.tar.gz -n red,blue --since 10m
  kubectl meshdoctor explain red/netshoot blue/httpbin --from snap.tar.gz
"""


@click.command("snapshot", epilog=EXAMPLES)
@click.option("-o", "--output", "out", required=True, metavar="PATH", help="A new directory, or a .tar.gz file.")
@click.option("--since", type=WINDOW, help="Flows of this window, e.g. 10m (default: the last flows).")
@click.option("--last", type=COUNT, help="The last N flows (per node, as Relay counts).")
@click.option("--no-flows", is_flag=True, help="Objects only.")
@click.option("--require-flows", is_flag=True, help="Exit 3 when Hubble flows cannot be read.")
@kube_options
@hubble_options
@debug_option
def snapshot(
    out: str,
    since: float | None,
    last: int | None,
    no_flows: bool,
    require_flows: bool,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    request_timeout: float,
    debug: bool,
    **hubble: object,
) -> None:
    """Capture cluster objects and Hubble flows as a snapshot (contract §3) for --from.

    -n takes a comma-separated list (kube-system and istio-system are always included);
    without it every namespace is captured. Secrets are never read.
    """

    def body() -> int:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.errors import DataError, UsageError
        from kubectl_meshdoctor.sources.live import capture
        from kubectl_meshdoctor.sources.snapshot_write import write_snapshot

        if last is not None and last <= 0:
            raise UsageError("--last must be a positive number")
        opts = app.SourceOptions(
            kubeconfig=kubeconfig,
            context=kube_context,
            request_timeout=request_seconds(request_timeout),
            timeout=command_timeout(),
            progress=sys.stderr.isatty(),
        )
        opts = app.with_hubble(opts, hubble)
        namespaces = [n.strip() for n in namespace.split(",") if n.strip()] if namespace else None
        if kube_context and "," in kube_context:  # issue 21: clusters/<name>/ per context, plus mesh.yaml
            return _several(opts, kube_context, namespaces, since, last, no_flows, require_flows, out)
        raw = capture(app.live_options(opts), namespaces, parse_duration(since), last, not no_flows)
        for warning in raw.warnings:
            click.echo(f"warning: {warning}", err=True)
        if require_flows and raw.flow_source == "none":
            raise DataError("--require-flows: no Hubble flows could be read")
        files = write_snapshot(raw, out)
        click.echo(f"meshdoctor: wrote {len(raw.objects)} objects and {len(raw.flows)} flows to {out} "
                   f"({', '.join(files)})", err=True)  # fmt: skip
        for gap in raw.gaps:
            click.echo(f"gap: {gap}", err=True)
        return 0

    run(body, debug)


def _several(
    opts: SourceOptions,
    contexts: str,
    namespaces: list[str] | None,
    since: float | None,
    last: int | None,
    no_flows: bool,
    require_flows: bool,
    out: str,
) -> int:
    import dataclasses

    from kubectl_meshdoctor import app
    from kubectl_meshdoctor.errors import DataError, MeshdoctorError
    from kubectl_meshdoctor.sources.live import capture
    from kubectl_meshdoctor.sources.snapshot_mc import write_mesh_snapshot

    raws = {}
    for context in dict.fromkeys(c.strip() for c in contexts.split(",") if c.strip()):
        one = dataclasses.replace(opts, context=context)
        try:
            raws[context] = capture(app.live_options(one), namespaces, parse_duration(since), last, not no_flows)
        except MeshdoctorError as err:
            raise DataError(f"context {context}: {str(err).splitlines()[0] if str(err) else err}") from None
        for warning in raws[context].warnings:
            click.echo(f"warning: {context}: {warning}", err=True)
        if require_flows and raws[context].flow_source == "none":
            raise DataError(f"--require-flows: no Hubble flows could be read in context {context}")
    written = write_mesh_snapshot(raws, out)
    total = sum(len(r.objects) for r in raws.values())
    click.echo(f"meshdoctor: wrote {total} objects of {len(raws)} clusters to {out} ({', '.join(written)})", err=True)
    return 0
