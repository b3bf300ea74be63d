"""JSON Schema checks of what a release publishes: the JSON-LD document and every CSV row."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import jsonschema

from toolkit.errors import LoadError
from toolkit.report import ValidationReport, ValidationResult
from toolkit.validate.base import ValidationContext


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot read schema: {exc}", file=path) from None


def check_jsonld(doc: dict[str, Any], schema_dir: Path, file_name: str) -> list[ValidationResult]:
    validator = jsonschema.Draft202012Validator(_load(schema_dir / "jsonld.schema.json"))
    out = []
    for err in validator.iter_errors(doc):
        path = list(err.absolute_path)
        focus = None
        if len(path) >= 2 and path[0] == "@graph" and isinstance(path[1], int):
            focus = doc["@graph"][path[1]].get("id")
        out.append(
            ValidationResult(
                validator="output-schema",
                message=f"{'/'.join(map(str, path)) or '(document)'}: {err.message}",
                focus_node=focus,
                source_file=file_name,
            )
        )
    return out


def check_csv_rows(table: str, rows: list[dict[str, str]], schema_dir: Path, file_name: str) -> list[ValidationResult]:
    schema = _load(schema_dir / "csv.schema.json")
    if table not in schema["$defs"]:
        return [
            ValidationResult(
                validator="output-schema", message=f"no row schema for table {table}", source_file=file_name
            )
        ]
    row_schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{table}"}
    validator = jsonschema.Draft202012Validator(row_schema)
    out = []
    for i, row in enumerate(rows):
        for err in validator.iter_errors(row):
            out.append(
                ValidationResult(
                    validator="output-schema",
                    message=f"{'/'.join(map(str, err.absolute_path)) or '(row)'}: {err.message}",
                    focus_node=row.get("id"),
                    source_file=file_name,
                    line=i + 2,
                )
            )
    return out


class OutputSchemaValidator:
    """Checks the published JSON-LD and every CSV row of the release on disk against their
    JSON Schemas (build checks the files it is about to write, with the same functions)."""

    name = "output-schema"

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        if ctx.corpus is None:
            return
        release, schema_dir = ctx.settings.release_dir, ctx.settings.schema_dir
        doc_path = release / "policy.jsonld"
        if doc_path.is_file():
            report.extend(check_jsonld(_load(doc_path), schema_dir, _shown(doc_path, ctx)))
        for csv_path in sorted((release / "csv").glob("*.csv")):
            with csv_path.open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            report.extend(check_csv_rows(csv_path.stem, rows, schema_dir, _shown(csv_path, ctx)))


def _shown(path: Path, ctx: ValidationContext) -> str:
    try:
        return str(path.relative_to(ctx.settings.root))
    except ValueError:
        return str(path)
