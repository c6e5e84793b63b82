from __future__ import annotations

import click

from kubectl_meshdoctor.cli.options import (
    debug_option,
    kube_options,
    output_choice,
    run,
    scope_help,
    source_from_flags,
    source_options,
    what_if_options,
)

EXAMPLES = """\b
Examples:
  kubectl meshdoctor check -A --demo ambient-a2-l7-policy
  kubectl meshdoctor check -n blue --from ./snapshot -o json
"""


@scope_help
@click.command("check", epilog=EXAMPLES)
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace.")
@what_if_options
@source_options
@kube_options
@output_choice("text", "json", "yaml", "sarif", help="Output format (sarif: SARIF 2.1.0 for code scanning).")
@debug_option
def check(
    all_namespaces: bool,
    what_if_files: tuple[str, ...],
    what_if_deletes: tuple[str, ...],
    from_path: str | None,
    demo_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    namespace: str | None,
    request_timeout: str,
    output: str,
    debug: bool,
    **_: object,
) -> None:
    """Mesh-wide Cilium+Istio interop problems, like `istioctl analyze` across both.

    Exit 1 when an error-severity finding exists, 3 when the check rests on gaps
    (objects it could not read), 2 for an unknown namespace.
    """

    def body() -> int:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.app_multicluster_load import is_mesh_input  # the multi-cluster answers only when asked
        from kubectl_meshdoctor.render.check import check_document, check_text
        from kubectl_meshdoctor.render.document import dump

        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout)
        if is_mesh_input(opts):  # clusters/<name>/ or --context a,b (issue 21)
            from kubectl_meshdoctor.app_multicluster_check import check as check_mesh
            from kubectl_meshdoctor.errors import UsageError

            if what_if_files or what_if_deletes:
                raise UsageError("--what-if does not take multi-cluster input yet")
            namespaces = app.scope_namespaces(opts, namespace, all_namespaces)
            result = check_mesh(opts, None if app.is_live(opts) and not namespace else namespaces)
        else:
            from kubectl_meshdoctor import app_check_split

            namespaces = app.scope_namespaces(opts, namespace, all_namespaces)
            if not (what_if_files or what_if_deletes) and app_check_split.worth_splitting(opts):
                result = app_check_split.check(opts, namespaces)  # a large snapshot: on two processors
            else:
                raw = app.load_raw_scoped(opts, namespaces, flows=False, offline_flows=False)  # check reads no flows
                model, _ = app.model_with_changes(raw, what_if_files, what_if_deletes)
                result = app.check(model, namespaces)
        if output == "sarif":
            import json

            from kubectl_meshdoctor.render.sarif import sarif

            doc = check_document(result)
            refs = [f.cause.objects for f in result.findings]
            click.echo(json.dumps(sarif(doc["findings"], refs, doc["gaps"]), indent=2, ensure_ascii=False))
        elif output != "text":
            click.echo(dump(check_document(result), output), nl=False)
        else:
            for line in check_text(result):
                click.echo(line)
        return result.exit_code

    run(body, debug)
