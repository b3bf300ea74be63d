"""What every command module of the CLI shares: the app, the one error guard, the options.

Its own module so that the command modules (:mod:`toolkit.cli` for build, validate, info,
schema, corpus and bench; :mod:`toolkit.cli_query`; :mod:`toolkit.cli_portal`) import it and
not each other. Every domain failure is a :class:`~toolkit.errors.ToolkitError` raised by a
command body; :func:`guard` is the one place that turns it into a message and an exit code.

Exit codes: 0 valid / done, 1 invalid data (or release out of date), 2 bad usage or
unreadable input, 130 interrupted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from toolkit import __version__
from toolkit.config import Settings, load_settings
from toolkit.errors import EXIT_INVALID, DataError, Interrupted, ToolkitError
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


def settings_for(sources: Path | None = None, release: Path | None = None, base_iri: str | None = None) -> Settings:
    """The project's settings with the folders and base IRI a command was given."""
    return load_settings().with_overrides(sources_dir=sources, release_dir=release, base_iri=base_iri)


def print_report(report: ValidationReport, fmt: ReportFormat, *, err: bool = False) -> None:
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


def guard(fn: Callable[[], T], fmt: ReportFormat = ReportFormat.text) -> T:
    """Run a command body; turn the toolkit's own errors into a message and an exit code.

    The one place that maps domain errors to exit codes: a DataError prints its report first;
    Interrupted prints only its one line (what became of the release) and exits 130.
    """
    try:
        return fn()
    except Interrupted as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(exc.exit_code) from None
    except DataError as exc:
        if exc.report is not None:
            print_report(exc.report, fmt)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except ToolkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
