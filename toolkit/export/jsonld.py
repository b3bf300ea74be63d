"""JSON-LD compacted with the published context (schema/context.jsonld), inlined.

pyld does the compaction from sorted N-Quads, so the output is deterministic, and no
document is ever fetched: the context is passed as an object.
"""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld
from rdflib import Graph

from toolkit.export.canonical import sorted_ntriples
from toolkit.schema.generate import context_document
from toolkit.schema.model import Model


def _no_fetch(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    raise jsonld.JsonLdError(f"refusing to fetch {url}", "loading document failed")


def to_document(g: Graph, model: Model) -> dict[str, Any]:
    nquads = "\n".join(sorted_ntriples(g)) + "\n"
    expanded = jsonld.from_rdf(nquads, {"format": "application/n-quads", "useNativeTypes": False})
    context = context_document(model)
    compacted = jsonld.compact(expanded, context, {"documentLoader": _no_fetch, "compactArrays": True, "graph": True})
    compacted["@graph"] = sorted(compacted.get("@graph", []), key=lambda n: n["id"])
    for node in compacted["@graph"]:
        for key, value in node.items():
            if isinstance(value, list):
                node[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return compacted


def export(g: Graph, model: Model) -> bytes:
    doc = to_document(g, model)
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
