"""The validator plugin interface: every validator turns one context into typed results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rdflib import Graph

from toolkit.config import Settings
from toolkit.report import ValidationReport, ValidationResult
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus


@dataclass
class ValidationContext:
    """What validators may look at. ``graph`` is None when the facts could not be built."""

    settings: Settings
    model: Model
    corpus: Corpus | None = None
    load_results: list[ValidationResult] = field(default_factory=list)
    graph: Graph | None = None


class Validator(Protocol):
    name: str

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        """Append results (and any raw report graph) to ``report``; never change ``ctx.graph``."""


@dataclass
class UnitContext:
    """One source as the per-source build hands it to a validator: its sorted N-Triples lines
    (every triple it states, including those about entities of other sources)."""

    settings: Settings
    model: Model
    source_id: str
    facts_file: str  # the facts file, relative to the project, for messages
    lines: list[str]


class UnitValidator(Protocol):
    """A validator the build runs per source: on every unit of a full build, and on every
    changed unit of an incremental rebuild (a result there makes the rebuild a full one, which
    reports it). Add one to :data:`toolkit.validate.VALIDATORS`: ``validate_unit`` is what the
    build calls; ``validate`` (the whole-graph call of `validate`) may run the same check on
    ``ctx.graph``."""

    name: str

    def validate_unit(self, ctx: UnitContext, report: ValidationReport) -> None:
        """Append results about this source's triples to ``report``."""
