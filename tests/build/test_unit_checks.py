"""The per-source validators run in the worker that makes a unit, and the build reports what
they found there (issue 11, the 120k ratio: run in the main process, one unit after the other,
they were a serial stage of every build).

The case is the inference fixture: one source whose link's quote never names its target, two
warnings of the `inferences` validator.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from toolkit.build.pipeline import check_tag, collect_units, fast_outcome, unit_model
from toolkit.config import load_settings
from toolkit.report import ValidationReport
from toolkit.validate import VALIDATORS, validate_sources
from toolkit.validate.base import UnitContext
from toolkit.validate.inferences import InferenceValidator

CASE = FIXTURES / "inference-sources"


def inference_results(report: ValidationReport) -> list[tuple[str | None, str | None, int | None]]:
    return [(r.focus_node, r.path, r.line) for r in report.results if r.validator == "inferences"]


def test_the_workers_results_are_what_the_build_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    s = load_settings(REPO).with_overrides(sources_dir=CASE, release_dir=tmp_path / "release")
    expected = inference_results(validate_sources(s).report)
    assert len(expected) == 2  # the fixture's two warnings, found on the whole graph

    built = fast_outcome(s)
    assert inference_results(built.report) == expected
    (unit,) = collect_units(s)
    tag = check_tag(next(v for v in VALIDATORS if isinstance(v, InferenceValidator)))
    assert unit.checks is not None and tag is not None
    assert [(r.focus_node, r.path, r.line) for r in unit.checks[tag]] == expected  # found in the worker, cached

    # the main process does not run it again: the cached unit's results are the report's
    def refuse(self: InferenceValidator, ctx: UnitContext, report: ValidationReport) -> None:
        raise AssertionError("the inference check ran in the main process")

    monkeypatch.setattr(InferenceValidator, "validate_unit", refuse)
    again = fast_outcome(s)
    assert inference_results(again.report) == expected
    assert "inferences" in again.report.validators_run


def test_the_units_model_is_read_again_when_model_yaml_changes(tmp_path: Path) -> None:
    """Kept once per process, but not past an edit of ``model.yaml`` (a process that builds twice)."""
    schema = tmp_path / "schema"
    shutil.copytree(REPO / "schema", schema)
    first = unit_model(schema)
    assert unit_model(schema) is first  # kept while the file is as it was
    path = schema / "model.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(first.ns, first.ns + "v2/", 1), encoding="utf-8")
    assert unit_model(schema).ns == first.ns + "v2/"
