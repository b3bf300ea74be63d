"""Load a release table into pandas with the types its data package declares.

Why: ``pandas.read_csv`` guesses types from the cells, so an integer column with empty cells
becomes floats (``12.0``) and a boolean column becomes objects, although ``datapackage.json``
says ``integer`` and ``boolean``. :func:`read_table` reads every cell as text and converts each
column by its Table Schema field instead, so the dtypes are the declared ones::

    from toolkit.tables import read_table
    initiatives = read_table("datasets/release", "initiatives")

Table Schema type -> pandas dtype (all nullable; an empty cell is ``<NA>``):

============================  ====================================================
``integer``, ``year``         ``Int64``
``number``                    ``Float64``
``boolean``                   ``boolean`` (the field's ``trueValues`` / ``falseValues``)
``date``, ``datetime``        ``datetime64[ns]`` (ISO 8601)
anything else                 ``string``
============================  ====================================================

Dates in this release are declared ``string`` with a pattern, on purpose: a source gives a
year, a year and month, or a day (``2025``, ``2025-12``, ``2025-12-11``), and one datetime
column would invent the missing month and day. They load as ``string`` in their lexical
form; ``pandas.to_datetime(column, format="ISO8601")`` converts them when that is wanted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import LoadError, UsageError

__all__ = ["DTYPES", "read_table", "table_names"]

#: Table Schema type -> pandas dtype; every other type is read as ``string``.
DTYPES = {
    "integer": "Int64",
    "year": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}
#: Table Schema's defaults, used when a field does not list its own.
TRUE_VALUES = ["true", "True", "TRUE", "1"]
FALSE_VALUES = ["false", "False", "FALSE", "0"]


def _package(release_dir: Path) -> dict[str, Any]:
    path = release_dir / "datapackage.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError("no datapackage.json here", file=path, hint="give the folder of a release") from None
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot read the data package: {exc}", file=path) from None


def table_names(release_dir: Path | str) -> list[str]:
    """The names of the tables of a release (its data package's tabular resources: the package
    also lists non-tabular files such as policy.trig), in the package's order."""
    return [r["name"] for r in _package(Path(release_dir))["resources"] if r.get("profile") == "tabular-data-resource"]


def read_table(release_dir: Path | str, name: str) -> pd.DataFrame:
    """The table ``name`` of the release in ``release_dir`` with its declared column types.

    ``name`` is the resource's name in ``datapackage.json`` (the CSV's file name without
    ``.csv``, e.g. ``"initiatives"``). Raises :class:`toolkit.errors.LoadError` naming the
    file, line and column when a cell does not fit its declared type.
    """
    release = Path(release_dir)
    resources = _package(release)["resources"]
    resource = next((r for r in resources if r["name"] == name), None)
    if resource is None:
        known = ", ".join(r["name"] for r in resources)
        raise UsageError(f"no table {name!r} in {release / 'datapackage.json'}", hint=f"known tables: {known}")
    path = release / resource["path"]
    schema = resource.get("schema", {})
    missing = schema.get("missingValues", [""])
    rows: list[list[str]] = []
    starts: list[int] = []  # the line each row starts on (a quoted cell may hold newlines)
    try:
        with path.open(encoding=resource.get("encoding", "utf-8"), newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            end = reader.line_num
            for row in reader:
                starts.append(end + 1)
                rows.append(row)
                end = reader.line_num
    except (OSError, ValueError, csv.Error) as exc:
        raise LoadError(f"cannot read the table: {exc}", file=path) from None
    for row, line in zip(rows, starts, strict=True):
        if len(row) != len(header):
            raise LoadError(f"{len(row)} cells where the header has {len(header)}", file=path, line=line)
    raw = pd.DataFrame(rows, columns=header, dtype="string")
    frame = pd.DataFrame(index=raw.index)
    for field in schema.get("fields", []):
        column = field["name"]
        cells = raw[column].mask(raw[column].isin(missing))
        frame[column] = _convert(cells, field, path, starts)
    return frame


def _convert(cells: pd.Series, field: dict[str, Any], path: Path, starts: list[int]) -> pd.Series:
    kind = field.get("type", "string")
    dtype = DTYPES.get(kind, "string")
    if dtype == "boolean":
        truth = {v: True for v in field.get("trueValues", TRUE_VALUES)}
        truth |= {v: False for v in field.get("falseValues", FALSE_VALUES)}
        _check(cells, cells.isin(list(truth)), field, path, starts)
        return cells.map(truth, na_action="ignore").astype("boolean")
    if dtype in ("Int64", "Float64"):
        numbers = pd.to_numeric(cells, errors="coerce")
        if dtype == "Int64":
            _check(cells, numbers.notna() & (numbers % 1 == 0), field, path, starts)
        else:
            _check(cells, numbers.notna(), field, path, starts)
        return numbers.astype(dtype)
    if dtype.startswith("datetime"):
        dates = pd.to_datetime(cells, errors="coerce", format="ISO8601")
        _check(cells, dates.notna(), field, path, starts)
        return dates.astype(dtype)
    return cells


def _check(cells: pd.Series, ok: pd.Series, field: dict[str, Any], path: Path, starts: list[int]) -> None:
    """Raise on the first cell that is neither missing nor of the field's type."""
    bad = cells.notna() & ~ok.fillna(False).astype(bool)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise LoadError(
            f"column {field['name']}: {cells.iloc[row]!r} is not of type {field.get('type')}",
            file=path,
            line=starts[row],
        )
