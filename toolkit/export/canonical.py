"""A copy of a graph whose triples were inserted in sorted order.

rdflib's in-memory store iterates in insertion order, so serializers that do not sort
(RDF/XML among them) give the same bytes whatever ``PYTHONHASHSEED`` is when fed this copy.
Our graphs have no blank nodes, so sorting N-Triples lines is a total, stable order.
"""

from __future__ import annotations

from rdflib import Graph


def sorted_ntriples(g: Graph) -> list[str]:
    text = g.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return sorted(line for line in text.splitlines() if line.strip())


def canonical_copy(g: Graph) -> Graph:
    # SimpleMemory keeps plain dicts (insertion-ordered); the default Memory store iterates sets.
    out = Graph(store="SimpleMemory")
    for prefix, ns in sorted(g.namespaces()):
        out.bind(prefix, ns, override=True, replace=True)
    probe = Graph()
    for line in sorted_ntriples(g):
        probe.parse(data=line, format="nt")
        for t in probe:
            out.add(t)
        probe.remove((None, None, None))
    return out
