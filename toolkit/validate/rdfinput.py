"""Read an RDF file a user hands us without letting it reach the network or the file system.

rdflib and pyld fetch remote ``@context`` URLs by default, and XML parsers may expand
entities; both are closed here: JSON-LD goes through pyld with a document loader that
serves only the project's bundled context, and RDF/XML with any DTD is refused outright,
whatever its encoding (defusedxml's expat decides, as the parser that reads it would; UTF-32,
which expat cannot read, is recognised by its first bytes as XML 1.0 Appendix F says).

The file must be a regular file (a link to one is fine) of at most ``MAX_RDF_BYTES`` (64 MiB;
``POLICY_TOOLKIT_MAX_RDF_BYTES`` overrides it); a FIFO, a device or a folder fails at once.
Turtle, N-Triples, N-Quads and TriG are read by pyoxigraph, whose parser is strict about IRIs
and knows the line and column of every error: a syntax error stops the read (exit 2) with its
line, column and the offending text; an IRI that is not a valid IRI (a space, ``{``, ``|``...)
becomes a violation (exit 1) with its line, and the parser goes on to find the others.
"""

from __future__ import annotations

import json
import os
import re
import xml.sax
import xml.sax.handler
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from defusedxml import DefusedXmlException
from defusedxml import sax as defused_sax
from pyld import jsonld
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from toolkit.config import Settings
from toolkit.errors import DataError, LoadError, UsageError
from toolkit.report import Severity, ValidationReport, ValidationResult
from toolkit.yamlfile import decode_utf8, read_capped

MAX_RDF_BYTES = 64 * 1024 * 1024
MAX_BYTES_ENV = "POLICY_TOOLKIT_MAX_RDF_BYTES"
MAX_JSON_DEPTH = 64
CONTEXT_IRI = "https://w3id.org/policy-toolkit/context.jsonld"
#: the validator name of the problems found while reading (bad IRIs, an empty file)
VALIDATOR = "rdf-input"
#: at most this many characters of the offending text are quoted in a message
EXCERPT_CHARS = 60

FORMATS = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}
_OX_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
#: pyoxigraph's message prefix: "Parser error at line 2 between columns 11 and 25: " and kin
_POSITION = re.compile(r"^Parser error (at|between) [^:]*: ")
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
#: XML 1.0 Appendix F: the byte order marks of a UCS-4 (UTF-32) document
_UCS4_BOMS = {b"\x00\x00\xfe\xff": "utf-32-be", b"\xff\xfe\x00\x00": "utf-32-le"}


@dataclass
class RdfInput:
    """The graph read from a file, and what reading it found (invalid IRIs, an empty file)."""

    graph: Graph
    results: list[ValidationResult] = field(default_factory=list)


def max_rdf_bytes() -> int:
    """The size limit of an RDF file: ``MAX_RDF_BYTES``, or ``POLICY_TOOLKIT_MAX_RDF_BYTES``."""
    raw = os.environ.get(MAX_BYTES_ENV)
    if raw is None or not raw.strip():
        return MAX_RDF_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(f"{MAX_BYTES_ENV}={raw!r} is not a positive number of bytes", hint="e.g. 268435456")
    return value


def bundled_loader(settings: Settings) -> Any:
    """A pyld document loader that serves the bundled context and refuses everything else."""
    context_path = settings.schema_dir / "context.jsonld"

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if url == CONTEXT_IRI:
            return {
                "contentType": "application/ld+json",
                "contextUrl": None,
                "documentUrl": url,
                "document": json.loads(context_path.read_text(encoding="utf-8")),
            }
        raise LoadError(
            f"refused to load the remote or local JSON-LD context {url!r}",
            hint=f"inline the @context, or use {CONTEXT_IRI}",
        )

    return load


def _depth(obj: Any, limit: int) -> None:
    stack = [(obj, 1)]
    while stack:
        cur, d = stack.pop()
        if d > limit:
            raise LoadError(f"JSON nested deeper than {limit} levels")
        if isinstance(cur, dict):
            stack.extend((v, d + 1) for v in cur.values())
        elif isinstance(cur, list):
            stack.extend((v, d + 1) for v in cur)


