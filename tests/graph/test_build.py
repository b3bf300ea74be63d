from collections import Counter

import yaml
from conftest import REPO, Project
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from toolkit.config import Settings
from toolkit.graph import build_graph
from toolkit.schema.model import load_model
from toolkit.sources.loader import load_corpus
from toolkit.validate import Outcome

PT = Namespace("https://w3id.org/policy-toolkit/ontology#")
FACTS = REPO / "datasets" / "sources" / "cls-2025-12-yrd-innovation-centre" / "facts.yaml"


def test_no_blank_nodes_and_all_iris_under_the_base(real_outcome: Outcome, repo_settings: Settings) -> None:
    g = real_outcome.graph
    assert g is not None
    for s, _p, o in g:
        assert not isinstance(s, BNode) and not isinstance(o, BNode)
        assert str(s).startswith(repo_settings.base_iri)


def test_counts_by_class_follow_the_facts_file(real_outcome: Outcome) -> None:
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    expected: Counter[str] = Counter()
    quotes = 0
    for ent in facts["entities"]:
        for t in ent["type"] if isinstance(ent["type"], list) else [ent["type"]]:
            expected[t] += 1
        # an attributed value is the article's claim (issue 17), with its entry's quotes
        quotes += len(ent["evidence"]) * (1 + len(ent.get("attributed", {})))
    g = real_outcome.graph
    assert g is not None
    for cls, n in expected.items():
        assert len(set(g.subjects(RDF.type, PT[cls]))) == n, cls
    assert len(set(g.subjects(RDF.type, PT.Evidence))) == quotes
    assert len(set(g.subjects(RDF.type, PT.SourceArticle))) == 1


def test_inferred_dates_keep_the_stated_text(real_outcome: Outcome, repo_settings: Settings) -> None:
    g = real_outcome.graph
    assert g is not None
    base = repo_settings.base_iri
    decision = URIRef(base + "yrd-st-coordination-decision")
    res = URIRef(base + "inferred-date/yrd-st-coordination-decision-entryIntoForce")
    assert g.value(decision, PT.entryIntoForce).datatype == URIRef("http://www.w3.org/2001/XMLSchema#date")
    assert g.value(res, PT.statedText) == Literal("今年9月1日", lang="zh")
    assert g.value(res, PT.resolvedAgainst) == URIRef(base + "source/cls-2025-12-yrd-innovation-centre")
    assert str(g.value(res, PT.resolvedValue)) == "2025-09-01"


def test_base_iri_is_configurable(project: Project) -> None:
    settings = project.settings.with_overrides(base_iri="https://data.example.org/policy/")
    model = load_model(settings.schema_dir)
    corpus, problems = load_corpus(settings, model)
    assert problems == []
    g = build_graph(corpus, model, settings.base_iri)
    assert (URIRef("https://data.example.org/policy/g60-corridor"), RDF.type, PT.Corridor) in g
    assert not any(str(s).startswith("https://w3id.org/policy-toolkit/id/") for s in g.subjects())
