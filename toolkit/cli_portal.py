"""CLI commands for open-data portals: `publish ckan` (registered on import)."""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.cli_common import guard, publish_app, settings_for
from toolkit.errors import EXIT_INVALID


@publish_app.command("ckan")
def publish_ckan_command(
    url: Annotated[str, typer.Option("--url", help="The portal, e.g. https://data.example.org")],
    org: Annotated[str, typer.Option("--org", help="Name of the CKAN organisation that owns the dataset.")],
    name: Annotated[str | None, typer.Option("--name", help="CKAN dataset name (default policy-news-facts).")] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check the portal, the token and the organisation read-only, and print the plan; change nothing. "
            "Works without a token (then as an anonymous visitor).",
        ),
    ] = False,
    token_env: Annotated[
        str, typer.Option("--token-env", help="Environment variable holding the API token.")
    ] = "CKAN_API_TOKEN",
) -> None:
    """Create or update the release's dataset on a CKAN portal; one resource per file, idempotent.

    Checks first, read-only: the portal answers, the token is accepted and may create datasets
    in the organisation, the organisation exists. Prints the plan (create / update / unchanged /
    delete per resource), then verifies the portal: package_show matches and every resource
    downloads with the manifest's SHA-256. A progress bar counts the files on a terminal.
    """
    from toolkit.publish.ckan import publish_ckan

    def body() -> None:
        report = publish_ckan(settings_for(), url, org, name=name, dry_run=dry_run, token_env=token_env)
        typer.echo(report.to_text())
        if report.verified is False:
            raise typer.Exit(EXIT_INVALID)

    guard(body)
