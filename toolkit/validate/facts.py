"""Facts-file validators: the JSON Schema, the references, dates and evidence quotes.

The loader finds these problems while reading (it must, to know file and line); these
plugins hand them to the common report under their own names.
"""

from __future__ import annotations

from toolkit.report import ValidationReport
from toolkit.validate.base import ValidationContext


class _LoadResults:
    name = ""
    kinds: tuple[str, ...] = ()

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        report.extend([r for r in ctx.load_results if r.validator in self.kinds])


class FactsSchemaValidator(_LoadResults):
    """JSON Schema (schema/facts.schema.json) of every facts.yaml."""

    name = "facts-schema"
    kinds = ("facts-schema",)


class FactsReferenceValidator(_LoadResults):
    """Identifiers, references, dates and which keys apply to which classes."""

    name = "facts"
    kinds = ("facts",)


class EvidenceValidator(_LoadResults):
    """Every evidence quote occurs verbatim (after whitespace normalisation) in its source body."""

    name = "evidence"
    kinds = ("evidence",)
