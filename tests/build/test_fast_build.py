"""The fast build gives the naive build's report and bytes: real article, generated corpora,
defects; the same bytes whatever --jobs is; a rebuild after one change equals a full build."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import REPO, Project, damage_part
from oracle import oracle_release, release_outcome
from typer.testing import CliRunner

from toolkit.build import build_release, pipeline
from toolkit.cli import app
from toolkit.config import Settings, load_settings
from toolkit.corpus.generate import write_corpus
from toolkit.errors import DataError, LoadError, ReleaseMismatch
from toolkit.export import units as U
from toolkit.export.blocks import load_part
from toolkit.publish import atomic
from toolkit.publish.release import Release
from toolkit.sources import loader
from toolkit.sources.loader import Entity, LangText, RefValue


def tree(folder: Path) -> dict[str, bytes]:
    """The release files (the toolkit's marker, which is not one, left out)."""
    return atomic.read_tree(folder)


def settings_for(tmp: Path, sources: Path | None = None) -> Settings:
    s = load_settings(REPO)
    return s.with_overrides(sources_dir=sources or s.sources_dir, release_dir=tmp / "release")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(path))
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "sources", seed=5, sources=40).out


def test_real_article_release_is_byte_identical_to_the_naive_one(
    real_release: Release, tmp_path: Path, cache: Path
) -> None:
    fast = build_release(settings_for(tmp_path))
    files = tree(tmp_path / "release")
    assert set(files) == set(real_release.files)
    for name, data in real_release.files.items():
        assert files[name] == data, name
    assert fast.manifest == json.loads(real_release.files["manifest.json"])
    assert len(fast.graph) == len(real_release.graph)  # the rdflib graph, made on demand


def test_real_article_report_matches(repo_settings: Settings, tmp_path: Path, cache: Path) -> None:
    naive = release_outcome(repo_settings)
    fast = pipeline.fast_outcome(repo_settings, jobs=1)
    assert fast.report.to_json() == naive.report.to_json()
    assert fast.report.validators_run == naive.report.validators_run


def test_generated_corpus_same_bytes_as_naive_and_across_jobs(corpus: Path, tmp_path: Path, cache: Path) -> None:
    naive = oracle_release(settings_for(tmp_path / "n", corpus))
    one = build_release(settings_for(tmp_path / "j1", corpus), jobs=1)
    shutil.rmtree(cache)
    two = build_release(settings_for(tmp_path / "j2", corpus), jobs=2)
    expected = tree(tmp_path / "n" / "release")
    assert tree(tmp_path / "j1" / "release") == expected
    assert tree(tmp_path / "j2" / "release") == expected
    assert naive.manifest == one.manifest == two.manifest
    assert build_release(settings_for(tmp_path / "j2", corpus), check=True).changed == []


def _defect_corpus(tmp: Path, seed: int, kinds: tuple[str, ...] | None = None) -> Path:
    kw = {"defects": kinds} if kinds else {}
    return write_corpus(tmp / f"defects-{seed}", seed=seed, sources=30, defect_rate=0.5, **kw).out


@pytest.mark.parametrize(
    ("seed", "kinds"),
    [(21, None), (22, ("period-reversed", "wrong-class")), (23, ("dangling-reference", "missing-label"))],
)
def test_defect_reports_match_the_naive_ones(tmp_path: Path, cache: Path, seed: int, kinds) -> None:
    settings = settings_for(tmp_path, _defect_corpus(tmp_path, seed, kinds))
    naive = release_outcome(settings)
    fast = pipeline.fast_outcome(settings, jobs=2)
    assert not naive.report.conforms

    def results(report) -> list[str]:  # SHACL results come in each engine's own order
        return sorted(json.dumps(r.to_dict(), sort_keys=True, ensure_ascii=False) for r in report.results)

    assert results(fast.report) == results(naive.report)
    assert fast.report.to_text() == naive.report.to_text()
    with pytest.raises(DataError) as info:
        build_release(settings)
    assert info.value.report is not None and info.value.report.to_json() == naive.report.to_json()
    assert not (tmp_path / "release").exists()


