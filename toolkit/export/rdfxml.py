"""RDF/XML from a canonical copy, since rdflib's XML serializer does not sort on its own."""

from __future__ import annotations

from rdflib import Graph

from toolkit.export.canonical import canonical_copy
from toolkit.schema.model import Model


def export(g: Graph, model: Model) -> bytes:
    return canonical_copy(g).serialize(format="xml", encoding="utf-8")
