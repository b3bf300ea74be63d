"""Load a release (as published, from its files) into an in-memory pyoxigraph store.

Why from the files and not by rebuilding: queries must answer for the release that was
published, which may be a downloaded copy with no sources beside it. The release's
``policy.nq`` holds every source in a named graph of its own plus the ontology; queries run
with the default graph as the union of all graphs, so they need no ``GRAPH`` clause, and can
still use one to ask which source a fact came from.

A release made before ``policy.nq`` existed is loaded from ``policy.nt`` (default graph)
and the project's ``schema/ontology.ttl`` (the ontology graph) instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox

from toolkit.config import Settings
from toolkit.errors import LoadError
from toolkit.export.nquads import ONTOLOGY, ONTOLOGY_FILE, RELEASE_FILE
from toolkit.graph.iris import named_graph as graph_iri

TRIPLES_FILE = "policy.nt"


def release_base_iri(settings: Settings, release_dir: Path | None = None) -> str:
    """The base IRI the release was built with (its manifest), else the project's."""
    manifest = (release_dir or settings.release_dir) / "manifest.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["base_iri"])
    except (OSError, ValueError, KeyError, TypeError):
        return settings.base_iri


def _load(
    store: ox.Store, path: Path, fmt: ox.RdfFormat, to_graph: ox.NamedNode | None = None, lenient: bool = False
) -> None:
    try:
        if to_graph is None:
            store.load(path=path, format=fmt, lenient=lenient)
        else:
            store.load(path=path, format=fmt, to_graph=to_graph, lenient=lenient)
    except SyntaxError as exc:
        raise LoadError(f"not valid RDF: {exc}", file=path) from None
    except OSError as exc:
        raise LoadError(f"cannot read: {exc}", file=path) from None


def load_store(settings: Settings, release_dir: Path | None = None, *, lenient: bool = False) -> ox.Store:
    """The release in ``release_dir`` (default: the project's) in a new in-memory store.

    ``lenient``: Oxigraph does not check the IRIs and language tags as it parses (at 1M triples 3.7 s of
    CPU against 6.4 s). Only for a caller that parses the same bytes strictly itself and stops on an
    error before any answer is used (the site: :mod:`toolkit.site.answers`); valid data loads the same."""
    folder = release_dir or settings.release_dir
    store = ox.Store()
    dataset = folder / RELEASE_FILE
    if dataset.is_file():
        _load(store, dataset, ox.RdfFormat.N_QUADS, lenient=lenient)
        return store
    triples = folder / TRIPLES_FILE
    if not triples.is_file():
        raise LoadError("no release here yet", file=folder, hint="run `policy-toolkit build`")
    _load(store, triples, ox.RdfFormat.N_TRIPLES, lenient=lenient)
    ontology = settings.schema_dir / ONTOLOGY_FILE
    base = release_base_iri(settings, folder)
    _load(store, ontology, ox.RdfFormat.TURTLE, ox.NamedNode(graph_iri(base, ONTOLOGY)))
    return store


_PREFIX_LINE = re.compile(r"^@prefix\s+([A-Za-z][\w.-]*|):\s*<([^>]*)>\s*\.\s*$")
STANDARD_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
}


def turtle_head(path: Path) -> str:
    """The text of a Turtle file the toolkit wrote up to its first blank line: its directives ("" when it
    cannot be read). Read in pieces until that line, not whole: ``policy.ttl`` is 54 MB at 1M triples."""
    head = b""
    try:
        with path.open("rb") as fh:
            while b"\n\n" not in head and (piece := fh.read(1 << 16)):
                head += piece
        return head.split(b"\n\n", 1)[0].decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def release_prefixes(settings: Settings, release_dir: Path | None = None) -> dict[str, str]:
    """Prefixes for showing IRIs compactly: the standard ones plus those of the release's Turtle."""
    prefixes = dict(STANDARD_PREFIXES)
    head = turtle_head((release_dir or settings.release_dir) / "policy.ttl")
    for line in head.splitlines():
        m = _PREFIX_LINE.match(line.strip())
        if m and m.group(1):
            prefixes[m.group(1)] = m.group(2)
    prefixes.setdefault("id", release_base_iri(settings, release_dir))
    return prefixes
