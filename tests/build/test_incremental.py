"""The incremental rebuild gives the full build's bytes, and runs where it should.

Each case edits a generated corpus the way an editor would, rebuilds (incrementally, from the
state the previous build left), and compares every file with a full build of the same corpus
in a fresh cache. ``incremental.last_run`` says which path the rebuild took: the tests assert
it, so a silent fallback to the full build cannot pass for an incremental one.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, damage_part
from rdflib import Graph
from rdflib.namespace import RDF

from toolkit.build import build_release, incremental
from toolkit.config import Settings, load_settings
from toolkit.corpus.generate import write_corpus
from toolkit.errors import DataError
from toolkit.validate.dcatap import SHAPES, dcat_ap_shapes
from toolkit.validate.shacl import load_schema_graph


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def settings(root: Path, sources: Path, name: str = "release") -> Settings:
    return load_settings(REPO).with_overrides(sources_dir=sources, release_dir=root / name)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Settings]:
    """A 41-source corpus built once in full (the state is left in the test's cache)."""
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    corpus = write_corpus(tmp_path / "sources", seed=11, sources=41).out
    s = settings(tmp_path, corpus)
    build_release(s, jobs=1)
    assert incremental.last_run[0] == "full"
    return corpus, s


def full_build(s: Settings, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """A full build of the same sources elsewhere, in an empty cache."""
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp / "cache-full"))
    other = s.with_overrides(release_dir=tmp / "release-full")
    build_release(other, jobs=1)
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp / "cache"))
    return tree(tmp / "release-full")


def rebuild_equals_full(
    s: Settings, tmp: Path, monkeypatch: pytest.MonkeyPatch, path: str = "incremental"
) -> tuple[str, str]:
    """Rebuild, check the path it took, compare with a full build; how the rebuild went."""
    rel = build_release(s, jobs=1)
    how = incremental.last_run
    assert how[0] == path, how
    assert tree(s.release_dir) == full_build(s, tmp, monkeypatch)
    assert json.loads((s.release_dir / "manifest.json").read_bytes()) == rel.manifest
    return how


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def definer(corpus: Path, entity_id: str) -> Path:
    for facts in sorted(corpus.glob("*/facts.yaml")):
        if f"- id: '{entity_id}'" in facts.read_text(encoding="utf-8"):
            return facts
    raise AssertionError(entity_id)


