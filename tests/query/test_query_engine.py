"""The embedded engine: loading the release, the four query forms, typed parameters, errors, formats."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from toolkit.config import Settings
from toolkit.errors import LoadError, UsageError
from toolkit.graph.iris import named_graph as graph_iri
from toolkit.query import OutputFormat, Param, load_store, release_prefixes, run_query, serialize, table
from toolkit.query.formats import display_width
from toolkit.query.sparqltext import variables, with_values

PT = "https://w3id.org/policy-toolkit/ontology#"
INTEGER_DERIVED = {XSD.nonNegativeInteger, XSD.positiveInteger, XSD.int, XSD.long, XSD.short, XSD.byte}
HOSTILE = '"} ; DROP ALL ; INSERT DATA { <http://x/a> <http://x/b> "c" } #'


@pytest.fixture(scope="module")
def release_dir(real_release_dir: Path) -> Path:
    return real_release_dir


@pytest.fixture(scope="module")
def store(repo_settings: Settings, release_dir: Path) -> ox.Store:
    return load_store(repo_settings, release_dir)


def q(store: ox.Store, settings: Settings, text: str, params: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return run_query(store, text, params or {}, base_iri=settings.base_iri, **kw)  # type: ignore[arg-type]


def as_rdflib(triples: list[ox.Triple]) -> Graph:
    return Graph().parse(data="\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples), format="nt")


def as_oxigraph_stores(g: Graph) -> Graph:
    """``g`` with integer-derived datatypes as xsd:integer: Oxigraph's store keeps only the value.

    (A documented property of Oxigraph's storage: "24"^^xsd:nonNegativeInteger is stored as
    "24"^^xsd:integer; the value, and so every comparison in a query, is the same.) Decimals
    likewise come back in their shortest form: "24.0"^^xsd:decimal as "24".
    """
    out = Graph()
    for s, p, o in g:
        if isinstance(o, Literal) and o.datatype in INTEGER_DERIVED:
            o = Literal(str(o), datatype=XSD.integer)
        elif isinstance(o, Literal) and o.datatype == XSD.decimal:
            o = Literal(format(Decimal(str(o)).normalize(), "f"), datatype=XSD.decimal, normalize=False)
        out.add((s, p, o))
    return out


# ---------------------------------------------------------------- loading


def test_the_store_holds_the_release_and_the_ontology(
    store: ox.Store, repo_settings: Settings, release_dir: Path
) -> None:
    data = [
        q.triple
        for q in store.quads_for_pattern(None, None, None)
        if q.graph_name.value != graph_iri(repo_settings.base_iri, "ontology")
    ]
    assert isomorphic(as_rdflib(data), as_oxigraph_stores(Graph().parse(release_dir / "policy.nt", format="nt")))
    onto = list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri(repo_settings.base_iri, "ontology"))))
    assert isomorphic(
        as_rdflib([x.triple for x in onto]),
        as_oxigraph_stores(Graph().parse(repo_settings.schema_dir / "ontology.ttl")),
    )


def test_a_release_without_nquads_loads_from_ntriples_and_the_schema(
    repo_settings: Settings, release_dir: Path, tmp_path: Path, store: ox.Store
) -> None:
    old = tmp_path / "old-release"
    old.mkdir()
    shutil.copy(release_dir / "policy.nt", old / "policy.nt")
    shutil.copy(release_dir / "manifest.json", old / "manifest.json")
    fallback = load_store(repo_settings, old)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert q(fallback, repo_settings, count).rows == q(store, repo_settings, count).rows


def test_no_release_is_a_load_error(repo_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no release here yet"):
        load_store(repo_settings, tmp_path)
    (tmp_path / "policy.nq").write_text("<a> <b> broken", encoding="utf-8")
    with pytest.raises(LoadError, match="not valid RDF"):
        load_store(repo_settings, tmp_path)


# ---------------------------------------------------------------- the query forms


def test_select_ask_construct_describe(store: ox.Store, repo_settings: Settings) -> None:
    s = repo_settings
    sel = q(store, s, f"SELECT ?c WHERE {{ ?c a <{PT}InnovationCentre> }} ORDER BY ?c")
    assert sel.kind == "select" and sel.variables == ["c"]
    assert [r["c"] for r in sel.records()] == sorted(
        s.base_iri + x for x in ["beijing-jjj-centre", "gba-centre", "shanghai-yrd-centre"]
    )
    # the ontology is loaded: class labels come from it
    ask = q(
        store, s, f'ASK {{ <{PT}InnovationCentre> <http://www.w3.org/2000/01/rdf-schema#label> "国际科技创新中心"@zh }}'
    )
    assert ask.kind == "ask" and ask.boolean is True
    con = q(store, s, f"CONSTRUCT {{ ?c <{PT}servesRegion> ?r }} WHERE {{ ?c <{PT}servesRegion> ?r }}")
    assert con.kind == "graph" and len(con.triples) == 3
    desc = q(store, s, f"DESCRIBE <{s.base_iri}shanghai>")
    assert desc.kind == "graph" and all(t.subject == ox.NamedNode(s.base_iri + "shanghai") for t in desc.triples)


def test_graph_clause_tells_the_source(store: ox.Store, repo_settings: Settings) -> None:
    s = repo_settings
    res = q(store, s, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{s.base_iri}g60-corridor> ?p ?o }} }}")
    assert [r["g"] for r in res.records()] == [graph_iri(s.base_iri, "cls-2025-12-yrd-innovation-centre")]


# ---------------------------------------------------------------- parameters


def test_a_hostile_value_is_one_literal(store: ox.Store, repo_settings: Settings) -> None:
    s = repo_settings
    before = len(store)
    res = q(store, s, "SELECT ?v (DATATYPE(?v) AS ?t) WHERE { }", {"v": HOSTILE})
    assert res.records() == [{"v": HOSTILE, "t": "http://www.w3.org/2001/XMLSchema#string"}]
    # in a saved query's filter it matches nothing and changes nothing
    text = (Path(s.root) / "queries" / "facts-with-evidence.rq").read_text(encoding="utf-8")
    declared = [Param("contains", "xsd:string"), Param("source", "entity")]
    assert q(store, s, text, {"contains": HOSTILE}, declared=declared).rows == []
    assert len(store) == before
    assert not q(store, s, "ASK { <http://x/a> ?p ?o }").boolean


def test_values_are_typed_terms(store: ox.Store, repo_settings: Settings) -> None:
    s = repo_settings
    declared = [
        Param("d", "xsd:date", required=True),
        Param("y", "xsd:gYear", default="2025"),
        Param("e", "entity", default="shanghai"),
        Param("n", "xsd:integer", default="24"),
        Param("b", "xsd:boolean", default="true"),
    ]
    res = q(store, s, "SELECT ?d ?y ?e ?n ?b WHERE { }", {"d": "2025-12-31"}, declared=declared)
    (row,) = res.rows
    assert row[0] == ox.Literal("2025-12-31", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    assert row[1] == ox.Literal("2025", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))
    assert row[2] == ox.NamedNode(s.base_iri + "shanghai")
    assert row[3] == ox.Literal("24", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert row[4] == ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))


@pytest.mark.parametrize(
    ("params", "declared", "message"),
    [
        ({}, [Param("d", "xsd:date", required=True)], "missing --param d"),
        ({"d": "2025-13-01"}, [Param("d", "xsd:date", required=True)], "is not a date"),
        ({"d": "31/12/2025"}, [Param("d", "xsd:date", required=True)], "is not a date"),
        ({"y": "25"}, [Param("y", "xsd:gYear")], "is not a year"),
        ({"x": "1"}, [Param("d", "xsd:date")], "unknown parameter 'x'; this query takes: d"),
        ({"e": "no-such-thing"}, [Param("e", "entity")], "nothing in the release is called 'no-such-thing'"),
        ({"e": "shanghia"}, [Param("e", "entity")], "did you mean shanghai"),
        ({"e": 'a"b c'}, [Param("e", "entity")], "is not an id of the release"),
        ({"zz": "1"}, None, "the query has no variable ?zz"),
        ({"1x": "1"}, None, "not a SPARQL variable name"),
    ],
)
def test_bad_parameters_are_usage_errors(
    store: ox.Store, repo_settings: Settings, params: dict[str, str], declared: list[Param] | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("?", r"\?")) as info:
        q(store, repo_settings, "SELECT ?d ?y ?e ?x WHERE { }", params, declared=declared)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT * { VALUES (?x) { (1) }  ?s ?p ?o }"),
        (
            "# a {comment}\nSELECT ?x WHERE {\n ?x ?p '{' }",
            "# a {comment}\nSELECT ?x WHERE { VALUES (?x) { (1) } \n ?x ?p '{' }",
        ),
        (
            'PREFIX a: <http://e/#>\nCONSTRUCT { ?x a:p "{" } WHERE { ?x ?p ?o }',
            'PREFIX a: <http://e/#>\nCONSTRUCT { ?x a:p "{" } WHERE { VALUES (?x) { (1) }  ?x ?p ?o }',
        ),
        ("DESCRIBE ?x", "DESCRIBE ?x WHERE { VALUES (?x) { (1) } }\n"),
        ("DESCRIBE ?x LIMIT 1", "DESCRIBE ?x WHERE { VALUES (?x) { (1) } } LIMIT 1"),
        ('ASK { FILTER(?x = "}") }', 'ASK { VALUES (?x) { (1) }  FILTER(?x = "}") }'),
    ],
)
def test_the_values_block_opens_the_where_pattern(text: str, expected: str) -> None:
    assert with_values(text, "VALUES (?x) { (1) }") == expected
    ox.Store().query(expected)  # still valid SPARQL


def test_the_short_construct_form_cannot_take_parameters() -> None:
    with pytest.raises(UsageError, match="short form CONSTRUCT WHERE"):
        with_values("CONSTRUCT WHERE { ?s ?p ?o }", "VALUES (?s) { (1) }")


def test_variables_ignore_strings_iris_and_comments() -> None:
    assert variables('SELECT ?a WHERE { ?a <http://e/?b> "?c" . # ?d\n $e ?p ?o }') == {"a", "e", "p", "o"}


# ---------------------------------------------------------------- errors


def test_a_syntax_error_gives_line_and_column(store: ox.Store, repo_settings: Settings) -> None:
    text = "SELECT ?x WHERE {\n  ?x ?y ?z .\n  ?x undefined:p ?c .\n}\n"
    with pytest.raises(UsageError) as info:
        q(store, repo_settings, text, source="my.rq")
    msg = str(info.value)
    assert info.value.exit_code == 2
    assert "my.rq:3:" in msg and "line 3, column 17" in msg and "Prefix not found" in msg
    assert "  ?x undefined:p ?c .\n" + " " * 18 + "^" in msg


@pytest.mark.parametrize(
    "update",
    [
        "DELETE WHERE { ?s ?p ?o }",
        "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
        "prefix x: <http://x/>\n# a comment\nclear all",
        "LOAD <http://127.0.0.1:9/data.ttl>",
        "WITH <http://x/g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    ],
)
def test_updates_are_not_run(store: ox.Store, repo_settings: Settings, update: str) -> None:
    before = len(store)
    with pytest.raises(UsageError, match="update requests are not run") as info:
        q(store, repo_settings, update, source="u.rq")
    assert info.value.exit_code == 2 and "expected CONSTRUCT" not in str(info.value)
    assert len(store) == before


# ---------------------------------------------------------------- formats


def test_the_table_aligns_chinese_text(store: ox.Store, repo_settings: Settings, release_dir: Path) -> None:
    s = repo_settings
    res = q(
        store,
        s,
        f"SELECT ?c ?zh ?en WHERE {{ ?c a <{PT}City> ; <http://www.w3.org/2000/01/rdf-schema#label> ?zh, ?en "
        'FILTER(LANG(?zh) = "zh" && LANG(?en) = "en") } ORDER BY ?c',
    )
    text = table(res, release_prefixes(s, release_dir))
    lines = text.splitlines()
    assert lines[-1] == f"({len(res.rows)} rows)"
    body = lines[2:-1]
    assert any("上海" in line for line in body)
    # the English column starts at the same terminal column on every line, whatever the zh width
    starts = set()
    for line, row in zip(body, res.records(), strict=True):
        before = line[: line.index(str(row["en"]))]
        starts.add(display_width(before))
    assert len(starts) == 1
    assert body[0].startswith("id:")  # IRIs are shown with the release's prefixes


def test_long_cells_are_cut_to_the_width(store: ox.Store, repo_settings: Settings) -> None:
    res = q(store, repo_settings, 'SELECT ?t WHERE { VALUES ?t { "一二三四五六七八九十" } }')
    assert "一二三四…" in table(res, {}, max_width=10)
    assert "一二三四五六七八九十" in table(res, {}, max_width=0)


def test_result_formats_round_trip(store: ox.Store, repo_settings: Settings) -> None:
    s = repo_settings
    text = f"SELECT ?c ?l WHERE {{ ?c a <{PT}City> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }} ORDER BY ?c ?l"
    res = q(store, s, text)
    data = serialize(res, OutputFormat.csv, {})
    assert list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:] == [[r["c"], r["l"]] for r in res.records()]
    doc = json.loads(serialize(res, OutputFormat.json, {}))
    assert doc["head"]["vars"] == ["c", "l"] and len(doc["results"]["bindings"]) == len(res.rows)
    for fmt in (OutputFormat.tsv, OutputFormat.xml):
        back = ox.parse_query_results(serialize(res, fmt, {}), format=ox.QueryResultsFormat.from_extension(fmt.value))
        assert [[sol[v] for v in ("c", "l")] for sol in back] == res.rows
    with pytest.raises(UsageError, match="--format turtle is for CONSTRUCT"):
        serialize(res, OutputFormat.turtle, {})


def test_graph_results_as_turtle(store: ox.Store, repo_settings: Settings, release_dir: Path) -> None:
    s = repo_settings
    res = q(store, s, f"DESCRIBE <{s.base_iri}g60-corridor>")
    ttl = serialize(res, OutputFormat.turtle, release_prefixes(s, release_dir))
    assert b"@prefix id:" in ttl
    assert isomorphic(Graph().parse(data=ttl, format="turtle"), as_rdflib(res.triples))
    assert b"pt:linksCity" in ttl
    nt = serialize(res, OutputFormat.ntriples, {})
    assert isomorphic(Graph().parse(data=nt, format="nt"), as_rdflib(res.triples))
    with pytest.raises(UsageError, match="--format csv is for SELECT"):
        serialize(res, OutputFormat.csv, {})
