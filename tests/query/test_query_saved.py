"""Every saved query, run on the real release, gives exactly the answer the facts imply.

The expected answers are computed here from the loaded corpus (the facts files as the loader
reads them) and the model, never written out by hand: a facts change that a query gets wrong
fails its test, and a facts change it gets right passes without editing the test.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import REPO

from toolkit.config import Settings
from toolkit.publish.release import Release
from toolkit.query import Result, find_query, run_query, saved_queries
from toolkit.query.sparqltext import variables
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus, DateLit, Entity, IriValue, LangText, PlainLit, RefValue, Value
from toolkit.validate import Outcome

QUERIES = REPO / "queries"
REQUIRED = {
    "centres-and-regions",
    "policies-in-force",
    "issued-by",
    "g60-cities",
    "consortia-fields",
    "who-said-what",
    "facts-with-evidence",
    "timeline",
}
DAYS = ["2021-12-31", "2022-01-01", "2025-08-31", "2025-09-01", "2025-12-31", "2026-01-01"]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def store(real_release: Release) -> ox.Store:
    """The real release's dataset (policy.nq, as the build makes it) in an embedded store."""
    s = ox.Store()
    s.load(real_release.files["policy.nq"], format=ox.RdfFormat.N_QUADS)
    return s


@pytest.fixture(scope="module")
def corpus(real_outcome: Outcome) -> Corpus:
    assert real_outcome.corpus is not None
    return real_outcome.corpus


@pytest.fixture(scope="module")
def model(real_outcome: Outcome) -> Model:
    return real_outcome.model


def run(store: ox.Store, settings: Settings, name: str, **params: str) -> Result:
    q = find_query(name, QUERIES)
    return run_query(store, q.text, params, declared=q.params, base_iri=settings.base_iri, source=str(q.path))


def rows(result: Result) -> list[tuple[str | None, ...]]:
    return [tuple(r.values()) for r in result.records()]


def refs(ent: Entity, key: str) -> list[str]:
    return [v.id for v in ent.values.get(key, []) if isinstance(v, RefValue)]


def text(ent: Entity, key: str, lang: str) -> str | None:
    return next((v.text for v in ent.values.get(key, []) if isinstance(v, LangText) and v.lang == lang), None)


def plain(ent: Entity, key: str) -> str | None:
    for v in ent.values.get(key, []):
        if isinstance(v, PlainLit):
            return ("true" if v.value else "false") if v.kind == "boolean" else str(v.value)
        if isinstance(v, DateLit):
            return v.value.lexical
    return None


def of_class(corpus: Corpus, model: Model, cls: str) -> list[Entity]:
    return [e for e in corpus.entities.values() if any(cls in model.ancestors(t) for t in e.types)]


def iri(settings: Settings, entity_id: str) -> str:
    return settings.base_iri + entity_id


def label(corpus: Corpus, entity_id: str, lang: str = "zh") -> str | None:
    return text(corpus.entities[entity_id], "label", lang)


