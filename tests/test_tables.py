"""toolkit.tables.read_table: every release table loads with the types datapackage.json declares."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from toolkit.errors import LoadError, UsageError
from toolkit.tables import DTYPES, read_table, table_names

RELEASE = REPO / "datasets" / "release"


def _fields() -> list[tuple[str, dict]]:
    package = json.loads((RELEASE / "datapackage.json").read_text(encoding="utf-8"))
    return [(r["name"], f) for r in package["resources"] if "schema" in r for f in r["schema"]["fields"]]


def _as_csv_cell(value: object, field: dict) -> str:
    """A typed value written back as the release writes it (Table Schema lexical forms)."""
    if value is pd.NA or value is None:
        return ""
    if field["type"] == "boolean":
        return field["trueValues"][0] if value else field["falseValues"][0]
    return str(value)


def test_every_column_of_the_real_release_has_its_declared_dtype_and_round_trips() -> None:
    names = table_names(RELEASE)
    assert len(names) == len(list((RELEASE / "csv").glob("*.csv")))
    typed_values = 0
    for name in names:
        frame = read_table(RELEASE, name)
        fields = [f for table, f in _fields() if table == name]
        assert list(frame.columns) == [f["name"] for f in fields]
        raw = pd.read_csv(RELEASE / "csv" / f"{name}.csv", dtype=str, keep_default_na=False)
        assert len(frame) == len(raw)
        for field in fields:
            column = field["name"]
            assert str(frame[column].dtype) == DTYPES.get(field["type"], "string"), (name, column)
            back = [_as_csv_cell(v, field) for v in frame[column].astype(object)]
            assert back == raw[column].tolist(), (name, column)
            if field["type"] != "string":
                typed_values += int(frame[column].notna().sum())
    assert typed_values > 0  # the release has integer and boolean cells, and they were checked


def test_pandas_alone_guesses_floats_and_objects_read_table_does_not() -> None:
    guessed = pd.read_csv(RELEASE / "csv" / "initiatives.csv")
    assert guessed["memberCount"].dtype == "float64" and guessed["isPilot"].dtype == object
    typed = read_table(RELEASE, "initiatives")
    pilots = typed.dropna(subset=["memberCount"])
    assert pilots["memberCount"].tolist() == [int(v) for v in guessed["memberCount"].dropna()]
    assert typed["isPilot"].dtype == "boolean" and typed["isPilot"].dropna().tolist()
    assert typed["startYear"].dtype == "string"  # mixed-precision dates keep their lexical form


def test_a_cell_of_the_wrong_type_names_the_file_line_and_column(tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(RELEASE, release)
    csv = release / "csv" / "initiatives.csv"
    lines = csv.read_bytes().decode("utf-8").split("\r\n")
    row = next(i for i, line in enumerate(lines) if ",24,true," in line)
    lines[row] = lines[row].replace(",24,true,", ",twenty-four,true,")
    csv.write_bytes("\r\n".join(lines).encode("utf-8"))
    with pytest.raises(LoadError) as err:
        read_table(release, "initiatives")
    assert str(err.value).startswith(f"{csv}:{row + 1}: column memberCount: 'twenty-four' is not of type integer")


def test_an_unknown_table_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        read_table(RELEASE, "consortia")
    assert "known tables: documents, provisions" in str(err.value)


def test_number_year_date_and_default_boolean_types(tmp_path: Path) -> None:
    fields = [
        {"name": "n", "type": "number"},
        {"name": "y", "type": "year"},
        {"name": "d", "type": "date"},
        {"name": "b", "type": "boolean"},
        {"name": "s", "type": "any"},
    ]
    package = {"resources": [{"name": "t", "path": "t.csv", "schema": {"fields": fields}}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    (tmp_path / "t.csv").write_text("n,y,d,b,s\n1.5,2025,2025-12-11,1,x\n,,,FALSE,\n", encoding="utf-8")
    frame = read_table(tmp_path, "t")
    assert [str(t) for t in frame.dtypes] == ["Float64", "Int64", "datetime64[ns]", "boolean", "string"]
    assert frame["n"][0] == 1.5 and frame["y"][0] == 2025 and frame["d"][0] == pd.Timestamp("2025-12-11")
    assert frame["b"].tolist() == [True, False]
    assert frame.iloc[1].isna().tolist() == [True, True, True, False, True]
