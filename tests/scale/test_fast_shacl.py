"""The compiled SHACL validator gives pyshacl's results (focus, path, value, component, severity,
shape, message, label) on the real article and on generated corpora with injected defects.

Where they differ, pyshacl over rdflib departs from SPARQL 1.1 and the fast path follows the
specification; each such case is named here (``KNOWN_DEPARTURES``) and the test checks that
it is the only difference.
"""

from __future__ import annotations

import random

import pytest
from conftest import REPO
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from toolkit.config import Settings, load_settings
from toolkit.export.canonical import sorted_ntriples
from toolkit.report import ValidationResult
from toolkit.scale.generate import write_corpus
from toolkit.scale.shacl import Compiler, FastValidator
from toolkit.scale.validation import store_of, validate_lines
from toolkit.validate import Outcome, validate_sources
from toolkit.validate.dcatap import dcat_ap_results
from toolkit.validate.shacl import load_schema_graph, shacl_results

PT = Namespace("https://w3id.org/policy-toolkit/ontology#")
ID = Namespace("https://w3id.org/policy-toolkit/id/")

#: rdflib's SPARQL engine compares a plain string with a number ("295" >= 392 is true); SPARQL 1.1
#: makes it a type error, so the FILTER drops the solution: pyshacl reports an extra result for
#: `pt:startOffset "295"` (plain string) in the offset-order constraint, the fast path does not.
KNOWN_DEPARTURES = {"string-vs-number comparison in ptsh:Evidence-startOffset-before-endOffset"}


@pytest.fixture(scope="module")
def schema(repo_settings: Settings) -> tuple[Graph, Graph]:
    return (
        load_schema_graph(repo_settings.schema_dir / "shapes.ttl"),
        load_schema_graph(repo_settings.schema_dir / "ontology.ttl"),
    )


def key(r: ValidationResult) -> tuple:
    fields = (r.focus_node, r.path, r.value, r.constraint, r.severity.value, r.shape, r.message, r.focus_label)
    return tuple("" if f is None else f for f in fields)


def both(g: Graph, schema: tuple[Graph, Graph]) -> tuple[list[tuple], list[tuple]]:
    shapes, ontology = schema
    naive, _ = shacl_results(g, shapes, ontology)
    data = ("\n".join(sorted_ntriples(g)) + "\n").encode("utf-8")
    fast, _raw = validate_lines(data, shapes, ontology, g)
    return sorted(map(key, naive)), sorted(map(key, fast))


def departure(k: tuple) -> str | None:
    """Name the known departure a pyshacl-only result belongs to (None: a real difference)."""
    if k[3] == "sh:SPARQLConstraintComponent" and k[5] == "ptsh:EvidenceShape":
        return "string-vs-number comparison in ptsh:Evidence-startOffset-before-endOffset"
    return None


def copy_of(outcome: Outcome) -> Graph:
    g = Graph()
    assert outcome.graph is not None
    for prefix, ns in outcome.graph.namespaces():
        g.bind(prefix, ns, override=True, replace=True)
    for t in outcome.graph:
        g.add(t)
    return g


def test_real_article_conforms_in_both(real_outcome: Outcome, schema: tuple[Graph, Graph]) -> None:
    naive, fast = both(copy_of(real_outcome), schema)
    assert naive == fast == []


