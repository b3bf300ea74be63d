"""Shared fixtures: the real repository, throw-away project copies, and the real release."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from oracle import assemble, release_outcome, replace_tree

from toolkit.config import Settings, load_settings
from toolkit.export import units as U
from toolkit.publish.release import Release
from toolkit.validate import Outcome

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTICLE_ID = "cls-2025-12-yrd-innovation-centre"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_settings() -> Settings:
    return load_settings(REPO)


@pytest.fixture(scope="session")
def real_outcome(repo_settings: Settings) -> Outcome:
    return release_outcome(repo_settings)


@pytest.fixture(scope="session")
def real_release(repo_settings: Settings, real_outcome: Outcome) -> Release:
    """The release the committed sources produce, assembled in memory (nothing written)."""
    return assemble(repo_settings, real_outcome)


@pytest.fixture(scope="session")
def real_release_dir(real_release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real release written to a folder of its own (read-only use: queries, publishing)."""
    folder = tmp_path_factory.mktemp("release")
    for rel, data in real_release.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


class Project:
    """A throw-away copy of the project (pyproject, schema, sources) under tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
        shutil.copytree(REPO / "schema", root / "schema")
        shutil.copytree(REPO / "datasets" / "sources", root / "datasets" / "sources")

    @property
    def settings(self) -> Settings:
        return load_settings(self.root)

    @property
    def facts(self) -> Path:
        return self.root / "datasets" / "sources" / ARTICLE_ID / "facts.yaml"

    @property
    def release(self) -> Path:
        return self.root / "datasets" / "release"

    def edit_facts(self, old: str, new: str, count: int = 1) -> None:
        text = self.facts.read_text(encoding="utf-8")
        assert old in text, f"fixture text not found: {old!r}"
        self.facts.write_text(text.replace(old, new, count), encoding="utf-8")

    def add_source(self, folder: Path) -> None:
        shutil.copytree(folder, self.root / "datasets" / "sources" / folder.name)

    def seed_release(self, release: Release) -> None:
        """Write the release of the unchanged sources, as `build` would, without rebuilding."""
        replace_tree(self.release, release.files)

    def tree_digest(self) -> dict[str, str]:
        """Every file under the release folder (and leftovers beside it) with its SHA-256."""
        out = {}
        base = self.root / "datasets"
        for p in sorted(base.rglob("*")):
            if p.is_file() and "sources" not in p.relative_to(base).parts[:1]:
                out[str(p.relative_to(base))] = hashlib.sha256(p.read_bytes()).hexdigest()
        return out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    proj = Project(tmp_path / "project")
    monkeypatch.setenv("POLICY_TOOLKIT_ROOT", str(proj.root))
    monkeypatch.delenv("POLICY_TOOLKIT_BASE_IRI", raising=False)
    yield proj


def damage_part(unit_file: Path, part: str, garbage: bytes | None = None) -> None:
    """Overwrite one part of a cached unit (``nt`` or a kind of rendering) in its parts file:
    with bytes of the same length (the file keeps its size, so only reading the part finds it),
    or with ``garbage`` of another length."""
    unit = U.load(unit_file)
    assert unit is not None and part in unit.parts
    start, end = unit.parts[part]
    path = Path(f"{unit_file}{U.PARTS_SUFFIX}")
    data = path.read_bytes()
    path.write_bytes(data[:start] + (b"\0" * (end - start) if garbage is None else garbage) + data[end:])


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """The site tests' real browser: Debian's headless Chromium driven by Playwright.

    Here and not in ``tests/site/conftest.py``: the tests import this module by its name
    (``from conftest import ...``), which a second ``conftest.py`` would shadow."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "Debian's chromium is not installed: run scripts/test.sh (it installs it) or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright  # only the browser tests pay for its import

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()