def first_day(lexical: str) -> date:
    parts = [int(p) for p in lexical.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def last_day(lexical: str) -> date:
    parts = [int(p) for p in lexical.split("-")]
    if len(parts) == 3:
        return date(*parts)
    month = parts[1] if len(parts) > 1 else 12
    return date(parts[0], month, calendar.monthrange(parts[0], month)[1])


def in_force(ent: Entity, day: str) -> tuple[str, str | None] | None:
    """(from, until) lexical forms when the document is in force on ``day``: plain date arithmetic."""
    start = plain(ent, "entryIntoForce") or plain(ent, "validFrom")
    until = plain(ent, "validUntil")
    if start is None:
        return None
    d = date.fromisoformat(day)
    if first_day(start) <= d and (until is None or d <= last_day(until)):
        return start, until
    return None


def nonempty(values: Iterable[object]) -> bool:
    return any(True for _ in values)


# ---------------------------------------------------------------- the catalogue itself


def test_the_required_saved_queries_exist_with_full_headers() -> None:
    queries = {q.name: q for q in saved_queries(QUERIES)}
    assert set(queries) >= REQUIRED
    for q in queries.values():
        assert q.title["zh"] and q.title["en"] and q.answers, q.name
        # every declared parameter is a variable of the query, so binding it changes something
        for p in q.params:
            assert p.name in variables(q.text), (q.name, p.name)


# ---------------------------------------------------------------- one test per saved query


def test_centres_and_regions(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings
    expected = []
    for c in of_class(corpus, model, "InnovationCentre"):
        for a, r in itertools.product(refs(c, "anchoredIn") or [None], refs(c, "servesRegion") or [None]):
            expected.append(
                (
                    iri(s, c.id),
                    label(corpus, c.id),
                    a and iri(s, a),
                    a and label(corpus, a),
                    r and iri(s, r),
                    r and label(corpus, r),
                    r and label(corpus, r, "en"),
                )
            )
    expected.sort(key=lambda row: tuple(x or "" for x in (row[0], row[2], row[4])))
    got = rows(run(store, s, "centres-and-regions"))
    assert got == expected
    assert len(got) == 3  # the article names three centres, each serving one region


def test_policies_in_force_on_a_date(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings
    documents = of_class(corpus, model, "PolicyDocument")
    for day in DAYS:
        expected = []
        for doc in documents:
            span = in_force(doc, day)
            if span is None:
                continue
            for t in doc.types:
                if "PolicyDocument" in model.ancestors(t):
                    expected.append((iri(s, doc.id), label(corpus, doc.id), model.class_iri(t), span[0], span[1]))
        expected.sort(key=lambda row: (row[3], row[0]))
        assert rows(run(store, s, "policies-in-force", date=day)) == expected, day
    # the article's own claims: the decision is in force from 2025-09-01; the 2022-2025 plan ends with 2025
    names = {r[0] for r in rows(run(store, s, "policies-in-force", date="2025-12-31"))}
    assert names == {iri(s, "yrd-st-coordination-decision"), iri(s, "yrd-innovation-community-action-plan")}
    names = {r[0] for r in rows(run(store, s, "policies-in-force", date="2026-01-01"))}
    assert names == {iri(s, "yrd-st-coordination-decision")}


def test_in_force_on_agrees_with_the_dates(
    store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model
) -> None:
    for doc in of_class(corpus, model, "PolicyDocument"):
        for day in DAYS:
            answer = run(store, repo_settings, "in-force-on", document=doc.id, date=day)
            assert answer.kind == "ask"
            assert answer.boolean is (in_force(doc, day) is not None), (doc.id, day)


def test_issued_by(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings

    def ancestors(org: str) -> list[str]:
        out, todo = [], [org]
        while todo:
            cur = todo.pop()
            if cur not in out:
                out.append(cur)
                todo.extend(refs(corpus.entities[cur], "subOrganisationOf"))
        return out

    keys = [k for k, p in model.properties.items() if k == "issuedBy" or "pt:issuedBy" in p.sub_property_of]
    assert set(keys) == {"issuedBy", "enactedBy"}
    expected = []
    for doc in corpus.entities.values():
        for key in keys:
            for issuer in refs(doc, key):
                for body in ancestors(issuer):
                    relation = model.properties[key].label["en"]
                    expected.append(
                        (
                            iri(s, body),
                            label(corpus, body),
                            iri(s, doc.id),
                            label(corpus, doc.id),
                            relation,
                            iri(s, issuer),
                        )
                    )
    expected.sort(key=lambda r: (r[0], r[2], r[5], r[4]))
    assert rows(run(store, s, "issued-by")) == expected
    bodies = {r[0] for r in expected}
    for body in [*sorted(bodies), iri(s, "shanghai-npc-standing-committee")]:
        only = [r for r in expected if r[0] == body]
        assert rows(run(store, s, "issued-by", body=body.removeprefix(s.base_iri))) == only, body
    # the four congresses put the decision forward ("共同研究推出"): issuedBy, not the stronger
    # enactedBy the text does not say (issue 17); enactedBy is still found as a sub-property
    decision = [r for r in expected if r[2] == iri(s, "yrd-st-coordination-decision")]
    assert {r[4] for r in decision} == {"issued by"} and len(decision) == 4


def test_g60_cities(store: ox.Store, repo_settings: Settings, corpus: Corpus) -> None:
    s = repo_settings
    corridor = corpus.entities["g60-corridor"]
    routes = [label(corpus, r) for r in refs(corridor, "follows")] or [None]
    expected = sorted(
        (
            (iri(s, c), label(corpus, c), label(corpus, c, "en"), route)
            for c in refs(corridor, "linksCity")
            for route in routes
        ),
        key=lambda r: (r[2] or "", r[3] or ""),
    )
    assert rows(run(store, s, "g60-cities")) == expected
    assert rows(run(store, s, "g60-cities", corridor="g60-corridor")) == expected
    assert {r[1] for r in expected} == {"上海", "苏州", "嘉兴", "杭州", "金华"}


def test_consortia_fields(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings
    expected = []
    for c in of_class(corpus, model, "ConsortiumProgramme"):
        for f in refs(c, "field") or [None]:
            expected.append(
                (
                    iri(s, c.id),
                    label(corpus, c.id),
                    plain(c, "memberCount"),
                    plain(c, "startYear"),
                    plain(c, "isPilot"),
                    f and iri(s, f),
                    f and label(corpus, f),
                    f and label(corpus, f, "en"),
                )
            )
    expected.sort(key=lambda r: (r[0], r[7] or ""))
    got = rows(run(store, s, "consortia-fields"))
    assert got == expected
    assert {r[2] for r in got} == {"24"}


def test_who_said_what(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings
    roles: dict[str, set[str]] = {}
    for aff in of_class(corpus, model, "Affiliation"):
        for member in refs(aff, "member"):
            for org in refs(aff, "organisation"):
                roles.setdefault(member, set()).add(f"{label(corpus, org)}{text(aff, 'roleLabel', 'zh')}")
    expected = []
    for st in of_class(corpus, model, "Statement"):
        speaker = refs(st, "speaker")[0]
        medium = (refs(st, "medium") or [None])[0]
        expected.append(
            (
                iri(s, st.id),
                iri(s, speaker),
                label(corpus, speaker),
                roles.get(speaker),
                text(st, "text", "zh"),
                plain(st, "isDirectQuote"),
                medium and iri(s, medium),
                medium and label(corpus, medium),
            )
        )
    expected.sort(key=lambda r: (r[1], r[0]))

    def normalised(result: Result) -> list[tuple[object, ...]]:
        return [(*r[:3], set(r[3].split("；")) if r[3] else None, *r[4:]) for r in rows(result)]

    assert normalised(run(store, s, "who-said-what")) == expected
    chen = [r for r in expected if r[1] == iri(s, "chen-xian")]
    assert normalised(run(store, s, "who-said-what", speaker="chen-xian")) == chen
    assert chen and all(len(r[3] or ()) == 2 for r in chen)  # professor and research fellow


def test_facts_with_evidence(store: ox.Store, repo_settings: Settings, corpus: Corpus) -> None:
    s = repo_settings
    expected = []
    for src in corpus.sources:
        source = s.base_iri + "source/" + src.id
        for ent in src.entities:
            # an article's claim (issue 17) has the quotes of its entry and no label of its own
            name = label(corpus, ent.id) if ent.id in corpus.entities else None
            for n, span in enumerate(ent.evidence, start=1):
                ev = f"{s.base_iri}evidence/{ent.key}-{n}"
                row = (iri(s, ent.id), name, span.quote, str(span.start), str(span.end), source)
                expected.append((*row, src.article.label("zh"), ev))
    expected.sort(key=lambda r: (r[5], r[0], int(r[3]), r[7]))
    expected_rows = [r[:7] for r in expected]
    assert rows(run(store, s, "facts-with-evidence")) == expected_rows
    assert len(expected_rows) == sum(len(e.evidence) for src in corpus.sources for e in src.entities)
    one = corpus.sources[0].id
    assert rows(run(store, s, "facts-with-evidence", source=f"source/{one}")) == [
        r for r in expected_rows if r[5].endswith("/" + one)
    ]
    assert rows(run(store, s, "facts-with-evidence", contains="G60")) == [r for r in expected_rows if "G60" in r[2]]


def test_timeline(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings
    expected = []
    for src in corpus.sources:
        things = [(s.base_iri + "source/" + src.id, src.article), *((iri(s, e.id), e) for e in src.entities)]
        for subject, ent in things:
            for key, values in ent.values.items():
                for v in values:
                    if isinstance(v, DateLit):
                        prop = model.properties[key]
                        row = (v.value.lexical, prop.label["en"], subject, ent.label("zh"), v.stated)
                        expected.append((row, prop.iri))
    expected.sort(key=lambda r: (r[0][0], r[0][2], r[1]))
    got = rows(run(store, s, "timeline"))
    assert got == [r for r, _ in expected]
    assert [r[0] for r in got] == sorted(r[0] for r in got)  # in order
    decision = [r for r in got if r[2] == iri(s, "yrd-st-coordination-decision")]
    assert decision == [("2025-09-01", "entry into force", decision[0][2], decision[0][3], "今年9月1日")]


def test_inferred(store: ox.Store, repo_settings: Settings, corpus: Corpus, model: Model) -> None:
    s = repo_settings
    methods = {model.ns + c: d[0]["en"] for c, d in model.schemes["inferenceMethods"].concepts.items()}

    def shown(v: Value) -> str:
        if isinstance(v, RefValue):
            return iri(s, v.id)
        if isinstance(v, LangText):
            return v.text
        if isinstance(v, DateLit):
            return v.value.lexical
        if isinstance(v, IriValue):
            return v.iri
        return str(v.value)

    def en(texts: Iterable[LangText]) -> str | None:
        return next((t.text for t in texts if t.lang == "en"), None)

    expected = []
    for src in corpus.sources:
        source = s.base_iri + "source/" + src.id
        for ent in [src.article, *src.entities]:
            node = source if ent is src.article else iri(s, ent.id)
            for m in ent.marks:
                prop = model.properties[m.prop].iri
                expected.append(
                    (node, prop, shown(m.value), "inferred", m.method, methods[m.method], en(m.note), source)
                )
            for key, values in ent.values.items():
                for v in values:
                    if isinstance(v, DateLit) and v.inferred:
                        relative = model.ns + "relative-date"
                        note = (v.note or {}).get("en")
                        row = (node, model.properties[key].iri, v.value.lexical, "inferred", relative)
                        expected.append((*row, methods[relative], note, source))
            if "inferenceMethod" in ent.values:  # a claim: the article's, not a fact
                method = shown(ent.values["inferenceMethod"][0])
                subject = iri(s, shown(ent.values["claimSubject"][0]).removeprefix(s.base_iri))
                prop = shown(ent.values["claimProperty"][0])
                for v in ent.values["claimValue"]:
                    note = en(t for t in ent.values.get("comment", []) if isinstance(t, LangText))
                    expected.append((subject, prop, shown(v), "claimed", method, methods[method], note, source))
    got = rows(run(store, s, "inferred"))
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert [r[:4] for r in got] == sorted(r[:4] for r in got)  # in order
    # the cases are there, each with its method
    how = {(r[0].removeprefix(s.base_iri), r[1].removeprefix(model.ns), r[4].removeprefix(model.ns)) for r in got}
    assert {
        ("designation-beijing-earlier", "usedIn", "carried-from-context"),
        ("designation-beijing-earlier", "literalForm", "expanded-from-coordination"),
        ("designation-beijing-jjj", "literalForm", "expanded-from-coordination"),
        ("xie-liangbing-view-joint-operations", "medium", "carried-from-context"),
        ("shanghai-standing-committee-meeting-2025-12-12", "endDate", "assumed-one-day-event"),
        ("source/cls-2025-12-yrd-innovation-centre", "rightsHolder", "presumed-from-credit-line"),
        ("fourteenth-five-year-plan", "datePublished", "attributed-claim"),
    } <= how
    one = rows(run(store, s, "inferred", entity="fourteenth-five-year-plan"))
    assert [r[1:5] for r in one] == [(model.ns + "datePublished", "2020", "claimed", model.ns + "attributed-claim")]


def test_describe(store: ox.Store, repo_settings: Settings, real_release: Release) -> None:
    s = repo_settings
    subject = iri(s, "g60-corridor")
    result = run(store, s, "describe", resource="g60-corridor")
    assert result.kind == "graph"
    got = {f"{t.subject} {t.predicate} {t.object} ." for t in result.triples}
    expected = {
        f"{q.subject} {q.predicate} {q.object} ."
        for q in ox.parse(real_release.files["policy.nq"], format=ox.RdfFormat.N_QUADS)
        if q.subject == ox.NamedNode(subject)
    }
    assert got == expected and nonempty(got)


def test_saved_queries_run_on_the_release_folder(
    repo_settings: Settings, real_release: Release, tmp_path: Path
) -> None:
    """The same answers come from the files of a release on disk (``load_store``), not only from memory."""
    from toolkit.query import load_store

    for rel, data in real_release.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    on_disk = load_store(repo_settings, tmp_path)
    in_memory = ox.Store()
    in_memory.load(real_release.files["policy.nq"], format=ox.RdfFormat.N_QUADS)
    for q in saved_queries(QUERIES):
        params = {
            p.name: "yrd-st-coordination-decision" if p.type == "entity" else "2025-12-31"
            for p in q.params
            if p.required
        }
        a = run(on_disk, repo_settings, q.name, **params)
        b = run(in_memory, repo_settings, q.name, **params)
        assert (a.rows, a.boolean, a.triples) == (b.rows, b.boolean, b.triples), q.name
