"""One model behind everything: the generated schema files must match schema/model.yaml.

The ontology, shapes, JSON-LD context and JSON Schemas are all generated from the model,
so they cannot disagree with each other, only with the model if someone edits an output by
hand or forgets to regenerate. This validator reports that, naming the stale files.
"""

from __future__ import annotations

from toolkit.report import ValidationReport, ValidationResult
from toolkit.schema.generate import check_all
from toolkit.validate.base import ValidationContext


class SchemaDriftValidator:
    name = "model"

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        for name in check_all(ctx.model, ctx.settings.schema_dir):
            report.extend(
                [
                    ValidationResult(
                        validator=self.name,
                        message=f"{name} is out of date with model.yaml; run `policy-toolkit schema --write`",
                        source_file=f"schema/{name}",
                    )
                ]
            )
