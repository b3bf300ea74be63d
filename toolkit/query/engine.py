"""Run SPARQL over the release with pyoxigraph, binding parameters as typed RDF terms.

Why pyoxigraph rather than rdflib's SPARQL: it is an embedded SPARQL 1.1 engine written in
Rust, orders of magnitude faster, and an independent implementation from the rdflib code
that built the graph. rdflib stays the modelling library; this module only reads.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pyoxigraph as ox

from toolkit.errors import UsageError
from toolkit.query.child import ChildDied, ChildTimeout, call_in_child
from toolkit.query.guard import UPDATES_HINT, UPDATES_REFUSED, is_update, refuse_service, uses_service
from toolkit.query.sparqltext import query_form, variables, with_values

XSD = "http://www.w3.org/2001/XMLSchema#"

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

#: parameter types a query header may declare, with the lexical form each accepts
PARAM_TYPES: dict[str, str] = {
    "entity": "an id of the release (e.g. shanghai-yrd-centre) or an absolute IRI",
    "iri": "an absolute IRI",
    "xsd:string": "any text",
    "xsd:date": "a date, YYYY-MM-DD",
    "xsd:gYear": "a year, YYYY",
    "xsd:gYearMonth": "a month, YYYY-MM",
    "xsd:integer": "a whole number",
    "xsd:boolean": "true or false",
}
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LEXICAL = {
    "xsd:gYear": re.compile(r"^-?\d{4,}$"),
    "xsd:gYearMonth": re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])$"),
    "xsd:integer": re.compile(r"^[+-]?\d+$"),
    "xsd:boolean": re.compile(r"^(true|false|1|0)$"),
}
_SYNTAX = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)


@dataclass(frozen=True)
class Param:
    """A declared query parameter: ``--param name=value`` becomes a term of ``type``."""

    name: str
    type: str = "xsd:string"
    required: bool = False
    default: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not _VAR_NAME.match(self.name):
            raise ValueError(f"parameter name {self.name!r} is not a SPARQL variable name")
        if self.type not in PARAM_TYPES:
            raise ValueError(f"unknown parameter type {self.type!r}; known: {', '.join(PARAM_TYPES)}")


def to_term(param: Param, value: str, *, base_iri: str, store: ox.Store | None = None) -> Term:
    """The RDF term for a parameter value; UsageError (exit 2) if it is not of the declared type."""
    kind = param.type
    bad = UsageError(f"--param {param.name}={value!r} is not {PARAM_TYPES[kind]} ({kind})")
    if kind in ("entity", "iri"):
        iri = value if kind == "iri" or re.match(r"^[a-z][a-z0-9+.-]*:", value) else base_iri + value
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            raise bad from None
        if kind == "iri" and not re.match(r"^[a-z][a-z0-9+.-]*:", value):
            raise bad
        if kind == "entity" and store is not None:
            _check_entity(store, node, param, base_iri)
        return node
    if kind == "xsd:string":
        return ox.Literal(value)
    if kind == "xsd:date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise bad from None
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise bad
    elif not _LEXICAL[kind].match(value):
        raise bad
    return ox.Literal(value, datatype=ox.NamedNode(XSD + kind.removeprefix("xsd:")))


_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _check_entity(store: ox.Store, node: ox.NamedNode, param: Param, base_iri: str) -> None:
    """An id that names nothing in the release is a typo, not an empty answer: say so."""
    if next(iter(store.quads_for_pattern(node, None, None)), None) is not None:
        return
    # the typed subjects only: every entity has a class, and the other quads (most of a large release)
    # would each be made into Python objects for nothing
    subjects = {
        q.subject.value for q in store.quads_for_pattern(None, _RDF_TYPE, None) if isinstance(q.subject, ox.NamedNode)
    }
    known = sorted(s[len(base_iri) :] for s in subjects if s.startswith(base_iri) and "/" not in s[len(base_iri) :])
    wanted = node.value.removeprefix(base_iri)
    close = difflib.get_close_matches(wanted, known, n=3)
    tip = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"--param {param.name}: nothing in the release is called {wanted!r}{tip}")


@dataclass
class Result:
    """A materialised query result: rows for SELECT, a boolean for ASK, triples for graph forms."""

    kind: str  # "select" | "ask" | "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[list[Term | None]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    #: the SELECT/ASK result in SPARQL-JSON, from which the other result formats are written
    raw_json: bytes = b""

    def records(self) -> list[dict[str, str | None]]:
        """Rows as dicts of plain strings (IRI or lexical form), handy in Python and tests."""
        return [
            {
                v: (None if t is None else t.value if hasattr(t, "value") else str(t))
                for v, t in zip(self.variables, row, strict=True)
            }
            for row in self.rows
        ]

    def __len__(self) -> int:
        if self.kind == "select":
            return len(self.rows)
        if self.kind == "graph":
            return len(self.triples)
        return 1


def check_syntax(text: str, *, source: str | None = None) -> None:
    """Raise UsageError (exit 2) with line and column when ``text`` is not valid SPARQL.

    An update request (INSERT, DELETE, LOAD...) is not a syntax error but a refusal: updates
    are not run. A query with SERVICE is not checked here: Oxigraph calls the remote endpoint
    as soon as such a query is prepared, even on an empty store, so only its evaluation (which
    :func:`run_query` refuses unless federation is allowed) may parse it.

    The query is parsed by running it against an empty store: nothing is read and the
    positions refer to the text as the user wrote it (before any VALUES block is added).
    """
    if uses_service(text):
        return  # see the docstring: checked where it is evaluated, if federation is allowed at all
    try:
        ox.Store().query(text)  # parsed eagerly; evaluation is lazy and never started here
    except SyntaxError as exc:
        if is_update(text):  # Oxigraph parses it as a query and would say "expected CONSTRUCT"
            raise UsageError(UPDATES_REFUSED, file=source, hint=UPDATES_HINT) from None
        raise syntax_error(str(exc), text, source) from None


def syntax_error(message: str, text: str, source: str | None) -> UsageError:
    m = _SYNTAX.match(message)
    if not m:
        return UsageError(f"SPARQL syntax error: {message}", file=source)
    line, col, what = int(m.group(1)), int(m.group(2)), " ".join(m.group(3).split())
    if len(what) > 160:
        what = what[:157] + "..."
    lines = text.splitlines()
    shown = ""
    if 1 <= line <= len(lines):
        src = lines[line - 1].expandtabs(1)
        shown = f"\n  {src}\n  {' ' * display_offset(src, col - 1)}^"
    elif line > len(lines):
        shown = " (at the end of the query)"
    return UsageError(f"SPARQL syntax error at line {line}, column {col}: {what}{shown}", file=source, line=line)


def display_offset(text: str, chars: int) -> int:
    """Terminal columns taken by the first ``chars`` characters (zh characters are two wide)."""
    from wcwidth import wcwidth

    return sum(max(wcwidth(ch), 0) for ch in text[: max(chars, 0)])


def bind(
    text: str,
    params: Mapping[str, str],
    declared: list[Param] | None = None,
    *,
    base_iri: str,
    store: ox.Store | None = None,
) -> tuple[str, dict[str, Term]]:
    """Check ``params`` against the declared ones; return the query with a VALUES block and the terms.

    Undeclared queries (an ad-hoc .rq file) take any parameter its text mentions, as an
    ``xsd:string``; declared queries take only their own, with defaults filled in.
    """
    mentioned = variables(text)
    specs = {p.name: p for p in declared or []}
    terms: dict[str, Term] = {}
    for name, value in params.items():
        if name not in specs:
            if declared:
                raise UsageError(f"unknown parameter {name!r}; this query takes: {', '.join(sorted(specs)) or 'none'}")
            specs[name] = Param(name) if _VAR_NAME.match(name) else _bad_name(name)
        if name not in mentioned:
            raise UsageError(f"parameter {name!r}: the query has no variable ?{name}")
        terms[name] = to_term(specs[name], value, base_iri=base_iri, store=store)
    for p in declared or []:
        if p.name in terms:
            continue
        if p.default is not None:
            terms[p.name] = to_term(p, p.default, base_iri=base_iri, store=store)
        elif p.required:
            raise UsageError(f"missing --param {p.name}=... ({PARAM_TYPES[p.type]}): {p.description}".rstrip(": "))
    if not terms:
        return text, {}
    names = sorted(terms)
    block = "VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(str(terms[n]) for n in names) + ") }"
    return with_values(text, block), terms


def _bad_name(name: str) -> Param:
    raise UsageError(f"parameter name {name!r} is not a SPARQL variable name (letters, digits, _)")


def run_query(
    store: ox.Store,
    text: str,
    params: Mapping[str, str] | None = None,
    *,
    declared: list[Param] | None = None,
    base_iri: str,
    source: str | None = None,
    allow_service: bool = False,
    timeout: float | None = None,
) -> Result:
    """Run a SELECT, ASK, CONSTRUCT or DESCRIBE query over ``store`` (default graph = all graphs).

    ``params`` are bound as typed RDF terms (see :func:`bind`); ``source`` names the query
    file in error messages. A query using SERVICE is refused (UsageError) unless
    ``allow_service``: federation would send the query to another host. The query is
    evaluated in a child process (:func:`toolkit.query.child.call_in_child`), so that Ctrl-C
    (KeyboardInterrupt) stops it at once and ``timeout`` seconds end it with a UsageError.
    """
    if timeout is not None and not timeout > 0:
        raise UsageError(f"--timeout {timeout:g}: give a number of seconds above 0")
    if not allow_service:  # before anything reaches Oxigraph, which calls SERVICE endpoints at once
        refuse_service(text, source=source)
    check_syntax(text, source=source)
    if query_form(text) is None:
        raise UsageError(UPDATES_REFUSED, file=source, hint=UPDATES_HINT)
    bound, _terms = bind(text, params or {}, declared, base_iri=base_iri, store=store)
    if not allow_service:
        refuse_service(bound, source=source)
    try:
        kind, data = call_in_child(evaluate, store, bound, timeout=timeout)
    except ChildTimeout:
        raise UsageError(
            f"the query did not finish within {timeout:g} s and was stopped (--timeout)",
            file=source,
            hint="narrow the query (fewer joins, a LIMIT) or give it more time with a larger --timeout",
        ) from None
    except ChildDied:
        raise UsageError("the query stopped without an answer (its process was killed)", file=source) from None
    if kind == "syntax":  # only if binding broke the query: report it against the bound text
        raise syntax_error(data.decode("utf-8"), bound, source)
    if kind == "failed":  # evaluation errors (a failing SERVICE, say)
        raise UsageError(f"the query failed: {data.decode('utf-8')}", file=source)
    return from_wire(kind, data)


def evaluate(store: ox.Store, text: str, *, tsv: bool = False) -> tuple[str, bytes]:
    """Evaluate ``text``; the answer serialised for the trip back from a child process.

    ("select" | "ask", SPARQL-JSON), ("graph", N-Triples), or ("syntax" | "failed", message);
    ``tsv``: a SELECT's answer as ("tsv", SPARQL-TSV) instead (a row a line: what the site cuts into
    parts, :mod:`toolkit.site.cut`).
    """
    try:
        raw = store.query(text, use_default_graph_as_union=True)
        if isinstance(raw, ox.QueryTriples):
            return "graph", ox.serialize(raw, format=ox.RdfFormat.N_TRIPLES)
        if tsv and not isinstance(raw, ox.QueryBoolean):
            return "tsv", raw.serialize(format=ox.QueryResultsFormat.TSV)
        kind = "ask" if isinstance(raw, ox.QueryBoolean) else "select"
        return kind, raw.serialize(format=ox.QueryResultsFormat.JSON)
    except SyntaxError as exc:
        return "syntax", str(exc).encode("utf-8")
    except (OSError, RuntimeError, ValueError) as exc:
        return "failed", str(exc).encode("utf-8")


def from_wire(kind: str, data: bytes) -> Result:
    """The :class:`Result` for an answer serialised by :func:`evaluate`."""
    if kind == "tsv":
        return materialise(ox.parse_query_results(data, format=ox.QueryResultsFormat.TSV))
    if kind == "graph":
        triples = {q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}
        return Result(
            kind="graph", triples=sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        )
    return materialise(ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON))


def materialise(raw: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> Result:
    if isinstance(raw, ox.QueryBoolean):
        return Result(kind="ask", boolean=bool(raw), raw_json=raw.serialize(format=ox.QueryResultsFormat.JSON))
    if isinstance(raw, ox.QueryTriples):
        return Result(
            kind="graph", triples=sorted(set(raw), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        )
    data = raw.serialize(format=ox.QueryResultsFormat.JSON)
    parsed = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    assert isinstance(parsed, ox.QuerySolutions)
    names = [v.value for v in parsed.variables]
    rows = [[sol[n] for n in names] for sol in parsed]
    return Result(kind="select", variables=names, rows=rows, raw_json=data)
