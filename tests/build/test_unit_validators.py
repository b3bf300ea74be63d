"""A validator added in one place runs on the full build and on the incremental rebuild, and
the manifest lists only the validators that ran.

The validator is defined here, in the test, and added to ``toolkit.validate.VALIDATORS`` for
the test's duration: that list is the only place the build learns of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from toolkit.build import build_release, incremental
from toolkit.config import Settings, load_settings
from toolkit.corpus.generate import write_corpus
from toolkit.errors import DataError, UsageError
from toolkit.report import ValidationReport, ValidationResult
from toolkit.validate import VALIDATORS
from toolkit.validate.base import UnitContext, ValidationContext

WORD = "Forbidden-Word"


class NoForbiddenWord:
    """No literal of a source may hold WORD; records which sources it saw."""

    name = "no-forbidden-word"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def validate_unit(self, ctx: UnitContext, report: ValidationReport) -> None:
        self.seen.append(ctx.source_id)
        for line in ctx.lines:
            if WORD in line:
                report.extend(
                    [
                        ValidationResult(
                            validator=self.name,
                            message=f"{WORD!r} in a triple of {ctx.source_id}",
                            source_file=ctx.facts_file,
                        )
                    ]
                )

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:  # the `validate` command
        return None


class WholeGraphOnly:
    name = "whole-graph-only"

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        return None


@pytest.fixture
def added() -> Iterator[NoForbiddenWord]:
    v = NoForbiddenWord()
    VALIDATORS.append(v)
    try:
        yield v
    finally:
        VALIDATORS.remove(v)


def validators_in_manifest(s: Settings) -> list[str]:
    return json.loads((s.release_dir / "manifest.json").read_bytes())["validation"]["validators"]


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Settings]:
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    out = write_corpus(tmp_path / "sources", seed=3, sources=6).out
    return out, load_settings(REPO).with_overrides(sources_dir=out, release_dir=tmp_path / "release")


def revise_a_label(facts: Path, words: str) -> None:
    text = facts.read_text(encoding="utf-8")
    at = text.index("en: '", text.index("entities:")) + len("en: '")
    facts.write_text(text[:at] + words + " " + text[at:], encoding="utf-8")


def test_a_validator_added_in_one_place_runs_on_both_paths(
    corpus: tuple[Path, Settings], added: NoForbiddenWord
) -> None:
    sources, s = corpus
    build_release(s, jobs=1)
    assert incremental.last_run[0] == "full"
    ids = sorted(p.name for p in sources.iterdir())
    assert sorted(added.seen) == ids  # every unit, once
    assert added.name in validators_in_manifest(s)

    added.seen.clear()
    changed = sorted(sources.glob("*/facts.yaml"))[2]
    revise_a_label(changed, "Revised:")
    build_release(s, jobs=1)
    assert incremental.last_run[0] == "incremental", incremental.last_run
    assert added.seen == [changed.parent.name]  # the changed unit only
    assert added.name in validators_in_manifest(s)

    revise_a_label(changed, WORD)
    with pytest.raises(DataError) as info:
        build_release(s, jobs=1)
    assert info.value.report is not None
    assert [r.message for r in info.value.report.results] == [f"{WORD!r} in a triple of {changed.parent.name}"]


def test_the_manifest_lists_only_what_ran(corpus: tuple[Path, Settings]) -> None:
    _sources, s = corpus
    v = NoForbiddenWord()
    VALIDATORS.append(v)
    try:
        build_release(s, jobs=1)
        assert v.name in validators_in_manifest(s)
    finally:
        VALIDATORS.remove(v)
    build_release(s, jobs=1)  # the same sources: only the list of validators changed
    assert v.name not in validators_in_manifest(s)
    assert validators_in_manifest(s) == [x.name for x in VALIDATORS]


def test_a_validator_the_build_cannot_run_is_refused_by_name(corpus: tuple[Path, Settings]) -> None:
    _sources, s = corpus
    VALIDATORS.append(WholeGraphOnly())
    try:
        with pytest.raises(UsageError, match="'whole-graph-only' has no validate_unit"):
            build_release(s, jobs=1)
    finally:
        VALIDATORS.pop()
    assert not s.release_dir.exists()
