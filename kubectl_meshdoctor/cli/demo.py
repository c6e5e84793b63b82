from __future__ import annotations

import json

import click

from kubectl_meshdoctor.cli.options import output_option, run


@click.command("demo")
@output_option
@click.option("--debug", is_flag=True, hidden=True)
def demo(output: str, debug: bool) -> None:
    """List the bundled demo scenarios (no cluster needed).

    \b
    Try one:
      kubectl meshdoctor explain red/netshoot blue/httpbin --path /ip --demo sidecar-s2-l7-policy
    """

    def body() -> int:
        from kubectl_meshdoctor.sources.demo import DemoInfo, list_demos
        from kubectl_meshdoctor.sources.multicluster import list_mc_demos

        demos = list_demos() + [DemoInfo(n, d) for n, d in list_mc_demos()]  # issue 21: N-cluster demos
        if output in ("json", "yaml"):
            doc = [{"name": d.name, "description": d.description} for d in demos]
            if output == "json":
                click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
            else:
                from kubectl_meshdoctor.model import yamlcore

                click.echo(yamlcore.dump(doc), nl=False)
            return 0
        width = max(len(d.name) for d in demos) if demos else 10
        click.echo(f"{'NAME'.ljust(width)}  DESCRIPTION")
        for d in demos:
            click.echo(f"{d.name.ljust(width)}  {d.description}")
        return 0

    run(body, debug)
