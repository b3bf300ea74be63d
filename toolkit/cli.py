"""The command line: build, validate, info, schema, corpus and bench, a few lines each over
the library; the entry point :func:`main`.

The app, the options and the one error guard are in :mod:`toolkit.cli_common`; the query and
portal commands are in :mod:`toolkit.cli_query` and :mod:`toolkit.cli_portal`, imported here so
that they register on the app. Command bodies raise :class:`~toolkit.errors.ToolkitError`;
``guard`` turns it into exit 0 valid / done, 1 invalid data (or release out of date), 2 bad
usage or unreadable input, 130 interrupted.

Imports inside the command bodies are on purpose (a measured start-up cost): ``import
toolkit.cli`` takes 1.9 s on this 2-core machine, ``import toolkit.build`` (rdflib, pyld,
jsonschema, pyoxigraph, pyshacl's engine) 6.5 s under the same load, so ``--version``, ``info``,
``schema`` and ``query`` import only what they use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from toolkit.cli_common import (
    BaseOpt,
    InfoFormat,
    ReleaseOpt,
    ReportFormat,
    SourcesOpt,
    app,
    guard,
    print_report,
    publish_app,
    settings_for,
)
from toolkit.config import Settings, load_settings
from toolkit.errors import EXIT_INVALID, EXIT_USAGE, DataError, Interrupted, UsageError


@app.command()
def build(
    check: Annotated[
        bool, typer.Option("--check", help="Only compare the release with what the sources give.")
    ] = False,
    sources: SourcesOpt = None,
    release: ReleaseOpt = None,
    base_iri: BaseOpt = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes for the per-source stages (default: all cores)."),
    ] = None,
) -> None:
    """Sources -> graph -> validate -> release (JSON-LD, Turtle, N-Triples, RDF/XML, N-Quads, TriG, CSV, manifest).

    Nothing is written if validation fails (exit 1); the previous release stays as it was.
    --release must be missing, empty, or a release policy-toolkit made (else exit 2, nothing
    touched). One build at a time: a second one waits for the first. Ctrl-C exits 130.
    Per-source stages run in --jobs processes and are cached under .cache/policy-toolkit/;
    after a few sources changed, the next build is incremental. The release is byte-identical
    whatever --jobs is, incremental or not.
    """

    def body() -> None:
        try:
            from toolkit.build import build_release
            from toolkit.publish.diff import as_written, new_release

            settings = settings_for(sources, release, base_iri)
            rel = build_release(settings, check=check, jobs=jobs)
        except KeyboardInterrupt:  # before the build began (typer would exit 130 in silence)
            raise Interrupted("interrupted: nothing was written") from None
        m = rel.manifest
        where = settings.release_dir
        if check:
            typer.echo(f"release in {where} is up to date ({len(rel.files)} files, {m['triples']} triples)")
        elif new_release(rel.changed, len(rel.files)):
            typer.echo(f"wrote {len(rel.files)} files to {where} ({m['triples']} triples): a new release")
        elif rel.changed:
            typer.echo(f"wrote {len(rel.files)} files to {where} ({m['triples']} triples):")
            for line in as_written(rel.changed):
                typer.echo(f"  {line}")
        else:
            typer.echo(f"release in {where} unchanged ({len(rel.files)} files, {m['triples']} triples)")
        if not check and settings.site.get("build"):  # [tool.policy-toolkit.site] build = true
            from toolkit.site import write_site

            done = write_site(settings)
            typer.echo(f"wrote the site to {done.out} ({done.pages} pages)")

    guard(body)


@app.command()
def validate(
    file: Annotated[
        Path | None, typer.Argument(help="An RDF file to check against the shapes (default: the sources).")
    ] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="text, json, or turtle (SHACL report).")] = (
        ReportFormat.text
    ),
    sources: SourcesOpt = None,
    shapes: Annotated[
        Path | None, typer.Option("--shapes", help="Validate FILE against these SHACL shapes instead of the project's.")
    ] = None,
    ontology: Annotated[
        Path | None, typer.Option("--ontology", help="An ontology mixed into FILE's graph (class hierarchy).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="SHACL engine: shacl (default, fast) or pyshacl (the reference).")
    ] = None,
) -> None:
    """Validate the sources (facts schema, references, evidence, SHACL) or one RDF file, against any shapes."""
    from toolkit.validate import validate_rdf, validate_sources

    def body() -> None:
        settings = settings_for(sources)
        if file is None and (shapes or ontology):
            raise UsageError("--shapes and --ontology need an RDF FILE to validate")
        if file is None:
            _require_current_schema(settings)
        outcome = (
            validate_rdf(settings, file, shapes=shapes, ontology=ontology, engine=engine)
            if file is not None
            else validate_sources(settings, engine=engine, partial=True, inferences=True)
        )
        print_report(outcome.report, fmt)
        if not outcome.report.conforms:
            raise typer.Exit(EXIT_INVALID)

    guard(body, fmt)


@app.command()
def info(
    release: ReleaseOpt = None,
    fmt: Annotated[InfoFormat, typer.Option("--format", help="text or json.")] = InfoFormat.text,
) -> None:
    """What the release holds: counts by class, sources, files and verified checksums."""
    from toolkit.publish import release_info

    def body() -> None:
        manifest = release_info(settings_for(release=release))
        if fmt is InfoFormat.json:
            typer.echo(json.dumps(manifest, ensure_ascii=False, indent=2))
        else:
            typer.echo(_info_text(manifest))
        if not all(f["verified"] for f in manifest["files"]):
            raise DataError("some files do not match the manifest's checksums")

    guard(body)


def _info_text(m: dict[str, Any]) -> str:
    lines = [f"{m['title']['en']} / {m['title']['zh']}", f"base IRI: {m['base_iri']}", f"triples: {m['triples']}", ""]
    lines.append("counts by class:")
    width = max(len(k) for k in m["counts_by_class"])
    lines += [f"  {k.ljust(width)}  {v:>5}" for k, v in m["counts_by_class"].items()]
    lines += ["", "sources:"]
    for s in m["sources"]:
        lines.append(
            f"  {s['id']}  published {s['published']}  {s['entities']} entities, {s['evidence_quotes']} quotes"
        )
        lines.append(f"    text  {s['text']}  sha256 {s['text_sha256']}")
    v = m["validation"]
    lines += ["", f"validation: {'conforms' if v['conforms'] else 'does NOT conform'} ({', '.join(v['validators'])})"]
    lines += ["", "files:"]
    for f in m["files"]:
        ok = "ok " if f["verified"] else "BAD"
        lines.append(f"  {ok} {f['sha256'][:16]}  {f['bytes']:>8}  {f['path']}")
    return "\n".join(lines)


def _require_current_schema(settings: Settings) -> None:
    """Raise DataError (exit 1) when a generated schema file differs from model.yaml (`schema` and `validate`).

    Why before validating: the shapes and JSON Schemas would check the data against a stale
    model. It is a check of the project's files, not of the data, so it is not one of the
    validators a release lists (`build` leaves it to `schema`, which CI runs).
    """
    from toolkit.schema.generate import stale_files

    stale = stale_files(settings.schema_dir)
    if stale:
        files = ", ".join(f"schema/{name}" for name in stale)
        raise DataError(f"out of date with model.yaml: {files}; run `policy-toolkit schema --write`")


@app.command()
def schema(
    write: Annotated[bool, typer.Option("--write", help="Regenerate the files from schema/model.yaml.")] = False,
) -> None:
    """Check (default) or regenerate ontology, shapes, context and JSON Schemas from model.yaml."""
    from toolkit.schema.generate import write_all
    from toolkit.schema.model import load_model

    def body() -> None:
        settings = load_settings()
        model = load_model(settings.schema_dir)
        if write:
            changed = write_all(model, settings.schema_dir)
            typer.echo(f"regenerated: {', '.join(changed)}" if changed else "schema files already up to date")
            return
        _require_current_schema(settings)
        typer.echo("schema files match model.yaml")

    guard(body)


corpus_app = typer.Typer(help="Synthetic corpora for tests and benchmarks.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("generate")
def corpus_generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the source folders into.")],
    sources: Annotated[int | None, typer.Option("--sources", min=1, help="How many sources.")] = None,
    triples: Annotated[
        str | None, typer.Option("--triples", help="Or how many triples (e.g. 10k, 1m); sources are added until then.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed gives the same bytes.")] = 7,
    defects: Annotated[
        float, typer.Option("--defects", min=0.0, max=1.0, help="Share of sources with a defect.")
    ] = 0.0,
    kinds: Annotated[
        str | None, typer.Option("--defect-kinds", help="Comma-separated defect kinds (default: all).")
    ] = None,
) -> None:
    """Write a seeded synthetic corpus like the real one (same classes, links, dates, quotes)."""
    from toolkit.corpus.generate import DEFECTS, parse_size, write_corpus

    def body() -> None:
        if (sources is None) == (triples is None):
            raise UsageError("give --sources N or --triples SIZE", hint="e.g. --sources 20000 or --triples 1m")
        chosen = tuple(k.strip() for k in kinds.split(",")) if kinds else DEFECTS
        unknown = [k for k in chosen if k not in DEFECTS]
        if unknown:
            raise UsageError(f"unknown defect kind(s): {', '.join(unknown)}", hint=f"known: {', '.join(DEFECTS)}")
        try:
            size = parse_size(triples) if triples is not None else None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        rep = write_corpus(out, seed=seed, sources=sources, triples=size, defect_rate=defects, defects=chosen)
        made = ", ".join(f"{k} {v}" for k, v in rep.defects.items() if v) or "none"
        typer.echo(f"wrote {rep.sources} sources ({rep.triples} triples) to {out}; defects: {made}")

    guard(body)


@app.command()
def bench(
    sizes: Annotated[str, typer.Option("--sizes", help="Corpus sizes in triples, e.g. 10k,100k,1m.")] = "10k,100k",
    seed: Annotated[int, typer.Option("--seed", help="Corpus seed.")] = 7,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Results JSON (default bench/results.json).")] = None,
    work: Annotated[Path | None, typer.Option("--work", help="Scratch folder (default bench-out/).")] = None,
    naive: Annotated[bool, typer.Option("--naive/--no-naive", help="Also run the naive pipeline.")] = True,
    pyshacl_max: Annotated[
        str, typer.Option("--pyshacl-max", help="Largest size at which the naive path runs pyshacl (hours beyond).")
    ] = "100k",
) -> None:
    """Time every stage of the fast and the naive pipeline on generated corpora, side by side."""
    from toolkit.corpus.bench import run_bench
    from toolkit.corpus.generate import parse_size

    def body() -> None:
        try:
            wanted = [parse_size(s) for s in sizes.split(",") if s.strip()]
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        settings = load_settings()
        results = run_bench(
            settings,
            wanted,
            seed=seed,
            jobs=jobs,
            out=out or settings.root / "bench" / "results.json",
            work=work or settings.root / "bench-out",
            naive=naive,
            pyshacl_max=parse_size(pyshacl_max),
            echo=typer.echo,
        )
        typer.echo(results["table"])

    guard(body)


# The query and portal command modules register their commands on `app` / `publish_app` when
# imported; imported last so that `--help` lists the pipeline's commands first.
from toolkit import cli_draft, cli_portal, cli_query, cli_site  # noqa: E402

__all__ = ["app", "cli_draft", "cli_portal", "cli_query", "cli_site", "main", "publish_app"]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    # Run the imported module, not this __main__ copy: command modules register on `toolkit.cli`.
    from toolkit.cli import main as _main

    _main()
