from __future__ import annotations

import click

from kubectl_meshdoctor.cli.options import (
    kube_options,
    output_option,
    run,
    source_from_flags,
    source_options,
    what_if_options,
)

EXAMPLES = """\b
Examples:
  kubectl meshdoctor check -A --demo ambient-a2-l7-policy
  kubectl meshdoctor check -n blue --from ./snapshot -o json
"""


@click.command("check", epilog=EXAMPLES)
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace (default when -n is not given).")
@what_if_options
@source_options
@kube_options
@output_option
@click.option("--debug", is_flag=True, help="Show tracebacks.")
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

    Exit 1 when an error-severity finding exists.
    """

    def body() -> int:
        from kubectl_meshdoctor import app
        from kubectl_meshdoctor.findings import catalog
        from kubectl_meshdoctor.render.document import cause_dict, dump

        opts = source_from_flags(from_path, demo_name, kubeconfig, kube_context, request_timeout)
        namespaces = None if all_namespaces or not namespace else [n.strip() for n in namespace.split(",")]
        raw = app.load_raw_scoped(opts, namespaces, flows=False, offline_flows=False)  # check reads no flows
        model, _ = app.model_with_changes(raw, what_if_files, what_if_deletes)
        findings = app.check(model, namespaces)
        docs = [cause_dict(c) for c in findings]
        if output != "text":
            click.echo(dump({"findings": docs, "gaps": model.gaps}, output), nl=False)
        else:
            from kubectl_meshdoctor.render.text import clean

            if not docs:
                click.echo("✓ no Cilium+Istio interop problems found")
            for doc in docs:
                click.echo(clean(f"{doc['severity'].upper():8} {doc['code']}"))
                click.echo(clean(f"         {doc['summary']}"))
                for obj in doc["objects"]:
                    where = f"{obj['namespace']}/" if obj.get("namespace") else ""
                    rule = f" {obj['rule']}" if obj.get("rule") else ""
                    click.echo(clean(f"         ↳ {obj['kind']} {where}{obj['name']}{rule}"))
                click.echo(clean("  fix    " + doc["fix"].replace("\n", "\n         ")))
            for gap in model.gaps:
                click.echo(clean(f"gap      {gap}"))
        return 1 if any(catalog.severity(c).value == "error" for c in findings) else 0

    run(body, debug)
