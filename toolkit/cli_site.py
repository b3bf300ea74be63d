"""CLI command `site`: the browsable bilingual site of a release (registered on import).

A few lines over :func:`toolkit.site.write_site`; errors become exit codes in
``toolkit.cli_common.guard`` (an output folder the toolkit did not make, or no release: 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli_common import ReleaseOpt, SourcesOpt, app, guard, settings_for
from toolkit.errors import Interrupted


@app.command()
def site(
    out: Annotated[
        Path | None, typer.Option("--out", help="Site folder (default [tool.policy-toolkit.site] out, datasets/site).")
    ] = None,
    release: ReleaseOpt = None,
    sources: SourcesOpt = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes for the resource pages (default: all cores)."),
    ] = None,
    check_kept: Annotated[
        bool,
        typer.Option(
            "--check-kept/--trust-kept",
            help="Check the files of the pages kept from the last run and make again those gone or edited by"
            " hand (873k files at 1M triples, 3 s of CPU). By default they are trusted as the last run wrote"
            " them: a page edited by hand is made again when its inputs change.",
        ),
    ] = False,
) -> None:
    """Write the static bilingual site of the release: a page per resource at its IRI's path, evidence in context.

    --out must be missing, empty, or a site policy-toolkit made (else exit 2, nothing touched);
    it is replaced whole and atomically, or after a change updated in place (only the files
    that differ are written). The same release gives the same bytes, whatever --jobs is.
    """

    def body() -> None:
        from toolkit.site import write_site

        settings = settings_for(sources=sources, release=release)
        try:
            result = write_site(settings, out=out.resolve() if out else None, jobs=jobs, check_kept=check_kept)
        except KeyboardInterrupt:
            raise Interrupted("interrupted: the site folder was not changed") from None
        typer.echo(
            f"wrote the site to {result.out}: {result.pages} pages, {result.files} files, {result.bytes} bytes"
            f" ({result.made} resource pages made, {result.kept} kept, {result.written} files written)"
        )

    guard(body)
