"""CLI commands for SPARQL: `query`, `serve` and `publish sparql` (registered on import).

Each command is a few lines over :mod:`toolkit.query` and :mod:`toolkit.publish.sparql`;
errors become exit codes in ``toolkit.cli_common.guard`` (bad query, parameter or option: 2; failed or
unverified upload: 1).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import textwrap
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from toolkit.cli_common import ReleaseOpt, app, guard, publish_app, settings_for
from toolkit.errors import UsageError

#: the shell's code for a process ended by SIGINT (128 + 2)
EXIT_INTERRUPTED = 130


def _params(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {pair!r} is not NAME=VALUE")
        if name in out:
            raise UsageError(f"--param {name} is given twice")
        out[name] = value
    return out


def _list_text(folder: Path) -> str:
    from toolkit.query import saved_queries

    queries = saved_queries(folder)
    if not queries:
        return f"no saved queries in {folder}\n"
    width = max(len(q.name) for q in queries)
    indent = " " * (width + 4)
    lines = []
    for q in queries:
        lines.append(f"{q.name.ljust(width)}  {q.title.get('zh', '')} / {q.title.get('en', '')}")
        lines += textwrap.wrap(q.answers, 100, initial_indent=indent, subsequent_indent=indent)
        for p in q.params:
            need = f"default {p.default}" if p.default is not None else ("required" if p.required else "optional")
            desc = f": {p.description}" if p.description else ""
            lines.append(f"{indent}--param {p.name}=<{p.type}> ({need}){desc}")
    lines += [
        "",
        "run one: policy-toolkit query NAME [--param NAME=VALUE ...] [--format table|csv|tsv|json|xml|turtle]",
    ]
    return "\n".join(lines) + "\n"


@app.command()
def query(
    name: Annotated[
        str | None, typer.Argument(metavar="QUERY", help="A saved query's name (see --list) or a .rq file.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE, bound as a typed RDF term (repeatable)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="table (default for rows), csv, tsv, json, xml (SPARQL results), turtle, ntriples."
        ),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the saved queries and their parameters.")] = False,
    max_width: Annotated[
        int, typer.Option("--max-width", help="Table cells longer than this many columns are cut (0: never).")
    ] = 60,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Stop the query after this many seconds (exit 2). Default: no limit."),
    ] = None,
    allow_service: Annotated[
        bool,
        typer.Option("--allow-service", help="Let SERVICE clauses contact other endpoints (off: refused, exit 2)."),
    ] = False,
    release: ReleaseOpt = None,
) -> None:
    """Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the release, ontology included.

    Parameters are bound as typed RDF terms, never pasted into the query text. Nothing is sent
    over the network unless --allow-service; updates are not run; Ctrl-C stops a query at once
    (exit 130).
    """
    from toolkit.query import (
        OutputFormat,
        default_format,
        find_query,
        load_store,
        queries_dir,
        release_base_iri,
        release_prefixes,
        run_query,
        serialize,
    )

    def body() -> None:
        settings = settings_for(release=release)
        if list_:
            typer.echo(_list_text(queries_dir(settings)), nl=False)
            return
        if name is None:
            raise UsageError("name a saved query or a .rq file", hint="see `policy-toolkit query --list`")
        try:
            wanted = OutputFormat(fmt) if fmt is not None else None
        except ValueError:
            raise UsageError(f"--format {fmt!r}: use one of {', '.join(f.value for f in OutputFormat)}") from None
        saved = find_query(name, queries_dir(settings))
        store = load_store(settings)
        result = run_query(
            store,
            saved.text,
            _params(param),
            declared=saved.params,
            base_iri=release_base_iri(settings),
            source=str(saved.path),
            allow_service=allow_service,
            timeout=timeout,
        )
        data = serialize(result, wanted or default_format(result), release_prefixes(settings), max_width)
        typer.echo(data.decode("utf-8"), nl=False)

    # SIGINT raises KeyboardInterrupt even where it was inherited as ignored (a job started with &)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        guard(body)
    except KeyboardInterrupt:
        # The query's child is already killed and nothing was written: leave now. A normal exit
        # tears down pandas and the rest of the imports first, a second or more on a busy machine.
        typer.echo("interrupted", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGINT, previous)


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1 (0 picks a free one).")] = 7878,
    timeout: Annotated[
        int, typer.Option("--timeout", help="Seconds a query may run before it is cancelled (0: no limit).")
    ] = 30,
    allow_service: Annotated[
        bool,
        typer.Option("--allow-service", help="Let SERVICE clauses contact other endpoints (off: HTTP 400)."),
    ] = False,
    site: Annotated[
        Path | None, typer.Option("--site", help="Serve this built site folder (default: build one for the session).")
    ] = None,
    no_site: Annotated[bool, typer.Option("--no-site", help="Serve only the SPARQL endpoint.")] = False,
    release: ReleaseOpt = None,
) -> None:
    """Serve the release's site and a read-only SPARQL endpoint on one port of 127.0.0.1 until stopped.

    /query is the SPARQL endpoint (the Oxigraph server); every other path is the site, with
    content negotiation on resource IRIs (/id/...: a browser gets the page; Accept text/turtle,
    application/ld+json or application/n-triples gets the resource's data). Queries that use
    SERVICE and updates are refused; nothing is left behind when it stops.
    """
    from toolkit.query.server import serve_release

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    def body() -> None:
        if timeout < 0:
            raise UsageError(f"--timeout {timeout}: give a number of seconds, 0 for no limit")
        settings = settings_for(release=release)
        previous = signal.signal(signal.SIGTERM, stop)
        stack = contextlib.ExitStack()
        try:
            if site is not None and not no_site and not site.is_dir():
                raise UsageError(f"--site {site}: no such folder", hint="run `policy-toolkit site --out DIR` first")
            server = stack.enter_context(
                serve_release(
                    settings,
                    port=port,
                    timeout=timeout or None,
                    allow_service=allow_service,
                    site=None if no_site else site,
                )
            )
            if site is None and not no_site:  # built once the port is ours: a busy port fails at once
                from toolkit.site import build_site_files

                server.gate.mount_site(build_site_files(settings))  # in memory: nothing to clean up
            for folder in server.removed:
                typer.echo(f"removed {folder}: left by a serve that was killed", err=True)
            typer.echo(f"SPARQL endpoint: {server.query_url}  (read-only; graph store: {server.store_url})")
            typer.echo(f"serving {settings.release_dir} from {server.location}; Ctrl-C stops")
            if not no_site:
                typer.echo(f"site: {server.url}/  (resource IRIs are content-negotiated)")
            sys.stdout.flush()
            assert server.process is not None
            code = server.process.wait()
            if code < 0 or code == 130:  # Ctrl-C in a terminal reaches the server too
                raise KeyboardInterrupt
            raise UsageError(f"the Oxigraph server stopped by itself (exit {code})")
        except KeyboardInterrupt:
            typer.echo("stopped")
        finally:
            stack.close()
            signal.signal(signal.SIGTERM, previous)

    guard(body)


@publish_app.command("sparql")
def publish_sparql_command(
    store: Annotated[
        str, typer.Option("--store", help="The store's Graph Store endpoint, or its root URL for Oxigraph.")
    ],
    graph: Annotated[
        str | None, typer.Option("--graph", help="Prefix of the graph names (default: <base IRI>graph/).")
    ] = None,
    query_url: Annotated[
        str | None, typer.Option("--query-url", help="SPARQL query endpoint used to verify (default: beside --store).")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Publish only this graph: a source id or 'ontology' (repeatable)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be done; send nothing.")] = False,
    retries: Annotated[int, typer.Option("--retries", help="Attempts per request on network errors and 5xx.")] = 4,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each HTTP answer.")] = 30.0,
    release: ReleaseOpt = None,
) -> None:
    """Upload the release to a SPARQL store: one named graph per source and one for the ontology.

    Each graph is replaced whole with PUT (SPARQL 1.1 Graph Store Protocol), so publishing again
    is idempotent and other graphs are never touched; then the triple count of every graph is
    checked with a query. Credentials: POLICY_TOOLKIT_SPARQL_TOKEN (bearer), or
    POLICY_TOOLKIT_SPARQL_USER and POLICY_TOOLKIT_SPARQL_PASSWORD (basic).
    """
    from toolkit.publish.sparql import GraphUpload, RetryPolicy, publish_sparql

    def progress(up: GraphUpload) -> None:
        typer.echo(f"  stored <{up.iri}>  {up.triples} triples (HTTP {up.http_status})")

    def body() -> None:
        if retries < 1:
            raise UsageError("--retries must be at least 1")
        settings = settings_for(release=release)
        report = publish_sparql(
            settings,
            store,
            graph=graph,
            query_url=query_url,
            only=only,
            dry_run=dry_run,
            retry=RetryPolicy(attempts=retries),
            timeout=timeout,
            on_upload=None if dry_run else progress,
        )
        typer.echo(report.to_text(), nl=False)

    guard(body)
