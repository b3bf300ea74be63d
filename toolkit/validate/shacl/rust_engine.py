"""The default engine: `shacl` (PyPI, MIT/Apache-2.0), a SHACL Core + SHACL-SPARQL processor in Rust.

Why: on the project's shapes it gives pyshacl's results in a fraction of the time and memory
(figures in docs/scale.md), passes the W3C suite (core and SPARQL) where the toolkit's own
SHACL→SPARQL compiler did not, and evaluates SPARQL-based constraint components.

Blank nodes: the engine relabels the blank nodes it reads, in order of first appearance,
``<graph>_b<n>`` with one counter that starts with the shapes graph (graph 1) and continues
with the data (graph 0). :class:`_Labels` inverts that numbering, so the report speaks of the
caller's own blank nodes, and refuses (:class:`EngineError`) when the numbering does not fit
what was given, rather than guess.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import shacl
from rdflib import BNode, Graph, URIRef

from toolkit.validate.rdfinput import rdflib_term
from toolkit.validate.shacl.engine import Data, as_ntriples, exact_literals

_ENGINE_BNODE = re.compile(r"^([01])_b([0-9]+)$")


class EngineError(RuntimeError):
    """The engine's report could not be read back onto the caller's terms."""


def _has_blank(path: Path, chunk: int = 1 << 22) -> bool:
    """Whether an N-Triples file may hold a blank node (``_:`` anywhere), read a chunk at a time."""
    tail = b""
    with path.open("rb") as f:
        while data := f.read(chunk):
            if b"_:" in tail + data[:1] or b"_:" in data:
                return True
            tail = data[-1:]
    return False


def _blank_labels(nt: bytes) -> list[str]:
    """The blank node labels of N-Triples text, in order of first appearance (subject, object)."""
    if b"_:" not in nt:
        return []
    seen: dict[str, None] = {}
    for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES):
        for term in (q.subject, q.object):
            if isinstance(term, ox.BlankNode):
                seen.setdefault(term.value, None)
    return list(seen)


class _Labels:
    def __init__(self, shape_labels: list[str], data_labels: list[str]) -> None:
        self.shapes = shape_labels
        self.data = data_labels

    def term(self, t: Any) -> Any:
        if isinstance(t, ox.BlankNode):
            m = _ENGINE_BNODE.match(t.value)
            if m is None:
                return BNode("r" + t.value)  # the report's own nodes (results, lists of paths)
            graph, n = m.group(1), int(m.group(2))
            if graph == "1":
                if n >= len(self.shapes):
                    raise EngineError(f"shapes blank node {t.value} out of range")
                return BNode(self.shapes[n])
            n -= len(self.shapes)
            if not 0 <= n < len(self.data):
                raise EngineError(f"data blank node {t.value} out of range")
            return BNode(self.data[n])
        if isinstance(t, ox.NamedNode | ox.Literal):
            return rdflib_term(t)
        raise EngineError(f"unexpected term {t!r}")


class RustEngine:
    """`shacl` 0.3.x on N-Triples: the data and the ontology as one graph, no inference."""

    name = "shacl"

    def __init__(self) -> None:
        self._compiled: dict[bytes, tuple[Any, list[str]]] = {}

    def _shapes(self, shapes: Graph) -> tuple[Any, list[str]]:
        nt = shapes.serialize(format="nt", encoding="utf-8")
        if nt not in self._compiled:
            self._compiled.clear()  # one shapes graph at a time is what callers reuse
            self._compiled[nt] = (shacl.Shapes.from_text(nt.decode("utf-8"), format="ntriples"), _blank_labels(nt))
        return self._compiled[nt]

    def validate(self, data: Data, shapes: Graph, ontology: Graph | None = None) -> Graph:
        compiled, shape_labels = self._shapes(shapes)
        onto = ontology.serialize(format="nt", encoding="utf-8") if ontology is not None and len(ontology) else b""
        if isinstance(data, Path) and data.suffix == ".nt" and not onto and not _has_blank(data):
            # a file the engine reads itself (by its name's ending): its bytes are never in this process
            return self._graph(compiled.validate_file(str(data), allow_warnings=True), _Labels(shape_labels, []))
        nt = as_ntriples(data)
        # handed over as a file: no second copy of a large graph as a Python string
        with tempfile.TemporaryDirectory(prefix="policy-toolkit-shacl-") as tmp:
            path = Path(tmp) / "data.nt"
            with path.open("wb") as f:
                f.write(nt)
                f.write(b"\n")
                f.write(onto)
            report = compiled.validate_file(str(path), allow_warnings=True)
        blank = b"_:" in nt or b"_:" in onto
        labels = _Labels(shape_labels, _blank_labels(nt + b"\n" + onto) if blank else [])
        return self._graph(report, labels)

    def _graph(self, report: Any, labels: _Labels) -> Graph:
        """The engine's report as an rdflib graph of the caller's terms."""
        g = Graph()
        with exact_literals():  # sh:value as the data wrote it ("yes"^^xsd:boolean, "0920")
            for q in ox.parse(report.serialize("ntriples").encode("utf-8"), format=ox.RdfFormat.N_TRIPLES):
                g.add((labels.term(q.subject), URIRef(q.predicate.value), labels.term(q.object)))
        return g
