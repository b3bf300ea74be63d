"""Issue 13 on the two fictional test articles in tests/fixtures (never the release):
events, places within places, quantities, article metadata, periods, and what one source says
about another source's entity. Expected answers come from the loaded facts, not from the text
of the tests: a wrong query or a wrong rendering fails, a facts change it gets right passes.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FIXTURES, REPO, Project
from oracle import release_outcome

from toolkit.build import build_release
from toolkit.config import Settings, load_settings
from toolkit.graph.iris import named_graph as graph_iri
from toolkit.publish.release import Release
from toolkit.query import Result, find_query, run_query
from toolkit.report import ValidationResult
from toolkit.schema.model import load_model
from toolkit.sources.loader import Corpus, DateLit, Entity, LangText, PlainLit, RefValue, load_corpus
from toolkit.validate import Outcome

MATCHMAKING = "jkb-2024-06-g60-matchmaking"
ENCLAVE = "wng-2025-03-langxi-enclave"
PT = "https://w3id.org/policy-toolkit/ontology#"


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Outcome, Release, ox.Store]:
    proj = Project(tmp_path_factory.mktemp("two-articles") / "project")
    proj.add_source(FIXTURES / "sources" / MATCHMAKING)
    proj.add_source(FIXTURES / "sources" / ENCLAVE)
    settings = load_settings(proj.root)
    outcome = release_outcome(settings)
    assert outcome.report.conforms, outcome.report.to_text() if hasattr(outcome.report, "to_text") else ""
    release = build_release(settings)  # the one pipeline; the oracle's outcome gives the loaded corpus
    store = ox.Store()
    store.load(release.files["policy.nq"], format=ox.RdfFormat.N_QUADS)
    return settings, outcome, release, store


def corpus_of(two: tuple[Settings, Outcome, Release, ox.Store]) -> Corpus:
    corpus = two[1].corpus
    assert corpus is not None
    return corpus


def run(two: tuple[Settings, Outcome, Release, ox.Store], name: str, **params: str) -> list[dict[str, str | None]]:
    q = find_query(name, REPO / "queries")
    result: Result = run_query(two[3], q.text, params, declared=q.params, base_iri=two[0].base_iri, source=str(q.path))
    return list(result.records())


def refs(ent: Entity, key: str) -> list[str]:
    return [v.id for v in ent.values.get(key, []) if isinstance(v, RefValue)]


def zh(corpus: Corpus, entity_id: str) -> str:
    return next(
        v.text for v in corpus.entities[entity_id].values["label"] if isinstance(v, LangText) and v.lang == "zh"
    )


def quads(release: Release) -> set[tuple[str, str, str, str]]:
    ds = ox.Dataset(ox.parse(release.files["policy.nq"], format=ox.RdfFormat.N_QUADS))
    return {(q.subject.value, q.predicate.value, q.object.value, q.graph_name.value) for q in ds}


def load(proj: Project) -> list[ValidationResult]:
    """The loader's problems only (no SHACL): quick."""
    settings = load_settings(proj.root)
    return load_corpus(settings, load_model(settings.schema_dir))[1]


# ---------------------------------------------------------------- events


def test_events_query_gives_place_roles_mode_and_series(two) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_of(two)
    rows = {r["event"]: r for r in run(two, "events")}
    meetings = [e for e in corpus.entities.values() if "Meeting" in e.types]
    assert {two[0].base_iri + m.id for m in meetings} <= set(rows)
    for m in meetings:
        row = rows[two[0].base_iri + m.id]
        for column, key in [
            ("place_zh", "location"),
            ("lead_zh", "leadOrganiser"),
            ("co_organisers_zh", "coOrganiser"),
            ("chair_zh", "chair"),
            ("participants_zh", "participant"),
            ("series_zh", "partOfSeries"),
        ]:
            want = sorted(zh(corpus, r) for r in refs(m, key))
            got = sorted(row[column].split("；")) if row[column] else []
            assert got == want, (m.id, column)
        mode = [v.value for v in m.values.get("attendanceMode", []) if isinstance(v, PlainLit)]
        assert row["mode"] == (mode[0] if mode else None)
    # the article's own words: a mixed meeting chaired by the joint office's director
    third = rows[two[0].base_iri + "g60-matchmaking-2024"]
    assert (third["mode"], third["chair_zh"], third["place_zh"]) == ("mixed", "陈志远", "南湖区")


def test_tasks_can_be_set_by_a_meeting_or_by_a_statement(two) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_of(two)
    setters = {
        t: corpus.entities[refs(corpus.entities[t], "setBy")[0]].types
        for t in ("task-service-catalogue", "task-pilot-platforms")
    }
    assert setters == {"task-service-catalogue": ("Meeting",), "task-pilot-platforms": ("Statement",)}
    assert two[1].report.conforms  # the shapes accept a Statement as what set a task


# ---------------------------------------------------------------- places