def test_duplicate_ids_across_sources_and_cycles(tmp_path: Path, cache: Path, corpus: Path) -> None:
    copy = tmp_path / "sources"
    shutil.copytree(corpus, copy)
    facts = sorted(copy.glob("*/facts.yaml"))
    first = facts[3].read_text(encoding="utf-8")
    an_id = first.split("  - id: '", 1)[1].split("'", 1)[0]
    later = facts[7].read_text(encoding="utf-8")
    later_id = later.split("  - id: '", 1)[1].split("'", 1)[0]
    facts[7].write_text(later.replace(f"id: '{later_id}'", f"id: '{an_id}'", 1), encoding="utf-8")
    settings = settings_for(tmp_path, copy)
    assert pipeline.fast_outcome(settings).report.to_json() == release_outcome(settings).report.to_json()


def test_rebuild_after_one_change_equals_a_full_build(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "sources"
    shutil.copytree(corpus, copy)
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "warm"))
    build_release(settings_for(tmp_path / "a", copy))
    facts = sorted(copy.glob("*/facts.yaml"))[10]
    facts.write_text(facts.read_text(encoding="utf-8").replace("en: '", "en: 'Revised ", 1), encoding="utf-8")
    units = pipeline.collect_units(settings_for(tmp_path / "a", copy))
    assert sum(u.fresh for u in units) == 1  # only the changed source is computed again
    rebuilt = build_release(settings_for(tmp_path / "a", copy))
    assert any("differs" in line for line in rebuilt.changed)
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cold"))
    build_release(settings_for(tmp_path / "b", copy))
    assert tree(tmp_path / "a" / "release") == tree(tmp_path / "b" / "release")


