from __future__ import annotations

import click

from kubectl_meshdoctor.cli.options import (
    debug_option,
    hubble_options,
    kube_options,
    output_choice,
    port_option,
    run,
    source_from_flags,
    source_options,
    what_if_options,
)
from kubectl_meshdoctor.cli.values import COUNT, WINDOW, parse_duration

EXAMPLES = """\b
Examples:
  kubectl meshdoctor explain red/netshoot blue/httpbin --path /ip --demo sidecar-s2-l7-policy
  kubectl meshdoctor explain red/netshoot blue/httpbin --path /deny --demo sidecar-s3-authn-disable
  kubectl meshdoctor explain green/netshoot httpbin.blue --demo ambient-a1-l4-policy -o json
  kubectl meshdoctor explain red/netshoot blue/svc/httpbin --port 80 --from ./snapshot.tar.gz
  kubectl meshdoctor explain red/netshoot blue/httpbin --path /ip --watch --until-ok   # live: wait for the fix
  kubectl meshdoctor explain world edge/gateway/web --host shop.example.com --demo gateway-api-refgrant-missing
"""


@click.command("explain", epilog=EXAMPLES)
@click.argument("source")
@click.argument("destination")
@port_option
@click.option("--protocol", type=click.Choice(["tcp", "udp", "TCP", "UDP"]), default="tcp", show_default=True)
@click.option("--method", default="GET", show_default=True, help="HTTP method to reason about.")
@click.option("--path", default="/", show_default=True, help="HTTP path to reason about.")
@click.option(
    "--app-protocol",
    type=click.Choice(["tcp", "http", "grpc"], case_sensitive=False),
    help="What the client sends (default: the Service port's appProtocol or name prefix, as Istio selects it; "
    "else HTTP when --method/--path/-H is given, else plain TCP).",
)
@click.option("--host", "http_host", help="Host header; with an ingress gateway as SOURCE, the host it serves.")
@click.option(
    "--via",
    metavar="NS/gateway/NAME",
    help="With SOURCE world: does the request, sent to this Gateway (or NS/ingress/NAME), reach DESTINATION "
    "(a backend)?",
)
@click.option(
    "-H",
    "--header",
    "http_headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="HTTP request header to reason about (routing matches); repeatable.",
)
@click.option("--since", type=WINDOW, help="Hubble window, e.g. 5m (offline: before the newest flow).")
@click.option("--last", type=COUNT, help="Only the last N flows of the pair.")
@click.option("--no-flows", is_flag=True, help="Static analysis only.")
@click.option("--require-flows", is_flag=True, help="Exit 3 when Hubble flows cannot be read.")
@click.option(
    "-w",
    "--watch",
    is_flag=True,
    help="Live: re-evaluate as objects and flows change; print each change of verdict or causes (Ctrl-C stops).",
)
@click.option("--until-ok", is_flag=True, help="With --watch (implied): exit 0 as soon as the call works.")
@click.option(
    "--watch-interval",
    type=WINDOW,
    default="5s",
    show_default=True,
    help="With --watch: how often objects are re-listed (new flows of the pair wake it sooner).",
)
@what_if_options
@click.option("--fix-yaml", is_flag=True, help="Print the ready-to-apply YAML of the fixes (feed it to --what-if).")
@source_options
@kube_options
@hubble_options
@output_choice(
    "text",
    "json",
    "yaml",
    "markdown",
    help="Output format (markdown: an incident-ready summary with a Mermaid diagram of the path).",
)
@debug_option
def explain(
    source: str,
    destination: str,
    port: int | None,
    protocol: str,
    method: str,
    path: str,
    since: float | None,
    last: int | None,
    no_flows: bool,
    require_flows: bool,
    from_path: str | None,
    demo_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    request_timeout: float,
    output: str,
    debug: bool,
    http_host: str | None = None,
    app_protocol: str | None = None,
    via: str | None = None,
    http_headers: tuple[str, ...] = (),
    what_if_files: tuple[str, ...] = (),
    what_if_deletes: tuple[str, ...] = (),
    fix_yaml: bool = False,
    watch: bool = False,
    until_ok: bool = False,
    watch_interval: float = 5.0,
    **hubble: object,
) -> None:
    """Explain why a call from SOURCE to DESTINATION fails (or works).

    SOURCE and DESTINATION are NS/NAME (a Deployment, StatefulSet or DaemonSet, else a pod
    prefix), NS/pod/NAME, NS/deploy/NAME or NS/svc/NAME; DESTINATION may also be a DNS name
    (httpbin.blue) or an IP outside the cluster. SOURCE world asks from outside the cluster:
    DESTINATION is then a Gateway (NS/gateway/NAME), an Ingress (NS/ingress/NAME) or their
    Service, or with --via a backend. From a pod, a name outside the cluster (api.example.com)
    is walked out through egress gateways and Cilium's toFQDNs.
    With several clusters (--from DIR holding clusters/<name>/, or --context a,b) append
    @CLUSTER to each reference: NS/NAME@CLUSTER, NS/svc/NAME@CLUSTER.
    """

    def body() -> int:
        import dataclasses

        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.diagnosis.call import Query
        from kubectl_meshdoctor.errors import DataError, UsageError
        from kubectl_meshdoctor.findings.types import Diagnosis

        if not path.startswith("/"):
            raise UsageError(f"--path must start with '/': {path!r}")
        if last is not None and last <= 0:
            raise UsageError("--last must be a positive number")
        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout, hubble)
        query = Query(
            source,
            destination,
            app.default_namespace(opts, namespace),
            port,
            protocol.upper(),
            method.upper(),
            path,
            parse_duration(since),
            last,
            no_flows,
            tuple(_header(h) for h in http_headers),
            http_host,
            app_protocol=app_protocol.lower() if app_protocol else None,
            http_asked=_http_asked(),
            any_request=_defaulted("method", "path"),
            via=via,
        )
        if not (watch or until_ok) and not _defaulted("watch_interval"):
            raise UsageError("--watch-interval needs --watch (or --until-ok)")
        if watch or until_ok:
            if what_if_files or what_if_deletes or fix_yaml:
                raise UsageError("--watch cannot be combined with --what-if or --fix-yaml")
            from kubectl_meshdoctor.cli.explain_watch import watch as run_watch

            return run_watch(opts, query, output, until_ok, watch_interval)
        before: Diagnosis | None = None
        applied: list[str] = []
        from kubectl_meshdoctor.app_multicluster_load import is_mesh_input  # the multi-cluster answers only when asked

        mesh = is_mesh_input(opts)
        if mesh:  # clusters/<name>/ (issue 21)
            if fix_yaml or require_flows:
                raise UsageError("--fix-yaml and --require-flows do not take multi-cluster input yet")
            if what_if_files or what_if_deletes:  # each change names its cluster (app_multicluster_whatif.py)
                from kubectl_meshdoctor.app_multicluster_whatif import explain_what_if

                before, diagnosis, applied = explain_what_if(opts, query, what_if_files, what_if_deletes)
            else:
                from kubectl_meshdoctor import app_multicluster

                diagnosis = app_multicluster.explain(opts, query)
        else:
            raw = app.load_raw(opts, query)
            model = app.build_model(raw)
            if require_flows and model.flow_source == "none":
                from kubectl_meshdoctor.sources.base import relay_down

                why = next(iter(relay_down(model.warnings)), "")
                raise DataError(f"--require-flows: no Hubble flows could be read{': ' + why if why else ''}")
            diagnosis = app.explain(model, query)
            if not (what_if_files or what_if_deletes):
                diagnosis.fixes = app.prove_fixes(opts, raw, model, query, diagnosis)
        if (what_if_files or what_if_deletes) and not mesh:
            changed, applied = app.what_if(raw, what_if_files, what_if_deletes)
            # flows predate the change: the answer after it is static analysis only
            before, diagnosis = diagnosis, app.explain(changed, dataclasses.replace(query, no_flows=True))
        from kubectl_meshdoctor.render import document

        if fix_yaml:
            docs = document.fix_yaml_documents(diagnosis)
            if diagnosis.fixes and not any(p.chosen for p in diagnosis.fixes):
                click.echo(
                    "note: no proposal is proven (see the proof in the text output): this YAML does not make the "
                    "call work on its own, or lets through what the policies refuse",
                    err=True,
                )
            if not docs:
                click.echo("no cause of this answer has a ready-to-apply YAML fix", err=True)
            else:
                click.echo("---\n".join(d + "\n" for d in docs), nl=False)
            return app.exit_code(diagnosis)
        if output == "text":
            from kubectl_meshdoctor.render.text import print_to, render_diagnosis, render_what_if

            if before is not None:
                print_to(True, render_what_if(before, diagnosis, applied))
            print_to(True, render_diagnosis(diagnosis, what_if=before is not None))
        elif output == "markdown":
            from kubectl_meshdoctor.render.markdown import explain_markdown

            click.echo(explain_markdown(diagnosis, before, applied), nl=False)
        else:
            doc = (
                document.what_if_dict(diagnosis, before, applied)
                if before is not None
                else document.diagnosis_dict(diagnosis)
            )
            click.echo(document.dump(doc, output), nl=False)
        return app.exit_code(diagnosis)

    run(body, debug)


def _header(text: str) -> tuple[str, str]:
    from kubectl_meshdoctor.errors import UsageError

    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"--header {text!r}: use NAME:VALUE")
    return name.strip().lower(), value.strip()


def _http_asked() -> bool:
    """Did the user describe an HTTP request (--method, --path, -H or the Host header --host given)?"""
    ctx = click.get_current_context()
    given = click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT
    return any(ctx.get_parameter_source(name) in given for name in ("method", "path", "http_headers", "http_host"))


def _defaulted(*names: str) -> bool:
    """True when none of these options was given (each has its default value)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return all(ctx.get_parameter_source(n) in (None, ParameterSource.DEFAULT) for n in names)