def test_real_article_with_defects(real_outcome: Outcome, schema: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    g.remove((ID["g60-corridor"], RDFS.label, Literal("Yangtze River Delta G60 S&T Innovation Corridor", lang="en")))
    g.set((ID["yrd-innovation-community-action-plan"], PT.validUntil, Literal("2021", datatype=XSD.gYear)))
    g.set((ID["yrd-st-coordination-decision"], PT.entryIntoForce, Literal("2025-09-01")))  # wrong date type
    g.add((ID["yrd-innovation-community-action-plan"], PT.issuedBy, ID["suzhou"]))  # wrong class
    g.add((ID["yrd-innovation-community-action-plan"], PT.appliesTo, ID["nowhere"]))  # dangling
    g.remove((ID["jinhua"], PT.evidence, None))
    g.add((ID["jinhua"], RDFS.label, Literal("金华市", lang="zh")))  # uniqueLang
    g.add((ID["jinhua"], RDFS.label, Literal("Jinhua", lang="fr")))  # languageIn
    g.add((ID["cewc-2025"], PT.endDate, Literal("2025-12-30", datatype=XSD.date)))  # maxCount
    g.set((ID["yrd-innovation-consortia"], PT.memberCount, Literal("24", datatype=XSD.integer)))  # see below
    g.add((ID["yrd-innovation-consortia"], PT.field, Literal("AI")))  # nodeKind
    g.set((URIRef(ID + "evidence/jinhua-1"), PT.startOffset, Literal("295")))  # the comparison trap
    naive, fast = both(g, schema)
    assert set(fast) <= set(naive)
    extra = [k for k in naive if k not in fast]
    assert {departure(k) for k in extra} == KNOWN_DEPARTURES
    components = {k[3] for k in fast}
    assert {
        "sh:QualifiedMinCountConstraintComponent",
        "sh:SPARQLConstraintComponent",
        "sh:OrConstraintComponent",
        "sh:ClassConstraintComponent",
        "sh:MinCountConstraintComponent",
        "sh:MaxCountConstraintComponent",
        "sh:UniqueLangConstraintComponent",
        "sh:LanguageInConstraintComponent",
        "sh:DatatypeConstraintComponent",
        "sh:NodeKindConstraintComponent",
    } <= components
    # "24"^^xsd:integer where xsd:nonNegativeInteger is required: a pyoxigraph store keeps both
    # as the integer 24, so the fast path checks numeric datatypes on the original lines
    assert any(k[1] == "pt:memberCount" and k[3] == "sh:DatatypeConstraintComponent" for k in fast)


def test_generated_corpus_with_random_defects(schema: tuple[Graph, Graph], tmp_path) -> None:
    corpus = write_corpus(tmp_path / "c", seed=9, sources=25).out
    outcome = validate_sources(load_settings(REPO).with_overrides(sources_dir=corpus))
    g = copy_of(outcome)
    rng = random.Random(9)
    triples = sorted(g, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    for s, p, o in rng.sample(triples, 60):
        choice = rng.randrange(6)
        if choice == 0:
            g.remove((s, p, o))  # a missing value (label, evidence, link...)
        elif choice == 1 and isinstance(o, Literal):
            g.set((s, p, Literal(str(o))))  # the datatype or language lost
        elif choice == 2:
            g.add((s, p, URIRef(str(ID) + "dangling-" + str(rng.randrange(99)))))
        elif choice == 3 and isinstance(o, Literal) and o.language:
            g.add((s, p, Literal(str(o) + " bis", lang=o.language)))
        elif choice == 4:
            g.add((s, p, Literal("9999", datatype=XSD.gYear)))
        else:
            g.remove((s, RDF.type, None))
    naive, fast = both(g, schema)
    assert set(fast) <= set(naive)
    assert all(departure(k) for k in naive if k not in fast)
    assert len(fast) > 30


def test_an_unsupported_shape_falls_back_to_pyshacl(real_outcome: Outcome, schema: tuple[Graph, Graph]) -> None:
    shapes, ontology = schema
    more = Graph()
    for t in shapes:
        more.add(t)
    for prefix, ns in shapes.namespaces():
        more.bind(prefix, ns)
    s, p = URIRef("urn:x:PatternShape"), URIRef("urn:x:PatternShape-label")
    more.add((s, RDF.type, SH.NodeShape))
    more.add((s, SH.targetClass, PT.City))
    more.add((s, SH.property, p))
    more.add((p, SH.path, RDFS.label))
    more.add((p, SH.pattern, Literal("^[A-Z]")))
    compiler = Compiler(more, {}).compile()
    assert compiler.fallback == [s]
    naive, fast = both(copy_of(real_outcome), (more, ontology))
    assert naive == fast and any(k[3] == "sh:PatternConstraintComponent" for k in fast)


def test_dcat_ap_check_of_the_catalog(real_release, repo_settings: Settings) -> None:
    from toolkit.scale.assemble import dcat_ap

    catalog = Graph().parse(data=real_release.files["catalog.ttl"], format="turtle")
    distribution = next(catalog.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Distribution")))
    catalog.remove((distribution, URIRef("http://www.w3.org/ns/dcat#accessURL"), None))
    catalog.add((distribution, URIRef("http://www.w3.org/ns/dcat#byteSize"), Literal("-3", datatype=XSD.decimal)))
    ttl = catalog.serialize(format="turtle", encoding="utf-8")
    as_built = Graph().parse(data=ttl, format="turtle")  # as `build` reads the catalog it made
    naive = sorted(map(key, dcat_ap_results(as_built, repo_settings, "catalog.ttl")))
    fast = sorted(map(key, dcat_ap({"catalog.ttl": ttl}, repo_settings)))
    assert naive == fast and len(fast) >= 2


def test_store_loses_numeric_datatypes_so_they_are_checked_on_lines() -> None:
    """The pyoxigraph trap the LOSSY path is for, shown on the store itself."""
    store = store_of(b'<urn:a> <urn:p> "0920"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .\n')
    (quad,) = list(store)
    assert quad.object.datatype.value == str(XSD.integer) and quad.object.value == "920"
    shapes = Graph()
    shape, prop = URIRef("urn:s"), URIRef("urn:s-p")
    shapes.add((shape, SH.targetSubjectsOf, URIRef("urn:p")))
    shapes.add((shape, SH.property, prop))
    shapes.add((prop, SH.path, URIRef("urn:p")))
    shapes.add((prop, SH.datatype, XSD.integer))
    line = '<urn:a> <urn:p> "0920"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .'
    raw, _fallback = FastValidator(shapes, lines=[line]).run(store)
    # the store would pass it (it reads back as xsd:integer); the original line is not xsd:integer
    assert [(r.component, str(r.value.datatype)) for r in raw] == [
        ("DatatypeConstraintComponent", str(XSD.nonNegativeInteger))
    ]
