"""Descriptions of the CSV tables for data users' tools: a Frictionless Data Package
(datapackage.json) and CSVW metadata (csv-metadata.json).

Both are derived from the model, like the CSVs themselves: typed columns, zh + en titles,
``id`` as primary key, and foreign keys wherever a single-valued link points into one table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from toolkit.export.formats import FORMATS
from toolkit.schema.generate import DATE_PATTERN, single_valued
from toolkit.schema.model import Model, Table

FIXED_TITLES = {
    "id": ("标识符（IRI）", "Identifier (IRI)"),
    "types": ("类型", "Types"),
    "label_zh": ("名称（中文）", "Label (Chinese)"),
    "label_en": ("名称（英文）", "Label (English)"),
    "comment_zh": ("说明（中文）", "Comment (Chinese)"),
    "comment_en": ("说明（英文）", "Comment (English)"),
    "evidence": ("证据", "Evidence"),
    "evidenceOf": ("所证事实", "Evidence of"),
}


def _column_info(model: Model, table: Table, col: str) -> tuple[str, str | None, str | None]:
    """(kind, property name, language) of a column; kind is one of the model's kinds or 'iri'/'text'."""
    if col in ("id", "evidence") or col in table.reverse:
        return "iri", None, None
    if col == "types":
        return "text", None, None
    name, lang = model.column_property(col)
    prop = model.properties[name]
    return prop.kind, name, lang


def titles(model: Model, table: Table, col: str) -> tuple[str, str]:
    if col in FIXED_TITLES:
        return FIXED_TITLES[col]
    _kind, name, lang = _column_info(model, table, col)
    assert name is not None
    label = model.properties[name].label or {"zh": name, "en": name}
    suffix = {"zh": ("（中文）", " (Chinese)"), "en": ("（英文）", " (English)")}.get(lang or "", ("", ""))
    return label["zh"] + suffix[0], label["en"] + suffix[1]


def foreign_keys(model: Model, table: Table) -> list[tuple[str, Table]]:
    """Columns holding one link into exactly one other table."""
    out = []
    for col in model.table_columns(table):
        kind, name, _lang = _column_info(model, table, col)
        if kind != "ref" or name is None or not single_valued(model, name):
            continue
        rng = model.properties[name].range
        if len(rng) != 1:
            continue
        targets = [t for t in model.tables.values() if t.class_name in model.ancestors(rng[0])]
        if targets:
            out.append((col, min(targets, key=lambda t: len(model.ancestors(t.class_name)) * -1)))
    return out


def _frictionless_field(model: Model, table: Table, col: str) -> dict[str, Any]:
    kind, name, _lang = _column_info(model, table, col)
    zh, en = titles(model, table, col)
    field: dict[str, Any] = {"name": col, "title": f"{en} / {zh}", "description": f"{en}；{zh}"}
    if kind == "count":
        field.update(type="integer", constraints={"minimum": 0})
    elif kind == "boolean":
        field.update(type="boolean", trueValues=["true"], falseValues=["false"])
    elif kind == "date":
        field.update(type="string", constraints={"pattern": DATE_PATTERN[1:-1]})
    elif kind in ("iri", "ref") and (col == "id" or (name is not None and single_valued(model, name))):
        field.update(type="string", format="uri")
    else:
        field.update(type="string")
    if col == "id":
        field["constraints"] = {"required": True, "unique": True}
    return field


def _file_resource(
    files: Mapping[str, bytes], name: str, path: str, title: str, profile: str, fmt: str, mediatype: str
) -> dict[str, Any]:
    """A release file's resource: its size and SHA-256 from the record of the files written (a
    large file is not read back) or from its bytes."""
    sizes, sums = getattr(files, "sizes", None), getattr(files, "sha256", None)
    if sizes is not None and sums is not None and path in sizes:
        size, digest = sizes[path], sums[path]
    else:
        size, digest = len(files[path]), hashlib.sha256(files[path]).hexdigest()
    return {
        "name": name,
        "path": path,
        "title": title,
        "profile": profile,
        "format": fmt,
        "mediatype": mediatype,
        "encoding": "utf-8",
        "bytes": size,
        "hash": "sha256:" + digest,
    }


