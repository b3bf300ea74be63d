"""The SHACL engine interface: data and shapes in, a SHACL report graph out.

Why one interface: the build, `validate FILE`, the DCAT-AP check, the incremental rebuild and
the W3C suite all ask the same question, and the answer must not depend on which engine ran.
An engine only has to produce the report graph; :mod:`toolkit.validate.shacl.results` turns
it into the toolkit's results and writes the messages, the same way for every engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import rdflib
from rdflib import Graph

#: data handed to an engine: an rdflib graph, or N-Triples (UTF-8) as the fast build has it
#: a graph, N-Triples bytes, or an N-Triples file (a large input the engine reads itself)
Data = Graph | bytes | Path


class Engine(Protocol):
    """A SHACL processor. ``validate`` returns the report graph: its focus nodes and values are
    terms of ``data`` (blank nodes included, with the data's own labels), its shapes and paths
    terms of ``shapes``. ``ontology`` is mixed into the data graph, as pyshacl's ``ont_graph``
    does (it supplies ``rdfs:subClassOf`` for class targets and ``sh:class``)."""

    name: str

    def validate(self, data: Data, shapes: Graph, ontology: Graph | None = None) -> Graph: ...


@contextmanager
def exact_literals() -> Iterator[None]:
    """Parse with literals kept as written (rdflib's documented ``NORMALIZE_LITERALS`` switch).

    Why: by default rdflib rewrites ``"yes"^^xsd:boolean`` as ``"false"`` and ``"0920"`` as
    ``"920"``: a validator would then report (or miss) a value the file does not hold."""
    before = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        with warnings.catch_warnings():  # an ill-formed value is reported, not warned about
            warnings.filterwarnings("ignore", "Parsing weird boolean", UserWarning)
            yield
    finally:
        rdflib.NORMALIZE_LITERALS = before


def as_graph(data: Data) -> Graph:
    """The data as an rdflib graph (parsed, literals as written, when it came as N-Triples)."""
    if isinstance(data, Graph):
        return data
    if isinstance(data, Path):
        data = data.read_bytes()
    g = Graph()
    if data.strip():
        with exact_literals():
            g.parse(data=data, format="nt")
    return g


def as_ntriples(data: Data) -> bytes:
    """The data as N-Triples bytes (serialised when it came as a graph)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, Path):
        return data.read_bytes()
    return data.serialize(format="nt", encoding="utf-8")
