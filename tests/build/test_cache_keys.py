"""The cache keys hold everything the output depends on (issue 10): a build of a copy of the
sources elsewhere must not stand in for the project's own sources, nor poison its release."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from conftest import ARTICLE_ID, REPO, Project
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.export import units as U

runner = CliRunner()


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def test_a_build_of_copied_sources_elsewhere_does_not_poison_the_project(project: Project, tmp_path: Path) -> None:
    """The sequence of the issue, on a fresh cache: copy one source folder into an empty folder
    S elsewhere, `build --sources S --release R` (R another empty folder); then, in the
    project, `build --check` is honest, `build` does not rewrite the committed manifest, and
    no KeyError."""
    shutil.copytree(REPO / "datasets" / "release", project.release)  # as committed
    committed = digest(project.release)
    elsewhere = tmp_path / "elsewhere"
    sources, release = elsewhere / "S", elsewhere / "R"
    sources.mkdir(parents=True)
    release.mkdir()
    shutil.copytree(project.root / "datasets" / "sources" / ARTICLE_ID, sources / ARTICLE_ID)

    result = runner.invoke(app, ["build", "--sources", str(sources), "--release", str(release)])
    assert result.exit_code == 0, result.output
    assert '"facts": "facts.yaml"' in (release / "manifest.json").read_text(encoding="utf-8")  # outside the root

    for args in (["build", "--check"], ["build"], ["build", "--check"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        assert "up to date" in result.output or "unchanged" in result.output, result.output
        assert digest(project.release) == committed, args


def test_unit_keys_differ_by_folder_and_by_settings(project: Project, tmp_path: Path) -> None:
    settings = project.settings
    here = project.root / "datasets" / "sources" / ARTICLE_ID
    there = tmp_path / "copy" / ARTICLE_ID
    shutil.copytree(here, there)
    digest_ = U.code_digest(settings)
    assert U.unit_key(here, digest_) != U.unit_key(there, digest_)  # same bytes, another place
    assert U.unit_key(here, digest_) == U.unit_key(here, U.code_digest(settings))  # stable
    other_sources = settings.with_overrides(sources_dir=tmp_path / "copy")
    assert U.code_digest(other_sources) != digest_
    other_base = settings.with_overrides(base_iri="https://example.org/id/")
    assert U.code_digest(other_base) != digest_


def test_the_code_digest_changes_with_the_serialisers_versions(project: Project, monkeypatch) -> None:
    """A unit's renderings reproduce rdflib's and pyld's output, so another version of either must
    miss the cache (pyld has no ``__version__``: its distribution's version is read)."""
    settings = project.settings
    before = U.code_digest(settings)
    real = U.metadata.version
    monkeypatch.setattr(U.metadata, "version", lambda name: "0.0-other" if name == "PyLD" else real(name))
    assert U.code_digest(settings) != before
