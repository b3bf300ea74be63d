"""The lean forms the 1M build keeps (issue 12): the catalog's lines as bytes by subject give the
DCAT-AP check the catalog's sorted lines; a loaded unit's compact summary reads as the computed one."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import REPO

from toolkit.build import build_release
from toolkit.config import Settings, load_settings
from toolkit.corpus.generate import write_corpus
from toolkit.export import units as U
from toolkit.publish import assemble


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "sources", seed=5, sources=12).out


def _settings(tmp: Path, sources: Path) -> Settings:
    return load_settings(REPO).with_overrides(sources_dir=sources, release_dir=tmp / "release")


def test_the_dcat_ap_input_is_the_sorted_lines_of_the_written_catalog(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    seen: list[bytes] = []
    real = assemble.dcat_ap

    def spy(settings, lines):  # type: ignore[no-untyped-def]
        assert isinstance(lines, Path)  # made by the catalog itself, not read back; a file the engine reads
        seen.append(lines.read_bytes())
        return real(settings, lines)

    monkeypatch.setattr(assemble, "dcat_ap", spy)
    build_release(_settings(tmp_path, corpus), jobs=1)
    quads = ox.parse((tmp_path / "release" / "catalog.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    expected = "".join(line + "\n" for line in sorted({f"{q.subject} {q.predicate} {q.object} ." for q in quads}))
    assert len(seen) == 1
    assert seen[0].decode("utf-8") == expected


def test_a_loaded_units_summary_reads_as_the_computed_one(corpus: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path, corpus)
    ctx = U.StageContext(settings=settings, digest="test")
    folders = sorted(p for p in corpus.iterdir() if p.is_dir())[:3]
    loaded = []
    for i, folder in enumerate(folders):
        unit = U.process_folder(folder, ctx, f"k{i}")
        computed = list(unit.spans)
        assert computed and computed[0][1] == 0
        U.dump(unit, tmp_path / f"u{i}.pickle")
        back = U.load(tmp_path / f"u{i}.pickle")
        assert back is not None
        assert isinstance(back.spans, U.Spans)
        assert list(back.spans) == computed
        assert [e.lines for e in back.entities] == [e.lines for e in unit.entities]
        loaded.append(back)
    # a class name many units repeat is one object once the units are read
    firsts = {u.entities[0].types[0] for u in loaded}
    types = [e.types[0] for u in loaded for e in u.entities if e.types and e.types[0] in firsts]
    by_value: dict[str, int] = {}
    for t in types:
        assert by_value.setdefault(t, id(t)) == id(t)
