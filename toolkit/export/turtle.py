"""Turtle: rdflib's serializer sorts subjects and predicates itself."""

from __future__ import annotations

from rdflib import Graph

from toolkit.export.canonical import canonical_copy
from toolkit.schema.model import Model


def export(g: Graph, model: Model) -> bytes:
    return canonical_copy(g).serialize(format="turtle", encoding="utf-8")