def jsonld_to_graph(doc: Any, settings: Settings) -> Graph:
    _depth(doc, MAX_JSON_DEPTH)
    try:
        nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": bundled_loader(settings)})
    except jsonld.JsonLdError as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, LoadError):
                raise LoadError(cause.message, hint=cause.hint) from None
            cause = getattr(cause, "cause", None) or cause.__cause__
        raise LoadError(f"invalid JSON-LD: {exc.message if hasattr(exc, 'message') else exc}") from None
    ds = Dataset()
    ds.parse(data=nquads, format="nquads")
    g = Graph()
    for s, p, o, _ctx in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def read_rdf_file(path: Path, settings: Settings, max_bytes: int | None = None) -> Graph:
    """The graph of an RDF file; raises :class:`DataError` (exit 1) when an IRI in it is invalid."""
    loaded = read_rdf_input(path, settings, max_bytes)
    problems = [r for r in loaded.results if r.severity is Severity.VIOLATION]
    if problems:
        report = ValidationReport(results=problems, validators_run=[VALIDATOR])
        raise DataError(f"{len(problems)} invalid IRI(s)", report=report, file=path)
    return loaded.graph


def read_rdf_input(path: Path, settings: Settings, max_bytes: int | None = None) -> RdfInput:
    """Read any RDF file we accept; the graph plus the problems reading it found."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"unknown RDF file type {path.suffix!r}",
            file=path,
            hint=f"use one of {', '.join(sorted(FORMATS))}",
        )
    raw = read_capped(path, max_bytes if max_bytes is not None else max_rdf_bytes(), what="RDF file")
    try:
        if fmt == "json-ld":
            try:
                doc = json.loads(decode_utf8(raw, path))
            except json.JSONDecodeError as exc:
                raise LoadError(
                    f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=path, line=exc.lineno
                ) from None
            loaded = RdfInput(jsonld_to_graph(doc, settings))
            loaded.results += _invalid_iris(loaded.graph, raw, path)
        elif fmt == "xml":
            refuse_dtd(raw, path)
            graph = Graph()
            graph.parse(data=raw, format="xml", publicID=path.resolve().as_uri())
            loaded = RdfInput(graph, _invalid_iris(graph, raw, path))
        else:
            loaded = _read_with_oxigraph(raw, fmt, path)
    except (LoadError, DataError) as exc:
        if exc.file is None:
            exc.file = str(path)
        raise
    except Exception as exc:  # rdflib raises many parser-specific types for bad syntax
        line = getattr(exc, "lines", None) or getattr(exc, "line", None)
        raise LoadError(
            f"cannot parse {fmt}: {_plain(str(exc))}", file=path, line=line if isinstance(line, int) else None
        ) from None
    if len(loaded.graph) == 0 and not loaded.results:
        loaded.results.append(
            ValidationResult(
                validator=VALIDATOR,
                severity=Severity.WARNING,
                message="the file holds no triples: there was nothing to validate",
                source_file=str(path),
            )
        )
    return loaded


def refuse_dtd(raw: bytes, path: Path) -> None:
    """Refuse RDF/XML with a DTD in any encoding, before any parser expands an entity.

    defusedxml runs expat (rdflib's RDF/XML parser) with DTDs forbidden: expat detects the
    encoding as XML 1.0 Appendix F says (BOMs, UTF-16 without BOM, the declaration) and stops
    at the ``<!DOCTYPE`` before reading a single declaration. UTF-32, which expat cannot read,
    is decoded here and looked at directly.
    """
    refusal = LoadError(
        "RDF/XML with a DTD or entity declaration is refused (XXE / entity expansion)",
        file=path,
        hint="remove the <!DOCTYPE ...> block",
    )
    ucs4 = _ucs4(raw)
    if ucs4 is not None:
        text = raw.decode(ucs4, errors="replace")
        if _DTD.search(text):
            raise refusal
        raise LoadError("RDF/XML in UTF-32 cannot be read", file=path, hint="save the file as UTF-8")
    try:
        defused_sax.parseString(raw, xml.sax.handler.ContentHandler(), forbid_dtd=True)
    except DefusedXmlException:
        raise refusal from None
    except xml.sax.SAXParseException as exc:
        raise LoadError(
            f"not well-formed XML at line {exc.getLineNumber()}, column {exc.getColumnNumber() + 1}: "
            f"{exc.getMessage()}",
            file=path,
            line=exc.getLineNumber(),
        ) from None


def _ucs4(raw: bytes) -> str | None:
    """The UTF-32 codec of a document in UCS-4, or None (Appendix F: a BOM, or three zero bytes
    around the first character, which Appendix F lists for '<' and a document may begin with
    any character, white space included)."""
    head = raw[:4]
    if head in _UCS4_BOMS:
        return _UCS4_BOMS[head]
    if len(head) == 4 and head[1:] == b"\0\0\0" and head[0]:
        return "utf-32-le"
    if len(head) == 4 and head[:3] == b"\0\0\0" and head[3]:
        return "utf-32-be"
    return None


def _read_with_oxigraph(raw: bytes, fmt: str, path: Path) -> RdfInput:
    """Parse with pyoxigraph (strict IRIs, positions), into an rdflib graph for the validators.

    The parser goes on after an error: every invalid IRI is collected as a violation, and the
    first other syntax error stops the read. Graph names are dropped (the shapes look at triples).
    """
    graph = Graph()
    results: list[ValidationResult] = []
    lines: list[str] | None = None
    parser = ox.parse(raw, format=_OX_FORMATS[fmt], base_iri=path.resolve().as_uri())
    while True:
        try:
            quad = next(parser)
        except StopIteration:
            break
        except SyntaxError as exc:
            if lines is None:
                lines = raw.decode("utf-8", errors="replace").split("\n")
            reason = _POSITION.sub("", exc.msg)
            line, column = exc.lineno, exc.offset
            excerpt = _excerpt(lines, line, column, exc.end_lineno, exc.end_offset)
            where = f"line {line}, column {column}" if line and column else "an unknown place"
            if reason.startswith("Invalid IRI"):
                results.append(
                    ValidationResult(
                        validator=VALIDATOR,
                        message=f"not a valid IRI ({reason}) at column {column}; percent-encode the "
                        "character (a space is %20) or fix the IRI",
                        value=excerpt,
                        source_file=str(path),
                        line=line,
                    )
                )
                continue
            raise LoadError(
                f"{fmt} syntax error at {where}: {reason}" + (f"; near {excerpt!r}" if excerpt else ""),
                file=path,
                line=line,
                hint="fix the syntax at this line and column",
            ) from None
        graph.add((rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object)))
    for prefix, namespace in sorted(parser.prefixes.items()):  # reports name terms as the file does (ex:rex)
        graph.bind(prefix, namespace, override=True)
    return RdfInput(graph, results)


def rdflib_term(term: Any) -> Node:
    """An rdflib term for a pyoxigraph term, as rdflib's own parsers would make it."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))
    raise LoadError(f"unsupported RDF term {term!r} (RDF-star triple terms are not read)")


def _excerpt(lines: list[str], line: int | None, column: int | None, end_line: int | None, end: int | None) -> str:
    """The offending text as text (not bytes), at most ``EXCERPT_CHARS`` characters."""
    if not line or not column or line > len(lines):
        return ""
    text = lines[line - 1].rstrip("\r")
    stop = end if end_line == line and end and end > column else len(text) + 1
    piece = text[column - 1 : stop - 1] or text[max(0, column - 1 - EXCERPT_CHARS // 2) :]
    if len(piece) > EXCERPT_CHARS:
        piece = piece[:EXCERPT_CHARS] + "…"
    return printable(piece)


def _invalid_iris(graph: Graph, raw: bytes, path: Path) -> list[ValidationResult]:
    """Every IRI of a graph read by rdflib or pyld that pyoxigraph would not accept, with the
    line where it first occurs in the file (when it is written there as it is).

    The triples holding such an IRI are taken out of the graph, as pyoxigraph's parser skips
    them in the other formats: they are reported here, and no SHACL engine can be handed them
    (an invalid IRI has no N-Triples form)."""
    text: str | None = None
    out = []
    seen: set[str] = set()
    bad: set[str] = set()
    for triple in list(graph):
        if any(str(t) in bad or (isinstance(t, Literal) and str(t.datatype) in bad) for t in triple):
            graph.remove(triple)
            continue
        for term in triple:
            iris = [term] if isinstance(term, URIRef) else []
            if isinstance(term, Literal) and term.datatype is not None:
                iris.append(term.datatype)
            for iri in iris:
                value = str(iri)
                if value in seen:
                    continue
                seen.add(value)
                try:
                    ox.NamedNode(value)
                    continue
                except ValueError as exc:
                    reason = str(exc)
                bad.add(value)
                graph.remove(triple)
                if text is None:
                    text = raw.decode("utf-8", errors="replace")
                at = text.find(value)
                out.append(
                    ValidationResult(
                        validator=VALIDATOR,
                        message=f"not a valid IRI ({reason}); percent-encode the character (a space is %20)",
                        value=printable(value[:EXCERPT_CHARS]),
                        source_file=str(path),
                        line=text.count("\n", 0, at) + 1 if at >= 0 else None,
                    )
                )
    return out


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``), other characters (Chinese too) as they are."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _plain(message: str) -> str:
    """A parser's message with escaped UTF-8 bytes (b'\\xe6\\x8e...') turned back into text."""

    def decode(m: re.Match[str]) -> str:
        try:
            return bytes(m.group(0), "latin-1").decode("unicode_escape").encode("latin-1").decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return m.group(0)

    return re.sub(r"(?:\\x[0-9a-f]{2})+", decode, message)