def test_label_edit_is_incremental_and_byte_identical(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, s = work
    facts = corpus / "src-000020" / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    at = text.index("en: '", text.index("entities:")) + len("en: '")
    facts.write_text(text[:at] + "Revised: " + text[at:], encoding="utf-8")
    rebuild_equals_full(s, tmp_path, monkeypatch)
    changed = build_release(s, jobs=1)
    assert incremental.last_run[0] == "incremental" and changed.changed == []  # nothing left to do


def test_label_of_a_shared_entity_reaches_the_sources_that_link_to_it(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A region's and a field's labels are keywords of every dataset that links to them."""
    corpus, s = work
    before = tree(s.release_dir)
    for eid in ("region-1", "field-4"):
        facts = definer(corpus, eid)
        text = facts.read_text(encoding="utf-8")
        at = text.index("en: '", text.index(f"- id: '{eid}'")) + len("en: '")
        facts.write_text(text[:at] + "Renamed " + text[at:], encoding="utf-8")
    rebuild_equals_full(s, tmp_path, monkeypatch)
    after = tree(s.release_dir)
    assert before["catalog.ttl"].count(b"Renamed") == 0
    assert after["catalog.ttl"].count(b"Renamed") > 2  # the field's and region's own nodes and keywords


def test_a_new_link_moves_turtle_blocks(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Turtle orders subjects by how often they are objects: one more link to a field moves it."""
    corpus, s = work
    facts = next(f for f in sorted(corpus.glob("*/facts.yaml"))[20:] if "field: [" in f.read_text(encoding="utf-8"))
    text = facts.read_text(encoding="utf-8")
    m = re.search(r"field: \[([^\]]*)\]", text)
    assert m is not None
    present = set(re.findall(r"'(field-\d+)'", m.group(1)))
    extra = next(f"field-{i}" for i in range(20) if f"field-{i}" not in present)
    facts.write_text(text[: m.start(1)] + f"'{extra}', " + text[m.start(1) :], encoding="utf-8")
    rebuild_equals_full(s, tmp_path, monkeypatch)


def test_removing_and_adding_a_source(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, s = work
    last = sorted(p for p in corpus.iterdir() if p.is_dir())[-1]
    kept = tmp_path / "kept"
    shutil.move(last, kept)
    rebuild_equals_full(s, tmp_path, monkeypatch)
    shutil.move(kept, last)
    rebuild_equals_full(s, tmp_path, monkeypatch)


def test_an_error_falls_back_to_the_full_report_and_keeps_the_release(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, s = work
    before = tree(s.release_dir)
    facts = corpus / "src-000010" / "facts.yaml"
    original = facts.read_text(encoding="utf-8")
    edit(facts, "rightsHolder: '", "rightsHolder: 'no-such-")
    with pytest.raises(DataError) as exc:
        build_release(s, jobs=1)
    assert incremental.last_run[0] == "full"
    assert incremental.last_run[1].startswith("a problem across sources: unknown reference 'no-such-")
    assert any("unknown reference 'no-such-" in r.message for r in exc.value.report.results)
    assert tree(s.release_dir) == before
    facts.write_text(original, encoding="utf-8")  # same content, new file stats: nothing to do
    rel = build_release(s, jobs=1)
    assert incremental.last_run[0] == "incremental" and rel.changed == []
    assert tree(s.release_dir) == before


def test_a_release_edited_by_hand_is_rebuilt_in_full(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, s = work
    (s.release_dir / "policy.ttl").write_bytes(b"# edited\n")
    edit(corpus / "src-000005" / "facts.yaml", "en: '", "en: 'Edited ")
    how = rebuild_equals_full(s, tmp_path, monkeypatch, path="full")
    assert "not the one this state describes" in how[1]


def test_check_uses_the_state_and_reports_a_stale_release(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.errors import ReleaseMismatch

    corpus, s = work
    assert build_release(s, check=True, jobs=1).changed == []
    assert incremental.last_run[0] == "incremental"
    edit(corpus / "src-000007" / "facts.yaml", "en: '", "en: 'Stale ")
    before = tree(s.release_dir)
    with pytest.raises(ReleaseMismatch) as exc:
        build_release(s, check=True, jobs=1)
    assert incremental.last_run[0] == "incremental"
    assert "differs: policy.ttl" in str(exc.value)
    assert tree(s.release_dir) == before


def test_project_and_dcat_ap_shapes_are_local() -> None:
    assert incremental.local_shapes(load_schema_graph(REPO / "schema" / "shapes.ttl")) is None
    assert incremental.local_shapes(dcat_ap_shapes(REPO / "schema" / SHAPES)) is None


NODE = "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p .", "targetObjectsOf"),
        (
            NODE + "sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .",
            "path",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node ex:T ] . "
            "ex:T a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
            "nested shape",
        ),
        (
            NODE + 'sh:sparql [ sh:select "SELECT $this WHERE { ?x ex:p $this }" ] .',
            "beyond the focus node",
        ),
        (
            NODE + 'sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p/ex:q ?v }" ] .',
            "beyond the focus node",
        ),
    ],
)
def test_shapes_that_look_beyond_a_node_are_not_local(shape: str, reason: str) -> None:
    g = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n" + shape,
        format="turtle",
    )
    why = incremental.local_shapes(g)
    assert why is not None and reason in why


def test_a_local_sparql_constraint_is_accepted() -> None:
    g = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        'ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:select """SELECT $this ?value WHERE {'
        ' $this ex:a ?s ; ex:b ?value . FILTER (?value < ?s) }""" ] .',
        format="turtle",
    )
    assert incremental.local_shapes(g) is None


@pytest.mark.parametrize("seed", [31, 32])
def test_per_unit_validation_finds_exactly_the_whole_graphs_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """The locality argument, checked: each unit validated alone, with the types of what it links
    to as context and its own subjects as focus, gives together the results of the whole graph
    (on a corpus with SHACL defects: wrong date types and classes, reversed periods, labels)."""
    from rdflib import Graph

    from toolkit.build import pipeline
    from toolkit.validate.shacl import validate_data

    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    kinds = ("wrong-date-type", "wrong-class", "period-reversed", "missing-label")
    corpus = write_corpus(tmp_path / "src", seed=seed, sources=80, defect_rate=0.6, defects=kinds).out
    units = [u for u in pipeline.collect_units(settings(tmp_path, corpus)) if u.nt is not None]
    shapes = load_schema_graph(REPO / "schema" / "shapes.ttl")
    onto_nt = load_schema_graph(REPO / "schema" / "ontology.ttl").serialize(format="nt", encoding="utf-8")

    def key(r: object) -> tuple[str, ...]:
        fields = ("focus_node", "path", "constraint", "value", "shape", "severity", "message")
        return tuple(str(getattr(r, k)) for k in fields)

    ontology = Graph().parse(data=onto_nt, format="nt")
    whole, _report = validate_data(b"".join(u.nt for u in units if u.nt), shapes, ontology)
    assert len({r.constraint for r in whole}) >= 2  # the defects are there

    owner = {s: u for u in units for s in u.subjects}
    parts = []
    for u in units:
        context = [
            ln
            for iri in u.external
            if iri in owner
            for ln in owner[iri].line_list()
            if ln.startswith(f"<{iri}> <{RDF.type}> ")
        ]
        parts += incremental.fragment_results(shapes, ontology, u.line_list(), context, set(u.subjects))
    assert sorted(map(key, parts)) == sorted(map(key, whole))


