"""JSON-LD the whole-graph way: pyld compacts the sorted N-Quads of the graph with the published
context (inlined; no document is ever fetched), so the output is deterministic.

pyld's own N-Quads reader drops duplicate triples by comparing each new triple with every
triple read so far (quadratic: 13 k triples took 22 s, a million would take days). This
module registers a reader that gives the same dataset (same triples, same order, the first
of duplicates kept) with a set, for every ``jsonld.from_rdf`` in the process, the oracle
catalog's too. The pipeline writes JSON-LD per subject (:class:`toolkit.export.render.JsonLdWriter`);
the tests hold its bytes to these.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pyld import jsonld
from pyld.nquads import RDF_LANGSTRING, XSD_STRING, ParserError

from toolkit.export.canonical import unescape_ntriples
from toolkit.export.jsonld import context_json
from toolkit.schema.model import Model

NQUADS = "application/n-quads"

# The regular expressions of pyld.nquads.parse_nquads, unchanged.
_IRI = "(?:<([^:]+:[^>]*)>)"
_BNODE = "(_:(?:[A-Za-z0-9_][A-Za-z0-9_.-]*))"
_PLAIN = '"([^"\\\\]*(?:\\\\.[^"\\\\]*)*)"'
_DATATYPE = "(?:\\^\\^" + _IRI + ")"
_LANGUAGE = "(?:@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*))"
_LITERAL = f"(?:{_PLAIN}(?:{_DATATYPE}|{_LANGUAGE})?)"
_WS = "[ \\t]+"
_WSO = "[ \\t]*"
_EMPTY = re.compile(f"(^{_WSO}$|^#.*$)")
_QUAD = re.compile(
    rf"^{_WSO}(?:{_IRI}|{_BNODE}){_WS}{_IRI}{_WS}(?:{_IRI}|{_BNODE}|{_LITERAL}){_WSO}"
    rf"(?:\.|(?:(?:{_IRI}|{_BNODE}){_WSO}\.)){_WSO}$"
)


def parse_nquads(input_: str) -> dict[str, list[dict[str, Any]]]:
    """pyld's N-Quads reader in linear time: the same dataset, duplicates found with a set
    (and lines split at line feeds only, so a literal may hold U+2028)."""
    dataset: dict[str, list[dict[str, Any]]] = {}
    seen: dict[str, set[tuple[Any, ...]]] = {}
    # lines end at LF (and CR LF) only: N-Triples escapes those two in literals, while pyld's
    # str.splitlines would also cut a literal at U+2028, VT, FF... and then refuse the line
    for line_number, line in enumerate(input_.replace("\r\n", "\n").split("\n"), start=1):
        if _EMPTY.search(line) is not None:
            continue
        match = _QUAD.search(line)
        if match is None:
            raise ParserError(
                f"Error while parsing N-Quads invalid quad {line} at line {line_number}.", line_number=line_number
            )
        m = match.groups()
        subject = {"type": "IRI", "value": m[0]} if m[0] is not None else {"type": "blank node", "value": m[1]}
        predicate = {"type": "IRI", "value": m[2]}
        if m[3] is not None:
            obj: dict[str, Any] = {"type": "IRI", "value": m[3]}
        elif m[4] is not None:
            obj = {"type": "blank node", "value": m[4]}
        else:
            obj = {"type": "literal"}
            unescaped = unescape_ntriples(m[5])
            if m[6] is not None:
                obj["datatype"] = m[6]
            elif m[7] is not None:
                obj["datatype"] = RDF_LANGSTRING
                obj["language"] = m[7]
            else:
                obj["datatype"] = XSD_STRING
            obj["value"] = unescaped
        name = m[8] if m[8] is not None else m[9] if m[9] is not None else "@default"
        key = (
            subject["type"],
            subject["value"],
            predicate["value"],
            obj["type"],
            obj["value"],
            obj.get("language"),
            obj.get("datatype"),
        )
        keys = seen.setdefault(name, set())
        if key in keys:
            continue
        keys.add(key)
        dataset.setdefault(name, []).append({"subject": subject, "predicate": predicate, "object": obj})
    return dataset


jsonld.register_rdf_parser(NQUADS, parse_nquads)


def _no_fetch(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    raise jsonld.JsonLdError(f"refusing to fetch {url}", "loading document failed")


def compact(lines: list[str], model: Model) -> dict[str, Any]:
    """The compacted document of sorted N-Triples lines: @graph sorted by id, lists sorted."""
    nquads = "\n".join(lines) + "\n"
    expanded = jsonld.from_rdf(nquads, {"format": NQUADS, "useNativeTypes": False})
    context = json.loads(context_json(model))
    compacted = jsonld.compact(expanded, context, {"documentLoader": _no_fetch, "compactArrays": True, "graph": True})
    compacted["@graph"] = sorted(compacted.get("@graph", []), key=lambda n: n["id"])
    for node in compacted["@graph"]:
        for key, value in node.items():
            if isinstance(value, list):
                node[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return compacted
