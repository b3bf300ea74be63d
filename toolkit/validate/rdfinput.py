"""Read an RDF file a user hands us without letting it reach the network or the file system.

rdflib and pyld fetch remote ``@context`` URLs by default, and XML parsers may expand
entities; both are closed here: JSON-LD goes through pyld with a document loader that
serves only the project's bundled context, and RDF/XML with any DTD is refused outright.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pyld import jsonld
from rdflib import Dataset, Graph

from toolkit.config import Settings
from toolkit.errors import LoadError, UsageError
from toolkit.yamlfile import decode_utf8

MAX_RDF_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 64
CONTEXT_IRI = "https://w3id.org/policy-toolkit/context.jsonld"

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
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


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


def read_rdf_file(path: Path, settings: Settings, max_bytes: int = MAX_RDF_BYTES) -> Graph:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"unknown RDF file type {path.suffix!r}",
            file=path,
            hint=f"use one of {', '.join(sorted(FORMATS))}",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=path) from None
    if len(raw) > max_bytes:
        raise LoadError(f"file is {len(raw)} bytes, over the limit of {max_bytes}", file=path)
    try:
        if fmt == "json-ld":
            try:
                doc = json.loads(decode_utf8(raw, path))
            except json.JSONDecodeError as exc:
                raise LoadError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno) from None
            return jsonld_to_graph(doc, settings)
        if fmt == "xml" and _DTD.search(raw):
            raise LoadError(
                "RDF/XML with a DTD or entity declaration is refused (XXE / entity expansion)",
                file=path,
                hint="remove the <!DOCTYPE ...> block",
            )
        g = Graph()
        g.parse(data=raw, format=fmt, publicID=path.resolve().as_uri())
        return g
    except LoadError as exc:
        if exc.file is None:
            exc.file = str(path)
        raise
    except Exception as exc:  # rdflib raises many parser-specific types for bad syntax
        line = getattr(exc, "lines", None) or getattr(exc, "line", None)
        raise LoadError(f"cannot parse {fmt}: {exc}", file=path, line=line if isinstance(line, int) else None) from None
