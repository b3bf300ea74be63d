"""The command line: a few lines per command over the library; errors become exit codes here.

Exit codes: 0 valid / done, 1 invalid data (or release out of date), 2 bad usage or
unreadable input.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from toolkit import __version__
from toolkit.config import Settings, load_settings
from toolkit.errors import EXIT_INVALID, EXIT_USAGE, DataError, ToolkitError, UsageError
from toolkit.report import ValidationReport

EXIT_CODES = (
    "Exit codes: 0 valid / done; 1 invalid data, or the release differs from the sources (build --check); "
    "2 bad usage or unreadable input (missing file, not UTF-8, broken YAML or RDF)."
)


def unwrap_help(text: str | None) -> str | None:
    """Join the lines of each paragraph of a help text into one line.

    Why: docstrings are wrapped at the source's width, and the help formatter keeps those
    line breaks and then wraps again at the terminal's width, which breaks lines
    mid-sentence. Joined, every paragraph is wrapped once, by the formatter, as whole
    sentences. Paragraphs are kept; a paragraph starting with ``\\b`` (click's "do not
    rewrap" marker) is kept as written, and anything after ``\\f`` is dropped as click does.
    """
    if not text:
        return text
    text = inspect.cleandoc(text).partition("\f")[0]
    paragraphs = [p.strip("\n") for p in text.split("\n\n")]
    return "\n\n".join(
        p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines()) for p in paragraphs
    )


def _unwrap_tree(command: Any) -> None:
    """Unwrap the help of a command, of its parameters and of all its subcommands.

    Duck-typed: typer 0.2x carries its own copy of click, so there is no public class to test.
    """
    command.help = unwrap_help(command.help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = unwrap_help(param.help)
    for sub in getattr(command, "commands", {}).values():
        _unwrap_tree(sub)


class _RootGroup(TyperGroup):
    """The top-level group: unwraps every help text of the tree once, before any run."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _unwrap_tree(self)
        return super().main(*args, **kwargs)


app = typer.Typer(
    name="policy-toolkit",
    cls=_RootGroup,
    help="Publish the facts of policy news as validated linked open data.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"policy-toolkit {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    # The top-level options; the group's help text is the Typer(help=...) above.
    return None


publish_app = typer.Typer(help="Upload the release to a SPARQL store or an open-data portal.", no_args_is_help=True)
app.add_typer(publish_app, name="publish")


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    turtle = "turtle"


class InfoFormat(StrEnum):
    text = "text"
    json = "json"


T = TypeVar("T")

SourcesOpt = Annotated[
    Path | None, typer.Option("--sources", help="Folder of source folders (default from pyproject).")
]
ReleaseOpt = Annotated[Path | None, typer.Option("--release", help="Release folder (default datasets/release).")]
BaseOpt = Annotated[str | None, typer.Option("--base-iri", help="Base IRI of published resources.")]


def _settings(sources: Path | None = None, release: Path | None = None, base_iri: str | None = None) -> Settings:
    return load_settings().with_overrides(sources_dir=sources, release_dir=release, base_iri=base_iri)


def _print_report(report: ValidationReport, fmt: ReportFormat, *, err: bool = False) -> None:
    if fmt is ReportFormat.json:
        typer.echo(report.to_json(), nl=False, err=err)
    elif fmt is ReportFormat.turtle:
        from toolkit.validate.shacl import report_turtle

        raw = report.raw_graphs.get("shacl")
        if raw is not None:
            typer.echo(report_turtle(raw), err=err)
        if not report.raw_graphs or any(r.validator != "shacl" for r in report.results):
            typer.echo(report.to_text(), nl=False, err=True)
    else:
        typer.echo(report.to_text(), nl=False, err=err)


def _guard(fn: Callable[[], T], fmt: ReportFormat = ReportFormat.text) -> T:
    """Run a command body; turn the toolkit's own errors into a message and an exit code."""
    try:
        return fn()
    except DataError as exc:
        if exc.report is not None:
            _print_report(exc.report, fmt)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except ToolkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


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
    naive: Annotated[
        bool, typer.Option("--naive", help="Use the reference path (rdflib, pyshacl, pyld): same bytes, slower.")
    ] = False,
) -> None:
    """Sources -> graph -> validate -> release (JSON-LD, Turtle, N-Triples, RDF/XML, CSV, manifest).

    Nothing is written if validation fails (exit 1); the previous release stays as it was.
    --release must be missing, empty, or a release policy-toolkit made (else exit 2, nothing
    touched). One build at a time: a second one waits for the first. Ctrl-C exits 130.
    Per-source stages run in --jobs processes and are cached under .cache/policy-toolkit/;
    after a few sources changed, the next build is incremental. The release is byte-identical
    whatever --jobs is, incremental or not, and to the --naive path's.
    """
    from toolkit.errors import EXIT_INTERRUPTED, Interrupted

    def body() -> None:
        try:
            from toolkit.publish import build_release

            settings = _settings(sources, release, base_iri)
            rel = build_release(settings, check=check, jobs=jobs, naive=naive)
        except Interrupted as exc:  # Ctrl-C: one line saying what became of the release
            typer.echo(exc.message, err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except KeyboardInterrupt:  # before the build began (typer would exit 130 in silence)
            typer.echo("interrupted: nothing was written", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        m = rel.manifest
        where = settings.release_dir
        if check:
            typer.echo(f"release in {where} is up to date ({len(rel.files)} files, {m['triples']} triples)")
        elif rel.changed:
            typer.echo(f"wrote {len(rel.files)} files to {where} ({m['triples']} triples); changed:")
            for line in rel.changed:
                typer.echo(f"  {line}")
        else:
            typer.echo(f"release in {where} unchanged ({len(rel.files)} files, {m['triples']} triples)")

    _guard(body)


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
        settings = _settings(sources)
        if file is None and (shapes or ontology):
            raise UsageError("--shapes and --ontology need an RDF FILE to validate")
        if file is None:
            _require_current_schema(settings)
        outcome = (
            validate_rdf(settings, file, shapes=shapes, ontology=ontology, engine=engine)
            if file is not None
            else validate_sources(settings, engine=engine)
        )
        _print_report(outcome.report, fmt)
        if not outcome.report.conforms:
            raise typer.Exit(EXIT_INVALID)

    _guard(body, fmt)


@app.command()
def info(
    release: ReleaseOpt = None,
    fmt: Annotated[InfoFormat, typer.Option("--format", help="text or json.")] = InfoFormat.text,
) -> None:
    """What the release holds: counts by class, sources, files and verified checksums."""
    from toolkit.publish import release_info

    def body() -> None:
        manifest = release_info(_settings(release=release))
        if fmt is InfoFormat.json:
            typer.echo(json.dumps(manifest, ensure_ascii=False, indent=2))
        else:
            typer.echo(_info_text(manifest))
        if not all(f["verified"] for f in manifest["files"]):
            typer.echo("error: some files do not match the manifest's checksums", err=True)
            raise typer.Exit(EXIT_INVALID)

    _guard(body)


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
    """Exit 1 when a generated schema file differs from model.yaml (`schema` and `validate`).

    Why before validating: the shapes and JSON Schemas would check the data against a stale
    model. It is a check of the project's files, not of the data, so it is not one of the
    validators a release lists (`build` leaves it to `schema`, which CI runs).
    """
    from toolkit.schema.generate import check_all
    from toolkit.schema.model import load_model

    stale = check_all(load_model(settings.schema_dir), settings.schema_dir)
    if stale:
        files = ", ".join(f"schema/{name}" for name in stale)
        typer.echo(f"error: out of date with model.yaml: {files}; run `policy-toolkit schema --write`", err=True)
        raise typer.Exit(EXIT_INVALID)


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

    _guard(body)


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
    from toolkit.errors import UsageError
    from toolkit.scale.generate import DEFECTS, parse_size, write_corpus

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

    _guard(body)


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
    from toolkit.errors import UsageError
    from toolkit.scale.bench import run_bench
    from toolkit.scale.generate import parse_size

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

    _guard(body)


# Command modules register their commands on `app` / `publish_app` when imported.
from toolkit import cli_portal, cli_query  # noqa: E402

__all__ = ["app", "cli_portal", "cli_query", "main", "publish_app"]


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
