from __future__ import annotations

import click

from kubectl_meshdoctor import __version__


@click.command("version")
@click.option("-o", "--output", type=click.Choice(["text", "json", "yaml"]), default="text")
def version(output: str) -> None:
    """Print the version."""
    if output == "json":
        click.echo(f'{{"version": "{__version__}"}}')
    elif output == "yaml":
        click.echo(f"version: {__version__}")
    else:
        click.echo(f"kubectl-meshdoctor {__version__}")