def _full_build_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the incremental rebuild: with no source changed it returns early and reads no unit,
    so a damaged cache entry would never be looked at (and a test of it could not fail)."""
    monkeypatch.setenv("POLICY_TOOLKIT_NO_INCREMENTAL", "1")


def test_a_damaged_cache_entry_is_computed_again(
    corpus: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, corpus)
    build_release(settings)
    _full_build_only(monkeypatch)
    units = sorted((cache / "units").rglob("*.pickle"))
    damaged, unrendered = units[0], units[1]
    damaged.write_bytes(b"not a pickle")  # a unit entry itself, not the build state
    Path(f"{unrendered}{U.PARTS_SUFFIX}").unlink()  # a unit whose lines and renderings are gone
    fresh = {u.key for u in pipeline.collect_units(settings) if u.fresh}
    assert fresh == {damaged.stem, unrendered.stem}  # those two, and only they, computed again
    unit = U.load(damaged)
    assert unit is not None and unit.key == damaged.stem  # the entry was written again
    assert Path(f"{unrendered}{U.PARTS_SUFFIX}").is_file()
    build_release(settings, check=True)  # and the release from the cache is the same


def test_load_errors_are_the_naive_ones(project: Project, cache: Path) -> None:
    project.edit_facts("  - id: jinhua\n", "  - id: jinhua\n   type: [City\n")
    with pytest.raises(LoadError) as naive:
        release_outcome(project.settings)
    with pytest.raises(LoadError) as fast:
        pipeline.fast_outcome(project.settings)
    assert str(fast.value) == str(naive.value)
    result = CliRunner().invoke(app, ["build", "--jobs", "2"])
    assert result.exit_code == 2 and "broken YAML" in result.output


def test_check_detects_a_change_without_reading_the_release_into_memory(project: Project, cache: Path) -> None:
    assert CliRunner().invoke(app, ["build", "-j", "1"]).exit_code == 0
    (project.release / "csv" / "places.csv").write_text("tampered", encoding="utf-8")
    with pytest.raises(ReleaseMismatch, match=r"differs: csv/places\.csv"):
        build_release(project.settings, check=True)
    digest = hashlib.sha256((project.release / "policy.nt").read_bytes()).hexdigest()
    assert build_release(project.settings).changed == ["differs: csv/places.csv"]
    assert hashlib.sha256((project.release / "policy.nt").read_bytes()).hexdigest() == digest


def _old_cycles(entities: dict[str, Entity]) -> list[tuple[str, str, str]]:
    """The depth-first search loader.reference_cycles ran before it pruned to strongly connected components."""
    out = []
    props = sorted(
        {p for e in entities.values() for p, vs in e.values.items() if any(isinstance(v, RefValue) for v in vs)}
    )
    for prop in props:
        edges = {
            e.id: [v.id for v in e.values.get(prop, []) if isinstance(v, RefValue) and v.id in entities]
            for e in entities.values()
        }
        reported: set[str] = set()
        for start in sorted(edges):
            stack, seen = [(start, [start])], set()
            while stack:
                node, trail = stack.pop()
                for nxt in edges.get(node, []):
                    if nxt == start:
                        if start not in reported:
                            reported.update(trail)
                            out.append((prop, start, " -> ".join([*trail, start])))
                    elif nxt not in seen:
                        seen.add(nxt)
                        stack.append((nxt, [*trail, nxt]))
    return out


def test_cycle_check_finds_the_same_cycles_in_linear_time(repo_settings: Settings) -> None:
    for trial in range(200):
        rng = random.Random(trial)
        ids = [f"e{i}" for i in range(rng.randint(1, 12))]
        ents = {}
        for i in ids:
            vals: dict = {"label": [LangText(i, "zh")]}
            for prop in ("a", "b"):
                if k := rng.randint(0, 3):
                    vals[prop] = [RefValue(rng.choice([*ids, "missing"])) for _ in range(k)]
            ents[i] = Entity(id=i, types=("X",), source_id="s", file=Path("/x/facts.yaml"), line=1, values=vals)
        got = [
            (r.path, r.focus_node.rsplit("/", 1)[-1], r.message.split(": ", 1)[1])
            for r in loader.reference_cycles(ents, repo_settings)
        ]
        assert got == _old_cycles(ents), trial
    chain = {
        f"n{i}": Entity(
            id=f"n{i}", types=("X",), source_id="s", file=Path("/f"), line=1, values={"a": [RefValue(f"n{i + 1}")]}
        )
        for i in range(20000)
    }
    assert loader.reference_cycles(chain, repo_settings) == []  # a long chain: quadratic before, instant now


def test_a_corrupt_rendering_in_the_cache_is_computed_again(
    corpus: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, corpus)
    build_release(settings)
    _full_build_only(monkeypatch)
    victim = sorted((cache / "units").rglob("*.pickle"))[2]
    damage_part(victim, "jsonld")  # the unit entry itself is intact: only reading the part finds it
    build_release(settings, check=True)  # the same bytes, so the unit was rendered again
    unit = U.load(victim)  # and the garbage was replaced in the cache
    assert unit is not None
    part = load_part(unit, "jsonld")
    assert isinstance(part, dict) and set(part) == set(U.PARTS["jsonld"])


def test_units_lines_are_read_from_the_cache_and_a_damaged_copy_is_computed_again(
    corpus: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached unit's N-Triples are not held in memory; a lines file of the wrong size (cut
    short, or replaced) is found when the units are read and the unit is computed again."""
    settings = settings_for(tmp_path, corpus)
    build_release(settings)
    _full_build_only(monkeypatch)
    units = pipeline.collect_units(settings)
    assert all(u.nt_data is None and u.has_nt for u in units)  # nothing in memory...
    lines = next(u for u in units if u.nt)
    assert lines.cache_path is not None
    start, end = lines.parts[U.NT_PART]
    parts = Path(f"{lines.cache_path}{U.PARTS_SUFFIX}")
    assert lines.nt == parts.read_bytes()[start:end]  # ...but read from the cache on demand
    damage_part(Path(lines.cache_path), U.NT_PART, b"<a> <b> <c> .\n")  # not this unit's lines
    fresh = {u.key for u in pipeline.collect_units(settings) if u.fresh}
    assert fresh == {lines.key}
    parts.write_bytes(parts.read_bytes()[:-1])  # cut short
    build_release(settings, check=True)  # the same bytes: the unit's lines were computed again


def test_triples_written_directly_are_rdflibs(repo_settings: Settings, corpus: Path) -> None:
    """The units write their N-Triples lines without rdflib; they must be build_graph's, line for line."""
    from oracle.graph import build_graph

    from toolkit.export.canonical import sorted_ntriples
    from toolkit.graph import graph_lines
    from toolkit.schema.model import load_model
    from toolkit.sources.loader import Corpus, load_corpus

    for settings in (repo_settings, repo_settings.with_overrides(sources_dir=corpus)):
        model = load_model(settings.schema_dir)
        loaded, problems = load_corpus(settings, model)
        assert problems == []
        for src in loaded.sources:
            g = build_graph(Corpus(sources=[src], entities={}), model, settings.base_iri)
            assert graph_lines(src, model, settings.base_iri) == sorted_ntriples(g), src.id
