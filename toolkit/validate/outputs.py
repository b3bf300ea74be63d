"""JSON Schema checks of what a release publishes: the JSON-LD document and every CSV row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from toolkit.errors import LoadError
from toolkit.report import ValidationResult


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
