"""Every published RDF file parses back to the built graph, with rdflib and with pyoxigraph."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph
import pytest
from oracle import to_csv
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from toolkit.config import Settings
from toolkit.export.csv import neutralise
from toolkit.publish.release import Release
from toolkit.schema.model import load_model
from toolkit.validate import Outcome
from toolkit.validate.rdfinput import jsonld_to_graph

RDFLIB_FORMATS = {"policy.ttl": "turtle", "policy.nt": "nt", "policy.rdf": "xml"}
OX_FORMATS = {
    "policy.ttl": pyoxigraph.RdfFormat.TURTLE,
    "policy.nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "policy.rdf": pyoxigraph.RdfFormat.RDF_XML,
    "policy.jsonld": pyoxigraph.RdfFormat.JSON_LD,
}


def oxigraph_to_rdflib(data: bytes, fmt: pyoxigraph.RdfFormat) -> Graph:
    """Parse with pyoxigraph, an independent parser, and hand the triples to rdflib as N-Triples."""
    lines = [f"{q.subject} {q.predicate} {q.object} ." for q in pyoxigraph.parse(data, format=fmt)]
    return Graph().parse(data="\n".join(lines), format="nt")


@pytest.mark.parametrize("name", sorted(RDFLIB_FORMATS))
def test_rdflib_parses_back_isomorphic(real_release: Release, real_outcome: Outcome, name: str) -> None:
    g = Graph().parse(data=real_release.files[name], format=RDFLIB_FORMATS[name])
    assert isomorphic(g, real_outcome.graph)


def test_jsonld_expands_back_isomorphic(real_release: Release, real_outcome: Outcome, repo_settings: Settings) -> None:
    doc = json.loads(real_release.files["policy.jsonld"])
    assert isomorphic(jsonld_to_graph(doc, repo_settings), real_outcome.graph)


@pytest.mark.parametrize("name", sorted(OX_FORMATS))
def test_independent_parser_agrees(real_release: Release, real_outcome: Outcome, name: str) -> None:
    g = oxigraph_to_rdflib(real_release.files[name], OX_FORMATS[name])
    assert len(g) == len(real_outcome.graph)
    assert isomorphic(g, real_outcome.graph)


def test_ntriples_are_sorted_and_unique(real_release: Release) -> None:
    lines = real_release.files["policy.nt"].decode("utf-8").splitlines()
    assert lines == sorted(set(lines))


def test_jsonld_uses_the_published_context(real_release: Release, repo_settings: Settings) -> None:
    doc = json.loads(real_release.files["policy.jsonld"])
    published = json.loads((repo_settings.schema_dir / "context.jsonld").read_text(encoding="utf-8"))
    assert doc["@context"] == published["@context"]
    decision = next(n for n in doc["@graph"] if n["id"].endswith("/yrd-st-coordination-decision"))
    assert decision["type"] == "RegionalLegislation"
    assert decision["label"]["zh"] == "关于促进长三角科技创新协同发展的决定"
    assert decision["entryIntoForce"] == {"@value": "2025-09-01", "type": "xsd:date"}


def test_csv_tables_have_stable_columns_and_labels(real_release: Release, repo_settings: Settings) -> None:
    model = load_model(repo_settings.schema_dir)
    for table in model.tables.values():
        data = real_release.files[f"csv/{table.name}.csv"]
        assert not data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        assert rows[0] == model.table_columns(table)
        assert rows[0][:4] == ["id", "types", "label_zh", "label_en"]
    places = list(csv.DictReader(io.StringIO(real_release.files["csv/places.csv"].decode("utf-8"))))
    g60 = next(r for r in places if r["id"].endswith("/g60-corridor"))
    assert g60["label_zh"] == "长三角G60科创走廊"
    assert len(g60["linksCity"].split("|")) == 5


def test_evidence_csv_links_quotes_back_to_facts(real_release: Release, real_outcome: Outcome) -> None:
    rows = list(csv.DictReader(io.StringIO(real_release.files["csv/evidence.csv"].decode("utf-8"))))
    g = real_outcome.graph
    assert g is not None
    pt = "https://w3id.org/policy-toolkit/ontology#"
    for row in rows:
        assert (URIRef(row["evidenceOf"]), URIRef(pt + "evidence"), URIRef(row["id"])) in g
        assert (URIRef(row["id"]), URIRef(pt + "quote"), Literal(row["quote"], lang="zh")) in g


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    out = to_csv([{"a": neutralise(cell)}], ["a"]).decode("utf-8")
    value = next(csv.DictReader(io.StringIO(out)))["a"]
    assert value == "'" + cell


def test_plain_cells_are_untouched() -> None:
    assert neutralise("上海") == "上海" and neutralise("2025-09-01") == "2025-09-01"