def datapackage(model: Model, files: Mapping[str, bytes]) -> dict[str, Any]:
    """The Frictionless descriptor: every CSV table (typed, with keys) and every format that
    asks to be listed (:attr:`~toolkit.export.blocks.Format.in_datapackage`)."""
    resources = []
    for table in model.tables.values():
        schema: dict[str, Any] = {
            "fields": [_frictionless_field(model, table, c) for c in model.table_columns(table)],
            "primaryKey": ["id"],
        }
        fks = [
            {"fields": [col], "reference": {"resource": target.name, "fields": ["id"]}}
            for col, target in foreign_keys(model, table)
        ]
        if fks:
            schema["foreignKeys"] = fks
        title = f"{table.title['en']} / {table.title['zh']}"
        resource = _file_resource(
            files, table.name, f"csv/{table.name}.csv", title, "tabular-data-resource", "csv", "text/csv"
        )
        resources.append({**resource, "dialect": {"lineTerminator": "\r\n"}, "schema": schema})
    for fmt in FORMATS:
        if fmt.in_datapackage and fmt.file in files:
            name, _dot, suffix = fmt.file.rpartition(".")
            title = f"{fmt.titles[1]} / {fmt.titles[0]}"
            resources.append(
                _file_resource(files, f"{name}-{suffix}", fmt.file, title, "data-resource", suffix, fmt.media_type)
            )
    tabular = all(r["profile"] == "tabular-data-resource" for r in resources)
    return {
        "name": "policy-news-facts",
        "title": "Policy news facts / 政策新闻事实",
        # a tabular data package holds only tables: with a data file besides, it is a data package
        "profile": "tabular-data-package" if tabular else "data-package",
        "licenses": [
            {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY 4.0"}
        ],
        "resources": resources,
    }


def _csvw_column(model: Model, table: Table, col: str) -> dict[str, Any]:
    kind, name, lang = _column_info(model, table, col)
    zh, en = titles(model, table, col)
    column: dict[str, Any] = {"name": col, "titles": {"en": en, "zh": zh}}
    if col == "id":
        column.update(datatype="anyURI", required=True, suppressOutput=True)
    elif col == "types":
        column.update(datatype="string", separator=" ", propertyUrl="rdf:type", valueUrl=model.ns + "{types}")
    elif col in table.reverse:
        column.update(datatype="anyURI", separator="|", suppressOutput=True)
    elif col == "evidence":
        column.update(
            datatype="anyURI", separator="|", propertyUrl=model.properties["evidence"].iri, valueUrl="{+evidence}"
        )
    else:
        assert name is not None
        prop = model.properties[name]
        column["propertyUrl"] = prop.iri
        if kind == "ref":
            column.update(datatype="anyURI", valueUrl="{+" + col + "}")
            if not single_valued(model, name):
                column["separator"] = "|"
        elif kind == "count":
            column["datatype"] = "nonNegativeInteger"
        elif kind == "boolean":
            column["datatype"] = "boolean"
        elif kind == "date":
            column["datatype"] = {"base": "string", "format": DATE_PATTERN[1:-1]}
        else:
            column["datatype"] = "string"
            if lang or kind == "zh":
                column["lang"] = lang or "zh"
    return column


def csvw_metadata(model: Model) -> dict[str, Any]:
    tables = []
    for table in model.tables.values():
        schema: dict[str, Any] = {
            "columns": [_csvw_column(model, table, c) for c in model.table_columns(table)],
            "primaryKey": "id",
            "aboutUrl": "{+id}",
        }
        fks = [
            {"columnReference": col, "reference": {"resource": f"csv/{target.name}.csv", "columnReference": "id"}}
            for col, target in foreign_keys(model, table)
        ]
        if fks:
            schema["foreignKeys"] = fks
        tables.append(
            {
                "url": f"csv/{table.name}.csv",
                "dc:title": [
                    {"@value": table.title["en"], "@language": "en"},
                    {"@value": table.title["zh"], "@language": "zh"},
                ],
                "tableSchema": schema,
            }
        )
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "dc:license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
        "tables": tables,
    }


def datapackage_files(model: Model, files: Mapping[str, bytes]) -> dict[str, bytes]:
    """``datapackage.json`` (Frictionless) and ``csv-metadata.json`` (CSVW) of the files so far."""

    def dump(doc: Any) -> bytes:
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    return {
        "datapackage.json": dump(datapackage(model, files)),
        "csv-metadata.json": dump(csvw_metadata(model)),
    }
