"""Validation never changes the graph it validates (issue 5, hardening).

``toolkit.validate.run_validators`` runs with the SHACL validator (and, separately, with every
registered validator) on a copy of the real graph, on that graph with violations added (so that
result reporting and the SPARQL constraints run), and with a blank node in it (so the
comparison must be by isomorphism, not by labels). Before and after must be isomorphic, have
the same length, the same triples and the same namespace bindings.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.compare import isomorphic, to_isomorphic
from rdflib.namespace import RDF, RDFS, XSD

from toolkit.config import Settings
from toolkit.report import Severity
from toolkit.validate import VALIDATORS, Outcome, run_validators
from toolkit.validate.base import ValidationContext
from toolkit.validate.shacl import ShaclValidator

PT = Namespace("https://w3id.org/policy-toolkit/ontology#")


def copy_of(g: Graph) -> Graph:
    out = Graph()
    for prefix, ns in g.namespaces():
        out.bind(prefix, ns, override=True, replace=True)
    for t in g:
        out.add(t)
    return out


def unchanged(g: Graph) -> None:
    """Nothing to add: the real graph as built."""


def with_violations(g: Graph) -> None:
    ident = Namespace(next(str(ns) for p, ns in g.namespaces() if p == "id"))
    g.remove((ident["g60-corridor"], RDFS.label, None))
    g.set((ident["yrd-innovation-community-action-plan"], PT.validUntil, Literal("2021", datatype=XSD.gYear)))
    g.set((ident["yrd-st-coordination-decision"], PT.entryIntoForce, Literal("2025-09-01")))


def with_a_blank_node(g: Graph) -> None:
    person = BNode()
    g.add((person, RDF.type, PT.Person))
    g.add((person, RDFS.label, Literal("无名氏", lang="zh")))


@pytest.mark.parametrize("change", [unchanged, with_violations, with_a_blank_node])
@pytest.mark.parametrize("which", ["shacl", "all"])
def test_validation_does_not_change_its_input(
    real_outcome: Outcome, repo_settings: Settings, change: Callable[[Graph], None], which: str
) -> None:
    assert real_outcome.graph is not None
    g = copy_of(real_outcome.graph)
    change(g)
    before = copy_of(g)
    namespaces = sorted(g.namespaces())
    ctx = ValidationContext(
        settings=repo_settings,
        model=real_outcome.model,
        corpus=real_outcome.corpus if change is unchanged else None,
        graph=g,
    )
    validators = [ShaclValidator()] if which == "shacl" else None
    report = run_validators(ctx, validators)
    assert ctx.graph is g
    assert len(g) == len(before)
    assert isomorphic(g, before)
    assert set(to_isomorphic(g)) == set(to_isomorphic(before))
    assert sorted(g.namespaces()) == namespaces
    # and the validation did run: its report graph exists, and the broken graphs were caught
    assert "shacl" in report.validators_run and "shacl" in report.raw_graphs
    assert which == "shacl" or report.validators_run == [v.name for v in VALIDATORS]
    violations = [r for r in report.results if r.severity is Severity.VIOLATION and r.validator == "shacl"]
    assert bool(violations) == (change is not unchanged), report.to_text()
