"""The pipeline's release is the oracle's, byte for byte: the fixtures, and a generated corpus
after an incremental rebuild (the rebuild's path is asserted, so a silent full build cannot
pass for it), with ``--jobs`` 1 and 2. Other cases: tests/build/test_fast_build.py (the real
article, generated corpora, defects), test_shared_subjects.py (a subject of two sources).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO
from oracle import oracle_release

from toolkit.build import build_release, incremental
from toolkit.config import Settings, load_settings
from toolkit.corpus.generate import write_corpus


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def same_as_oracle(s: Settings, tmp: Path) -> None:
    ref = s.with_overrides(release_dir=tmp / "oracle")
    oracle_release(ref)
    got, want = tree(s.release_dir), tree(ref.release_dir)
    assert got.keys() - {".policy-toolkit-release"} == want.keys() - {".policy-toolkit-release"}
    assert [f for f in want if f in got and got[f] != want[f]] == []


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))


def test_the_fixtures_release_is_the_oracles(tmp_path: Path, cache: None) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "datasets" / "sources", sources)
    # a test article with all its metadata (url, author, editor, platform, retrieval date) too,
    # and one with `subject:` entries about other sources' entities (its dataset's keywords and
    # places come from what it says, not from what the others say of those subjects)
    for name in ("second-source", "jkb-2024-06-g60-matchmaking", "wng-2025-03-langxi-enclave"):
        shutil.copytree(FIXTURES / "sources" / name, sources / name)
    s = load_settings(REPO).with_overrides(sources_dir=sources, release_dir=tmp_path / "release")
    build_release(s, jobs=2)
    same_as_oracle(s, tmp_path)


def test_an_incremental_rebuild_is_the_oracles_release(tmp_path: Path, cache: None) -> None:
    corpus = write_corpus(tmp_path / "sources", seed=9, sources=24).out
    s = load_settings(REPO).with_overrides(sources_dir=corpus, release_dir=tmp_path / "release")
    build_release(s, jobs=2)
    facts = sorted(corpus.glob("*/facts.yaml"))[5]
    text = facts.read_text(encoding="utf-8")
    at = text.index("en: '", text.index("entities:")) + len("en: '")
    facts.write_text(text[:at] + "Revised: " + text[at:], encoding="utf-8")
    build_release(s, jobs=1)
    assert incremental.last_run[0] == "incremental", incremental.last_run
    same_as_oracle(s, tmp_path)
