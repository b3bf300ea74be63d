"""A copy of a graph whose triples were inserted in sorted order.

rdflib's in-memory store iterates in insertion order, so serializers that do not sort
(RDF/XML among them) give the same bytes whatever ``PYTHONHASHSEED`` is when fed this copy.
Our graphs have no blank nodes, so sorting N-Triples lines is a total, stable order.
"""

from __future__ import annotations

import re

from rdflib import Graph


def sorted_ntriples(g: Graph) -> list[str]:
    text = g.serialize(format="nt", encoding="utf-8").decode("utf-8")
    # rdflib escapes LF and CR in literals, but not U+2028, VT, FF...: split at LF only
    # (str.splitlines would cut a literal holding a line separator in two)
    return sorted(line for line in text.split("\n") if line.strip())


def canonical_copy(g: Graph) -> Graph:
    # SimpleMemory keeps plain dicts (insertion-ordered); the default Memory store iterates sets.
    out = Graph(store="SimpleMemory")
    for prefix, ns in sorted(g.namespaces()):
        out.bind(prefix, ns, override=True, replace=True)
    # One parse of all the sorted lines: the N-Triples parser adds triples in file order, so
    # the insertion order is the sorted order (the same as parsing line by line, in linear time).
    lines = sorted_ntriples(g)
    if lines:
        out.parse(data="\n".join(lines) + "\n", format="nt")
    return out


#: rdflib's N-Triples string escapes; any other backslash pair stays as it is
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def unescape_ntriples(text: str) -> str:
    """Undo rdflib's N-Triples string escapes in one pass (so "\\\\n" stays a backslash and an n)."""
    if "\\" not in text:
        return text
    return _ESCAPED.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)
