"""Facts-file validators: the JSON Schema, the references, dates and evidence quotes.

The loader finds these problems while reading (it must, to know file and line); these
plugins hand them to the common report under their own names.
"""

from __future__ import annotations

from toolkit.report import ValidationReport
from toolkit.validate.base import ValidationContext


class LoadResultsValidator:
    """Hands the loader's problems of its kinds to the report (the loader and the per-source
    units find them while reading; every path gives them in ``ctx.load_results``)."""

    name = ""
    kinds: tuple[str, ...] = ()

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        report.extend([r for r in ctx.load_results if r.validator in self.kinds])


class FactsSchemaValidator(LoadResultsValidator):
    """JSON Schema (schema/facts.schema.json) of every facts.yaml."""

    name = "facts-schema"
    kinds = ("facts-schema",)


class FactsReferenceValidator(LoadResultsValidator):
    """Identifiers, references, dates and which keys apply to which classes."""

    name = "facts"
    kinds = ("facts",)


class EvidenceValidator(LoadResultsValidator):
    """Every evidence quote occurs verbatim (after whitespace normalisation) in its source body."""

    name = "evidence"
    kinds = ("evidence",)
