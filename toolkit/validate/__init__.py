"""Stage 3: validate sources and graphs with every registered validator, into one report."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from toolkit.config import Settings
from toolkit.graph import build_graph
from toolkit.report import ValidationReport, ValidationResult
from toolkit.schema.model import Model, load_model
from toolkit.sources.loader import Corpus, load_corpus
from toolkit.validate.base import ValidationContext, Validator
from toolkit.validate.dcatap import DcatApValidator
from toolkit.validate.facts import EvidenceValidator, FactsReferenceValidator, FactsSchemaValidator
from toolkit.validate.inferences import NAME, InferenceValidator
from toolkit.validate.outputs import OutputSchemaValidator
from toolkit.validate.rdfinput import read_rdf_input
from toolkit.validate.shacl import ShaclValidator
from toolkit.validate.shacl.engine import exact_literals

#: Every check of the sources and their release, in order: the one list that `validate` runs,
#: that `build` runs, and so that the release manifest (`info`) and `validate` both name.
#: Whether the schema files match model.yaml is a check of the project, not of the data:
#: `policy-toolkit schema` does it (and CI runs it).
VALIDATORS: list[Validator] = [
    FactsSchemaValidator(),
    FactsReferenceValidator(),
    EvidenceValidator(),
    ShaclValidator(),
    InferenceValidator(),
    OutputSchemaValidator(),
    DcatApValidator(),
]

#: Checks of the release files: `validate` runs them on the release on disk; `build` on the
#: files it is about to write (in toolkit.publish.assemble, after the export), so it
#: skips them in its run over the sources.
RELEASE_CHECKS = frozenset({"output-schema", "dcat-ap"})


@dataclass
class Outcome:
    report: ValidationReport
    model: Model
    corpus: Corpus | None
    graph: Graph | None


def run_validators(ctx: ValidationContext, validators: list[Validator] | None = None) -> ValidationReport:
    report = ValidationReport()
    for v in validators or VALIDATORS:
        v.validate(ctx, report)
        report.validators_run.append(v.name)
    return report


def validate_sources(
    settings: Settings,
    validators: list[Validator] | None = None,
    *,
    engine: str | None = None,
    partial: bool = False,
    inferences: bool = False,
) -> Outcome:
    """Load every source, build the graph if the facts are sound, and validate it all
    (SHACL with ``engine``, default the fast one).

    With ``partial`` (the `validate` command), facts with load problems do not stop SHACL: the
    entries that loaded are rendered and checked too, so that one run lists every problem it can
    find (issue 13). The outcome then has no graph (nothing is published from a partial one),
    and a SHACL ``sh:class`` result whose value is a node the graph does not describe (an entry
    not loaded, an unknown id) is left out: it restates a load problem already reported.

    With ``inferences`` (the `validate` command) every inferred or attributed value is listed
    too, as an Info result of the `inferences` validator (issue 17)."""
    if engine is not None:
        validators = [ShaclValidator(engine) if v.name == "shacl" else v for v in validators or VALIDATORS]
    if inferences:
        validators = [InferenceValidator(list_marks=True) if v.name == NAME else v for v in validators or VALIDATORS]
    model = load_model(settings.schema_dir)
    corpus, problems = load_corpus(settings, model)
    graph = build_graph(corpus, model, settings.base_iri) if not problems else None
    ctx = ValidationContext(settings=settings, model=model, corpus=corpus, load_results=problems, graph=graph)
    report = run_validators(ctx, validators)
    if problems and partial:
        report.extend(_partial_shacl(ctx, validators or VALIDATORS))
    return Outcome(report, model, corpus, graph)


def _partial_shacl(ctx: ValidationContext, validators: list[Validator]) -> list[ValidationResult]:
    """The SHACL problems of the entries that loaded (:func:`validate_sources` ``partial``)."""
    shacl = [v for v in validators if v.name == "shacl"]
    if not shacl or ctx.corpus is None:
        return []
    graph = build_graph(ctx.corpus, ctx.model, ctx.settings.base_iri)
    undescribed = {str(o) for o in graph.objects() if isinstance(o, URIRef) and (o, RDF.type, None) not in graph}
    found = ValidationReport()
    shacl[0].validate(replace(ctx, graph=graph), found)
    return [
        r for r in found.results if not (r.constraint == "sh:ClassConstraintComponent" and str(r.value) in undescribed)
    ]


def validate_rdf(
    settings: Settings,
    path: Path,
    *,
    shapes: Path | None = None,
    ontology: Path | None = None,
    engine: str | None = None,
) -> Outcome:
    """Validate an RDF file someone hands us (any format we read) against the project's shapes
    (and, for a catalog, DCAT-AP's), or against ``shapes`` (with ``ontology`` mixed into the
    data): the toolkit as a general SHACL validator. Literals are read as written, so an
    ill-formed ``"yes"^^xsd:boolean`` is reported as such."""
    model = load_model(settings.schema_dir)
    with exact_literals():
        loaded = read_rdf_input(path, settings)
    ctx = ValidationContext(settings=settings, model=model, graph=loaded.graph)
    validators: list[Validator] = [ShaclValidator(engine, shapes, ontology)]
    if shapes is None:
        validators.append(DcatApValidator())
    report = run_validators(ctx, validators)
    report.extend(loaded.results)  # invalid IRIs (violations), an empty file (a warning)
    return Outcome(report, model, None, loaded.graph)


__all__ = ["RELEASE_CHECKS", "VALIDATORS", "Outcome", "run_validators", "validate_rdf", "validate_sources"]
