"""Stage 4: one exporter per format; each turns the graph into deterministic bytes."""

from __future__ import annotations

from collections.abc import Callable

from rdflib import Graph

from toolkit.export import jsonld, ntriples, rdfxml, turtle
from toolkit.export.csv import export_tables
from toolkit.schema.model import Model

RdfExporter = Callable[[Graph, Model], bytes]

#: release file name -> (exporter, media type)
RDF_EXPORTERS: dict[str, tuple[RdfExporter, str]] = {
    "policy.ttl": (turtle.export, "text/turtle"),
    "policy.nt": (ntriples.export, "application/n-triples"),
    "policy.rdf": (rdfxml.export, "application/rdf+xml"),
    "policy.jsonld": (jsonld.export, "application/ld+json"),
}

__all__ = ["RDF_EXPORTERS", "export_tables"]
