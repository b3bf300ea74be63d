"""Write query results: an aligned table for people, or a standard SPARQL/RDF format for tools.

Why East-Asian display width: a Chinese character takes two terminal columns, so padding by
``len()`` would push every column after a zh label out of line. ``wcwidth`` gives the width a
terminal actually draws.
"""

from __future__ import annotations

from enum import StrEnum

import pyoxigraph as ox
from wcwidth import wcwidth

from toolkit.errors import UsageError
from toolkit.query.engine import Result, Term

ELLIPSIS = "…"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    xml = "xml"
    turtle = "turtle"
    ntriples = "ntriples"


_RESULT_FORMATS = {
    OutputFormat.csv: ox.QueryResultsFormat.CSV,
    OutputFormat.tsv: ox.QueryResultsFormat.TSV,
    OutputFormat.json: ox.QueryResultsFormat.JSON,
    OutputFormat.xml: ox.QueryResultsFormat.XML,
}
_GRAPH_FORMATS = {OutputFormat.turtle: ox.RdfFormat.TURTLE, OutputFormat.ntriples: ox.RdfFormat.N_TRIPLES}


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (wide CJK characters count two)."""
    return sum(max(wcwidth(ch), 0) for ch in text)


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, with an ellipsis when something was cut."""
    if width <= 0 or display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = max(wcwidth(ch), 0)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def compact(iri: str, prefixes: dict[str, str]) -> str:
    """``id:shanghai`` for an IRI under a known namespace (longest match), else ``<iri>``."""
    best = ""
    for prefix, ns in prefixes.items():
        if iri.startswith(ns) and len(ns) > len(prefixes.get(best, "")) and len(iri) > len(ns):
            best = prefix
    return f"{best}:{iri[len(prefixes[best]) :]}" if best else f"<{iri}>"


def cell(term: Term | None, prefixes: dict[str, str]) -> str:
    """How a term reads in a table: IRIs compacted, literals as their text (no quotes or tags)."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        text = compact(term.value, prefixes)
    elif isinstance(term, ox.BlankNode):
        text = f"_:{term.value}"
    elif isinstance(term, ox.Literal):
        text = term.value
    else:
        text = str(term)
    return " ".join(text.split()) if any(c in text for c in "\r\n\t") else text


def table(result: Result, prefixes: dict[str, str], max_width: int = 60) -> str:
    """An aligned text table (SELECT rows, the ASK answer, or a graph result's triples)."""
    if result.kind == "ask":
        return "true\n" if result.boolean else "false\n"
    if result.kind == "graph":
        header = ["subject", "predicate", "object"]
        rows = [
            [cell(t.subject, prefixes), cell(t.predicate, prefixes), cell(t.object, prefixes)] for t in result.triples
        ]
        noun = "triple"
    else:
        header = list(result.variables)
        rows = [[cell(t, prefixes) for t in row] for row in result.rows]
        noun = "row"
    rows = [[fit(c, max_width) for c in row] for row in rows]
    widths = [max([display_width(h), *(display_width(r[i]) for r in rows)]) for i, h in enumerate(header)]
    lines = ["  ".join(pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    count = len(rows)
    lines.append(f"({count} {noun}{'' if count == 1 else 's'})")
    return "\n".join(lines) + "\n"


def serialize(result: Result, fmt: OutputFormat, prefixes: dict[str, str], max_width: int = 60) -> bytes:
    """The result in ``fmt``; UsageError (exit 2) for a format that does not fit the query form."""
    if fmt is OutputFormat.table:
        return table(result, prefixes, max_width).encode("utf-8")
    if result.kind == "graph":
        if fmt not in _GRAPH_FORMATS:
            raise UsageError(
                f"--format {fmt.value} is for SELECT and ASK results; a CONSTRUCT or DESCRIBE query gives triples",
                hint="use --format turtle, ntriples or table",
            )
        used = {
            p: ns
            for p, ns in prefixes.items()
            if any(isinstance(x, ox.NamedNode) and x.value.startswith(ns) for t in result.triples for x in t)
        }
        return ox.serialize(result.triples, format=_GRAPH_FORMATS[fmt], prefixes=used or None)
    if fmt not in _RESULT_FORMATS:
        raise UsageError(
            f"--format {fmt.value} is for CONSTRUCT and DESCRIBE results; this query gives "
            + ("a yes/no answer" if result.kind == "ask" else "rows"),
            hint="use --format table, csv, tsv, json or xml",
        )
    parsed = ox.parse_query_results(result.raw_json, format=ox.QueryResultsFormat.JSON)
    data = parsed.serialize(format=_RESULT_FORMATS[fmt])
    # Oxigraph ends JSON and XML without a newline; a shell prompt would follow on the same line
    return data if data.endswith(b"\n") else data + b"\n"


def default_format(result: Result) -> OutputFormat:
    """Table for rows and yes/no answers, Turtle for triples."""
    return OutputFormat.turtle if result.kind == "graph" else OutputFormat.table
