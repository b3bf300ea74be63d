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