def test_a_damaged_cache_entry_of_the_old_version_falls_back_to_the_full_build(
    work: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old version of a changed source is read from the cache: damaged, the full build runs."""
    corpus, s = work
    state = incremental.load_state(s)
    assert state is not None
    folder = corpus / "src-000012"
    old_key = state.folders[str(folder)][1]
    damage_part(next((tmp_path / "cache" / "units").rglob(f"{old_key}.pickle")), "ttl")
    edit(folder / "facts.yaml", "en: '", "en: 'Damaged ")
    how = rebuild_equals_full(s, tmp_path, monkeypatch, path="full")
    assert f"{old_key}.pickle.parts (ttl)" in how[1]


def test_a_release_with_shacl_warnings_is_always_rebuilt_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results to report (here a warning that does not block the release) need the full build's
    report; the state says so, and every rebuild is a full one until the report is clean."""
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    shapes = tmp_path / "schema"
    shutil.copytree(REPO / "schema", shapes)
    text = (shapes / "shapes.ttl").read_text(encoding="utf-8")
    extra = (
        "\nptsh:WarnTwoLabels a sh:NodeShape ; sh:targetClass pt:EvidencedResource ;\n"
        "    sh:property [ sh:path rdfs:label ; sh:maxCount 1 ; sh:severity sh:Warning ] .\n"
    )
    (shapes / "shapes.ttl").write_text(text + extra, encoding="utf-8")
    corpus = write_corpus(tmp_path / "sources", seed=11, sources=6).out
    s = dataclasses.replace(settings(tmp_path, corpus), schema_dir=shapes)
    rel = build_release(s, jobs=1)
    assert rel.report.counts()["Warning"] > 0
    edit(corpus / "src-000003" / "facts.yaml", "en: '", "en: 'Again ")
    build_release(s, jobs=1)
    assert incremental.last_run[0] == "full"
    assert "the report has results" in incremental.last_run[1]


def built_with_matchmaking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    """The real sources plus the G60 matchmaking fixture (its `subject:` entries describe the real
    sources' entities), built once: (settings, sources folder)."""
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "datasets" / "sources", sources)
    shutil.copytree(FIXTURES / "sources" / "jkb-2024-06-g60-matchmaking", sources / "jkb-2024-06-g60-matchmaking")
    s = settings(tmp_path, sources)
    build_release(s, jobs=1)
    return s, sources


def test_editing_what_a_source_says_about_another_sources_entity_equals_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: a `subject:` entry puts a subject in two sources' graphs; the rebuild after
    editing it is incremental (the two sources' units re-rendered merged, as the full build
    renders them) and gives the full build's bytes."""
    s, sources = built_with_matchmaking(tmp_path, monkeypatch)
    facts = sources / "jkb-2024-06-g60-matchmaking" / "facts.yaml"
    edit(
        facts, "  - subject: jiaxing\n    partOf: zhejiang\n", "  - subject: jiaxing\n    partOf: yangtze-river-delta\n"
    )
    rebuild_equals_full(s, tmp_path, monkeypatch)
    nt = (s.release_dir / "policy.nt").read_text(encoding="utf-8")
    assert (
        f"<{s.base_iri}jiaxing> <https://w3id.org/policy-toolkit/ontology#partOf> <{s.base_iri}yangtze-river-delta>"
        in nt
    )
    assert f"<{s.base_iri}jiaxing> <https://w3id.org/policy-toolkit/ontology#partOf> <{s.base_iri}zhejiang>" not in nt


@pytest.mark.parametrize(
    ("where", "old", "new", "problem"),
    [
        # a changed source's `subject:` entry names no entity
        ("jkb-2024-06-g60-matchmaking", "- subject: jiaxing\n", "- subject: jiaxin\n", "subject 'jiaxin' names no"),
        # a changed source renames an entity an unchanged source links to and describes
        ("cls-2025-12-yrd-innovation-centre", "jiaxing", "jiaxing-city", "unknown reference 'jiaxing' in partOf"),
        # a changed source's link closes a cycle through an unchanged source's entity
        (
            "cls-2025-12-yrd-innovation-centre",
            "  - id: jiaxing\n    type: City\n",
            "  - id: jiaxing\n    type: City\n    partOf: nanhu-district\n",
            "cyclic reference through partOf: jiaxing -> nanhu-district -> jiaxing",
        ),
    ],
)
def test_a_change_that_breaks_a_check_across_sources_is_reported_by_the_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, old: str, new: str, problem: str
) -> None:
    """The rebuild runs the full build's checks across sources on the changed units, and again
    on the unchanged units that link to or describe an id a change removed: each problem makes
    it fall back, and the full build reports it (the release is kept)."""
    s, sources = built_with_matchmaking(tmp_path, monkeypatch)
    before = tree(s.release_dir)
    facts = sources / where / "facts.yaml"
    facts.write_text(
        re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, facts.read_text(encoding="utf-8")), encoding="utf-8"
    )
    with pytest.raises(DataError) as exc:
        build_release(s, jobs=1)
    assert incremental.last_run[0] == "full"
    assert incremental.last_run[1].startswith("a problem across sources: "), incremental.last_run
    assert any(problem in r.message for r in exc.value.report.results), exc.value.report.results
    assert tree(s.release_dir) == before