def within(corpus: Corpus, place: str) -> set[str]:
    parents: dict[str, set[str]] = {}
    for e in corpus.entities.values():
        for p in refs(e, "partOf"):
            parents.setdefault(e.id, set()).add(p)
        for m in refs(e, "hasMember"):
            parents.setdefault(m, set()).add(e.id)
    for src in corpus.sources:  # statements about another source's entity count too
        for e in src.entities:
            if e.about:
                for p in refs(e, "partOf"):
                    parents.setdefault(e.id, set()).add(p)
    out: set[str] = set()
    for start in parents:
        todo, seen = [start], set()
        while todo:
            for p in parents.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        if place in seen and start != place:
            out.add(start)
    return out


@pytest.mark.parametrize("place", ["zhejiang", "anhui", "shanghai", "xuancheng"])
def test_places_within_follows_part_of_transitively(two, place: str) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_of(two)
    got = {r["within"].removeprefix(two[0].base_iri) for r in run(two, "places-within", place=place)}
    assert got == within(corpus, place)
    if place == "anhui":  # 郎溪县 ⊂ 宣城 (stated by one source) ⊂ 安徽 (stated by another)
        assert "langxi-county" in got


def test_a_group_of_places_acts_with_members_and_count(two) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_of(two)
    group = corpus.entities["g60-nine-cities"]
    assert set(group.types) == {"PlaceGroup"}
    count = next(v.value for v in group.values["memberCount"] if isinstance(v, PlainLit))
    assert count == len(refs(group, "hasMember")) == 9
    # it acts: a body's jurisdiction and a series' location
    assert refs(corpus.entities["nine-cities-science-departments"], "jurisdiction") == ["g60-nine-cities"]


# ---------------------------------------------------------------- quantities


def test_quantities_query_by_entity_with_sources(two) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_of(two)
    base = two[0].base_iri
    for about in ("g60-nine-cities", "g60-matchmaking-2024", "langxi-enclave", "g60-corridor"):
        want = set()
        for src in corpus.sources:
            for e in src.entities:
                if "Quantity" in e.types and about in refs(e, "about"):
                    amount = next(v.value for v in e.values["amount"] if isinstance(v, PlainLit))
                    as_of = next((v.value.lexical for v in e.values.get("asOf", []) if isinstance(v, DateLit)), None)
                    qual = next((v.value for v in e.values.get("qualifier", []) if isinstance(v, PlainLit)), None)
                    want.add((base + e.id, float(amount), qual, as_of, base + "source/" + src.id))
        got = {
            (r["quantity"], float(r["amount"] or "nan"), r["qualifier"], r["as_of"], r["source"])
            for r in run(two, "quantities", about=about)
        }
        assert got == want and want, about


def test_chinese_numerals_and_qualifiers_are_read(two) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_of(two)

    def amount(i: str) -> object:
        return next(v.value for v in corpus.entities[i].values["amount"] if isinstance(v, PlainLit))

    assert (amount("q-g60-cities"), amount("q-enclave-projects"), amount("q-pilot-platform-target")) == (9, 105, 20)
    lines = two[2].files["policy.nt"].decode()
    assert (
        f'<{two[0].base_iri}q-enclave-projects> <{PT}amount> "105.0"^^<http://www.w3.org/2001/XMLSchema#decimal>'
        in lines
    )


# ---------------------------------------------------------------- article metadata


def test_article_metadata_is_published_and_in_the_sources_table(two) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(two[2].files["csv/sources.csv"].decode()))}
    row = rows[two[0].base_iri + "source/" + MATCHMAKING]
    assert row["url"] == "https://www.jiangnan-keji.example/news/2024/0618/g60.html"
    assert row["author"] == two[0].base_iri + "lin-xiaozhou"
    assert row["editor"] == two[0].base_iri + "zhou-hui"
    assert row["publisher"] == two[0].base_iri + "jiangnan-keji-bao"
    assert row["platform"] == two[0].base_iri + "yrd-info-platform"
    assert row["retrievedOn"] == "2024-06-20"


# ---------------------------------------------------------------- periods in the release


