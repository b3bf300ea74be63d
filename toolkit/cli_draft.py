"""CLI commands `source add` and `draft` (issue 14), registered on the app when imported.

A few lines each over :mod:`toolkit.sources.ingest` and :mod:`toolkit.draft`; errors become
exit codes in ``toolkit.cli_common.guard`` (an existing source, an unreadable page or a page
without article text: 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli_common import SourcesOpt, app, guard, settings_for
from toolkit.errors import UsageError

source_app = typer.Typer(
    help="Add a source: archive a saved news page and write its source block.", no_args_is_help=True
)
app.add_typer(source_app, name="source")


@source_app.command("add")
def source_add(
    page: Annotated[Path, typer.Argument(help="A page saved by a browser (HTML), or plain text.")],
    url: Annotated[
        str | None, typer.Option("--url", help="Where the page was published (recorded, never fetched).")
    ] = None,
    source_id: Annotated[
        str | None, typer.Option("--id", help="The new source's id (default: publisher-date-hash).")
    ] = None,
    sources: SourcesOpt = None,
) -> None:
    """Archive the page's article text (with its SHA-256) and write facts.yaml's source block.

    Offline: the encoding is detected (UTF-8, GB18030/GBK, Big5), the main text and the title,
    date, publisher and authors are extracted with trafilatura. An existing source is never
    overwritten (exit 2); a page with no article text is exit 2.
    """
    from toolkit.sources.ingest import add_source

    def body() -> None:
        added = add_source(settings_for(sources), page, url=url, source_id=source_id)
        p = added.page
        typer.echo(f"added source {added.source_id} in {added.folder}")
        typer.echo(f"  text: {added.text_file} ({len(p.archived_text)} characters, sha256 {added.sha256})")
        typer.echo(f"  encoding: {p.encoding} ({p.encoding_how})")
        typer.echo(f"  title: {p.title}")
        typer.echo(
            f"  date: {p.date or 'not found (write it in facts.yaml)'}" + (f" from {p.date_where}" if p.date else "")
        )
        typer.echo(f"next: check the TODO lines of facts.yaml, then `policy-toolkit draft {added.source_id}`")

    guard(body)


@app.command()
def draft(
    source_id: Annotated[str, typer.Argument(help="The id of a source folder.")],
    missing: Annotated[bool, typer.Option("--missing", help="Propose only what facts.yaml lacks.")] = False,
    score: Annotated[
        bool,
        typer.Option("--score", help="Write nothing; draft the source as if new and score it against its facts.yaml."),
    ] = False,
    sources: SourcesOpt = None,
) -> None:
    """Write facts.draft.yaml: proposed dates, quantities, statements, links and new entities, quoted.

    facts.yaml is never touched. --score writes nothing: it drafts the source as if it were new
    (the corpus is the other sources) and prints recall per kind and precision against facts.yaml.
    Each proposal has a comment with its confidence and why; every quote is found in the body by
    the same locator `validate` uses.
    """
    from toolkit.draft import draft_source
    from toolkit.draft.score import score_source

    def body() -> None:
        if score:
            if missing:
                raise UsageError("--score compares the whole draft; leave out --missing")
            result = score_source(settings_for(sources), source_id)
            typer.echo(result.table(), nl=False)
            for kind, k in result.kinds.items():
                for what in k.missed:
                    typer.echo(f"  missed {kind}: {what}")
            for what in result.wrong:
                typer.echo(f"  no such fact: {what}")
            return
        result = draft_source(settings_for(sources), source_id, missing=missing)
        counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n)
        typer.echo(f"wrote {result.path}: {counts or 'nothing to propose'}")

    guard(body)
