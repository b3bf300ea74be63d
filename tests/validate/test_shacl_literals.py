"""Ill-formed XSD literals are marked before any engine runs (toolkit/validate/shacl/literals.py)."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef

from toolkit.validate.shacl.literals import STANDIN, XSD, mark_graph, mark_ntriples, unmark, well_formed


@pytest.mark.parametrize(
    ("lexical", "local", "ok"),
    [
        ("2025", "gYear", True),
        ("25", "gYear", False),
        ("+2025", "gYear", False),
        ("2025-12", "gYearMonth", True),
        ("2025-13", "gYearMonth", False),
        ("--02-29", "gMonthDay", True),
        ("--02-30", "gMonthDay", False),
        ("yes", "boolean", False),
        ("1", "boolean", True),
        ("0920", "nonNegativeInteger", True),
        ("-1", "nonNegativeInteger", False),
        ("1 ", "integer", False),
        ("9223372036854775808", "long", False),
        ("1.5", "integer", False),
        ("abc", "decimal", False),
        ("INF", "double", True),
        ("en-GB", "language", True),
        ("en GB", "language", False),
        ("anything", "string", True),
    ],
)
def test_lexical_spaces(lexical: str, local: str, ok: bool) -> None:
    assert well_formed(lexical, local) is ok


def test_ntriples_lines_are_marked_on_every_line_and_given_back() -> None:
    nt = (
        f'_:b <http://p> "a\\"b"^^<{XSD}gYear> .\n'
        f'<http://a> <http://p> "25"^^<{XSD}gYear> .\n'
        f'<http://a> <http://p> "2025"^^<{XSD}gYear> .\n'
        f'<http://a> <http://q> "x"@en .\n'
    ).encode()
    marked = mark_ntriples(nt).decode()
    assert marked.count(STANDIN) == 2 and f'"2025"^^<{XSD}gYear>' in marked
    clean = nt.split(b"\n", 2)[2]
    assert mark_ntriples(clean) is clean  # nothing to mark: the same bytes, not a copy
    g = Graph().parse(data=marked, format="nt")
    assert {str(o.datatype) for o in g.objects() if isinstance(o, Literal) and o.datatype} >= {STANDIN + XSD + "gYear"}
    unmark(g)
    assert not any(STANDIN in str(getattr(o, "datatype", "")) for o in g.objects())


def test_graphs_are_copied_only_when_something_is_ill_formed() -> None:
    g = Graph()
    g.add((URIRef("http://a"), URIRef("http://p"), Literal("2025", datatype=URIRef(XSD + "gYear"))))
    assert mark_graph(g) is g
    g.add((URIRef("http://a"), URIRef("http://p"), Literal("2025-13", datatype=URIRef(XSD + "gYearMonth"))))
    marked = mark_graph(g)
    assert marked is not g and len(marked) == 2
    assert Literal("2025-13", datatype=URIRef(STANDIN + XSD + "gYearMonth")) in set(marked.objects())