def resolution(two, entity: str, prop: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    node = f"{two[0].base_iri}inferred-date/{entity}-{prop}"
    return {p.removeprefix(PT): o for s, p, o, _g in quads(two[2]) if s == node}


def test_resolutions_keep_the_words_and_mark_periods(two) -> None:  # type: ignore[no-untyped-def]
    since = resolution(two, "g60-matchmaking-series", "startDate")
    assert (since["statedText"], since["openEnded"], since["datePrecision"]) == ("2022年起", "true", "period")
    assert "periodEnd" not in since
    vague = resolution(two, "enclave-progress-meeting", "startDate")
    assert (vague["statedText"], vague["datePrecision"], vague["periodStart"], vague["periodEnd"]) == (
        "近日",
        "approximate",
        "2025-02-03",
        "2025-03-05",
    )
    until = resolution(two, "langxi-songjiang-agreement", "validUntil")
    assert (until["resolvedValue"], until["periodStart"], until["periodEnd"]) == ("2027", "2025", "2027")
    five = resolution(two, "q-enclave-years", "asOf")
    assert (five["statedText"], five["resolvedValue"], five["periodStart"]) == ("五周年", "2025-03", "2020-03")
    plan = resolution(two, "q-pilot-platform-target", "asOf")
    assert (plan["periodStart"], plan["periodEnd"], plan["resolvedValue"]) == ("2021", "2025", "2025")


# ---------------------------------------------------------------- one source about another's entity


def test_statements_about_another_sources_entity_live_in_the_asserting_graph(two) -> None:  # type: ignore[no-untyped-def]
    base = two[0].base_iri
    q = quads(two[2])
    part_of = {(s, o, g) for s, p, o, g in q if p == PT + "partOf" and s == base + "jiaxing"}
    assert part_of == {(base + "jiaxing", base + "zhejiang", graph_iri(base, MATCHMAKING))}
    # the evidence of that statement is the asserting source's, with its own IRI
    ev = {o for s, p, o, g in q if s == base + "jiaxing" and p == PT + "evidence" and g == graph_iri(base, MATCHMAKING)}
    assert ev and all(f"jiaxing-by-{MATCHMAKING}" in e for e in ev)
    assert {o for s, p, o, g in q if s in ev and p == PT + "inSource"} == {base + "source/" + MATCHMAKING}


def test_removing_the_asserting_source_removes_exactly_its_triples(two, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = two[0].base_iri
    proj = Project(tmp_path / "one")
    proj.add_source(FIXTURES / "sources" / MATCHMAKING)
    settings = load_settings(proj.root)
    alone = build_release(settings)
    with_enclave = quads(two[2])
    without = quads(alone)
    enclave_graph = graph_iri(base, ENCLAVE)
    assert with_enclave - without == {x for x in with_enclave if x[3] == enclave_graph}
    assert "partOf" in {p.removeprefix(PT) for s, p, _o, g in with_enclave - without if s == base + "xuancheng"}


def test_two_sources_disagreeing_on_a_single_valued_property_are_both_kept(two) -> None:  # type: ignore[no-untyped-def]
    base = two[0].base_iri
    rows = [
        r
        for r in run(two, "who-says-what-about", entity="yrd-innovation-consortia")
        if r["property"] == PT + "startYear"
    ]
    assert {(r["source"].removeprefix(base + "source/"), r["value"], r["how"], r["conflict"]) for r in rows} == {
        ("cls-2025-12-yrd-innovation-centre", "2024", "triple", "true"),
        (ENCLAVE, "2023", "claim", "true"),
    }
    # a multi-valued property added by another source is a plain triple, not a conflict
    rows = run(two, "who-says-what-about", entity="g60-corridor")
    added = {r["value"] for r in rows if r["property"] == PT + "linksCity" and r["source"].endswith(MATCHMAKING)}
    assert added == {base + c for c in ("huzhou", "xuancheng", "wuhu", "hefei")}
    assert all(r["conflict"] == "false" for r in rows)


def test_duplicate_id_names_the_file_being_added_with_a_hint(tmp_path: Path) -> None:
    proj = Project(tmp_path / "dup")
    proj.add_source(FIXTURES / "sources" / MATCHMAKING)
    facts = proj.root / "datasets" / "sources" / MATCHMAKING / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    facts.write_text(
        text.replace("  - subject: jiaxing\n", "  - id: jiaxing\n    type: City\n    label: {zh: 嘉兴, en: Jiaxing}\n"),
        encoding="utf-8",
    )
    dups = [r for r in load(proj) if "duplicate id 'jiaxing'" in r.message]
    assert len(dups) == 1
    assert dups[0].source_file == f"datasets/sources/{MATCHMAKING}/facts.yaml"
    assert f"in datasets/sources/{MATCHMAKING}/facts.yaml" in dups[0].message
    assert "- subject: jiaxing" in dups[0].message


def test_a_subject_that_names_nothing_or_a_wrong_property_is_reported(tmp_path: Path) -> None:
    proj = Project(tmp_path / "bad")
    proj.add_source(FIXTURES / "sources" / MATCHMAKING)
    facts = proj.root / "datasets" / "sources" / MATCHMAKING / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    text = text.replace("  - subject: jiaxing\n", "  - subject: jiaxingg\n")
    text = text.replace(
        "  - subject: g60-corridor\n    linksCity:", "  - subject: g60-corridor\n    recurrence: yearly\n    linksCity:"
    )
    facts.write_text(text, encoding="utf-8")
    messages = [r.message for r in load(proj)]
    assert any("subject 'jiaxingg' names no entity; did you mean 'jiaxing'?" in m for m in messages), messages
    assert any("'recurrence' does not apply to Corridor 'g60-corridor'" in m for m in messages), messages


def test_the_catalog_counts_a_sources_entries_and_quotes_not_its_claims(two) -> None:  # type: ignore[no-untyped-def]
    import yaml

    raw = yaml.safe_load((FIXTURES / "sources" / ENCLAVE / "facts.yaml").read_text(encoding="utf-8"))
    entries = raw["entities"]
    quotes = sum(len(e["evidence"]) for e in entries)
    catalog = two[2].files["catalog.ttl"].decode()
    assert (
        f"{len(entries)} facts curated from 'Langxi County's science enclave turns five', with {quotes} verbatim"
        in catalog
    )
