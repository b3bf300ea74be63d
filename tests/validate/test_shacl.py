import pytest
from conftest import REPO, Project
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS, XSD

from toolkit.config import Settings
from toolkit.report import Severity
from toolkit.validate import Outcome, validate_sources
from toolkit.validate.shacl import load_schema_graph, shacl_results

PT = Namespace("https://w3id.org/policy-toolkit/ontology#")
ID = Namespace("https://w3id.org/policy-toolkit/id/")


@pytest.fixture(scope="module")
def schema_graphs(repo_settings: Settings) -> tuple[Graph, Graph]:
    return (
        load_schema_graph(repo_settings.schema_dir / "shapes.ttl"),
        load_schema_graph(repo_settings.schema_dir / "ontology.ttl"),
    )


def copy_of(outcome: Outcome) -> Graph:
    g = Graph()
    assert outcome.graph is not None
    for t in outcome.graph:
        g.add(t)
    return g


def test_the_real_article_conforms(real_outcome: Outcome) -> None:
    assert real_outcome.report.conforms, real_outcome.report.to_text()
    # as build runs them (issue 17 added `inferences`)
    assert real_outcome.report.validators_run == ["facts-schema", "facts", "evidence", "shacl", "inferences"]


def test_validation_does_not_change_its_input(real_outcome: Outcome, schema_graphs: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    before = Graph()
    for t in g:
        before.add(t)
    shacl_results(g, *schema_graphs)
    assert len(g) == len(before) and isomorphic(g, before)


def violations(g: Graph, schema_graphs: tuple[Graph, Graph]) -> list:
    results, raw = shacl_results(g, *schema_graphs)
    assert len(raw) > 0
    return [r for r in results if r.severity is Severity.VIOLATION]


def test_missing_english_label(real_outcome: Outcome, schema_graphs: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    g.remove((ID["g60-corridor"], RDFS.label, Literal("Yangtze River Delta G60 S&T Innovation Corridor", lang="en")))
    [v] = violations(g, schema_graphs)
    assert v.focus_node == str(ID["g60-corridor"])
    assert v.focus_label == "长三角G60科创走廊"
    assert v.path == "rdfs:label"
    assert v.message == "needs a value in language 'en'"
    assert v.constraint == "sh:QualifiedMinCountConstraintComponent"


def test_period_ending_before_it_starts(real_outcome: Outcome, schema_graphs: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    plan = ID["yrd-innovation-community-action-plan"]
    g.set((plan, PT.validUntil, Literal("2021", datatype=XSD.gYear)))
    [v] = violations(g, schema_graphs)
    assert v.constraint == "sh:SPARQLConstraintComponent"
    assert v.path == "pt:validUntil" and v.value == "2021"
    assert v.message == "validUntil (2021) is before validFrom (2022)"


def test_wrong_date_type_and_wrong_class(real_outcome: Outcome, schema_graphs: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    g.set((ID["yrd-st-coordination-decision"], PT.entryIntoForce, Literal("2025-09-01")))
    g.add((ID["yrd-innovation-community-action-plan"], PT.issuedBy, ID["suzhou"]))
    found = {(v.path, v.constraint) for v in violations(g, schema_graphs)}
    assert found == {("pt:entryIntoForce", "sh:OrConstraintComponent"), ("pt:issuedBy", "sh:ClassConstraintComponent")}


def test_a_fact_without_evidence(real_outcome: Outcome, schema_graphs: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    g.remove((ID["jinhua"], PT.evidence, None))
    [v] = violations(g, schema_graphs)
    assert v.focus_node == str(ID["jinhua"]) and v.path == "pt:evidence"
    assert "every fact needs evidence" in v.message


def test_results_point_to_the_facts_file(real_outcome: Outcome, schema_graphs: tuple[Graph, Graph]) -> None:
    g = copy_of(real_outcome)
    g.remove((ID["jinhua"], PT.evidence, None))
    facts = REPO / "datasets/sources/cls-2025-12-yrd-innovation-centre/facts.yaml"
    line = next(i for i, t in enumerate(facts.read_text(encoding="utf-8").splitlines(), 1) if t == "  - id: jinhua")
    results, _ = shacl_results(g, *schema_graphs, locate={str(ID["jinhua"]): (str(facts), line)})
    assert (results[0].source_file, results[0].line) == (str(facts), line)
    assert URIRef(results[0].focus_node) == ID["jinhua"]


def test_a_custom_severity_counts_as_a_violation_and_is_kept() -> None:
    shapes = Graph().parse(
        data="""
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:severity ex:Severe ] .
""",
        format="turtle",
    )
    data = Graph().parse(data="<http://example.org/a> <http://example.org/q> 1 .", format="turtle")
    [r] = shacl_results(data, shapes, Graph())[0]
    assert r.severity is Severity.VIOLATION and r.severity_iri == "http://example.org/Severe"


def test_a_shapes_file_edited_between_two_validations_in_one_process_is_read_again(project: Project) -> None:
    """The schema graphs are kept per process (``schema_graph``) only while their file is unchanged."""
    first = validate_sources(project.settings)
    assert first.report.conforms, first.report.to_text()
    shapes = project.root / "schema" / "shapes.ttl"
    shapes.write_text(
        shapes.read_text(encoding="utf-8")
        + "\nptsh:NoLabel a sh:NodeShape ; sh:targetClass pt:ActionPlan ;\n"
        + "    sh:property [ sh:path rdfs:label ; sh:maxCount 0 ] .\n",
        encoding="utf-8",
    )
    second = validate_sources(project.settings)
    assert not second.report.conforms
    found = [r.constraint for r in second.report.results if r.validator == "shacl"]
    assert found == ["sh:MaxCountConstraintComponent"], second.report.to_text()
