"""N-Triples, one triple per line, lines sorted (diff-friendly, byte-stable)."""

from __future__ import annotations

from rdflib import Graph

from toolkit.export.canonical import sorted_ntriples
from toolkit.schema.model import Model


def export(g: Graph, model: Model) -> bytes:
    return ("\n".join(sorted_ntriples(g)) + "\n").encode("utf-8")
