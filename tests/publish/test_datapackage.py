"""The data package validates with frictionless, and a CSVW processor reads the typed rows."""

from __future__ import annotations

import csv
import io
import json

import frictionless
import pytest
import yaml
from conftest import REPO, Project
from csvw import TableGroup

from toolkit.publish.release import Release
from toolkit.schema.model import load_model

FACTS = REPO / "datasets" / "sources" / "cls-2025-12-yrd-innovation-centre" / "facts.yaml"


@pytest.fixture
def released(project: Project, real_release: Release) -> Project:
    project.seed_release(real_release)
    return project


def test_frictionless_validates_the_package(released: Project) -> None:
    report = frictionless.validate(str(released.release / "datapackage.json"))
    errors = [e.message for task in report.tasks for e in task.errors] + [e.message for e in report.errors]
    assert report.valid, errors[:10]
    assert (
        len(report.tasks) == len(load_model(released.root / "schema").tables) + 1
    )  # one per table of the model, and policy.trig


def test_foreign_keys_are_declared_and_checked(released: Project) -> None:
    package = frictionless.Package(str(released.release / "datapackage.json"))
    provisions = package.get_resource("provisions")
    fks = provisions.schema.foreign_keys
    assert {"fields": ["provisionOf"], "reference": {"resource": "documents", "fields": ["id"]}} in fks
    # break one link: frictionless must now report a foreign-key error
    path = released.release / "csv" / "provisions.csv"
    data = path.read_bytes().replace(b"/id/yrd-st-coordination-decision,", b"/id/no-such-document,", 1)
    path.write_bytes(data)
    descriptor_path = released.release / "datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] == "provisions":
            del resource["hash"], resource["bytes"]
    descriptor_path.write_text(json.dumps(descriptor), encoding="utf-8")
    report = frictionless.validate(str(descriptor_path))
    assert {e.type for task in report.tasks for e in task.errors} == {"foreign-key"}


def test_csvw_reads_rows_with_types(released: Project) -> None:
    group = TableGroup.from_file(released.release / "csv-metadata.json")
    tables = {t.url.string: t for t in group.tables}
    consortia = [r for r in tables["csv/initiatives.csv"].iterdicts() if r["types"] == ["ConsortiumProgramme"]]
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    expected = next(e for e in facts["entities"] if e["type"] == "ConsortiumProgramme")
    [row] = consortia
    assert row["memberCount"] == expected["memberCount"] and isinstance(row["memberCount"], int)
    assert row["isPilot"] is True
    assert row["startYear"] == expected["startYear"]
    assert [u.unsplit().rsplit("/", 1)[1] for u in row["field"]] == sorted(expected["field"])  # anyURI values
    evidence = list(tables["csv/evidence.csv"].iterdicts())
    # an `attributed:` value is a pt:Claim that carries its entry's quotes as its own evidence
    quotes = sum(len(e["evidence"]) * (1 + len(e.get("attributed", {}))) for e in facts["entities"])
    assert len(evidence) == quotes and all(isinstance(r["startOffset"], int) for r in evidence)
    assert group.check_referential_integrity(strict=False) is True  # raises ValueError on a dangling key


def test_csvw_columns_match_the_csv_headers(released: Project) -> None:
    group = TableGroup.from_file(released.release / "csv-metadata.json")
    for table in group.tables:
        header = next(csv.reader(io.StringIO((released.release / table.url.string).read_text(encoding="utf-8"))))
        assert [c.name for c in table.tableSchema.columns] == header
        for column in table.tableSchema.columns:
            assert set(column.titles) == {"en", "zh"}, column.name
