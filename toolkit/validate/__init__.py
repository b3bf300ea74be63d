"""Stage 3: validate sources and graphs with every registered validator, into one report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from toolkit.config import Settings
from toolkit.graph import build_graph
from toolkit.report import ValidationReport
from toolkit.schema.model import Model, load_model
from toolkit.sources.loader import Corpus, load_corpus
from toolkit.validate.base import ValidationContext, Validator
from toolkit.validate.dcatap import DcatApValidator
from toolkit.validate.drift import SchemaDriftValidator
from toolkit.validate.facts import EvidenceValidator, FactsReferenceValidator, FactsSchemaValidator
from toolkit.validate.rdfinput import read_rdf_file
from toolkit.validate.shacl import ShaclValidator
from toolkit.validate.shacl.engine import exact_literals

VALIDATORS: list[Validator] = [
    SchemaDriftValidator(),
    FactsSchemaValidator(),
    FactsReferenceValidator(),
    EvidenceValidator(),
    ShaclValidator(),
    DcatApValidator(),
]


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
    settings: Settings, validators: list[Validator] | None = None, *, engine: str | None = None
) -> Outcome:
    """Load every source, build the graph if the facts are sound, and validate it all
    (SHACL with ``engine``, default the fast one)."""
    if engine is not None:
        validators = [ShaclValidator(engine) if v.name == "shacl" else v for v in validators or VALIDATORS]
    model = load_model(settings.schema_dir)
    corpus, problems = load_corpus(settings, model)
    graph = build_graph(corpus, model, settings.base_iri) if not problems else None
    ctx = ValidationContext(settings=settings, model=model, corpus=corpus, load_results=problems, graph=graph)
    return Outcome(run_validators(ctx, validators), model, corpus, graph)


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
        graph = read_rdf_file(path, settings)
    ctx = ValidationContext(settings=settings, model=model, graph=graph)
    validators: list[Validator] = [ShaclValidator(engine, shapes, ontology)]
    if shapes is None:
        validators.append(DcatApValidator())
    return Outcome(run_validators(ctx, validators), model, None, graph)


__all__ = ["VALIDATORS", "Outcome", "run_validators", "validate_rdf", "validate_sources"]
