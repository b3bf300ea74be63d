from conftest import ARTICLE_ID, FIXTURES, Project

from toolkit.config import Settings
from toolkit.schema.model import load_model
from toolkit.sources.loader import DateLit, load_corpus


def load(settings: Settings):
    return load_corpus(settings, load_model(settings.schema_dir))


def test_real_article_loads_clean(repo_settings: Settings) -> None:
    corpus, problems = load(repo_settings)
    assert problems == []
    assert [s.id for s in corpus.sources] == [ARTICLE_ID]
    src = corpus.sources[0]
    # every quote is recorded with offsets that give the quote back from the archived text
    for ent in src.entities:
        assert ent.evidence, ent.id
        for span in ent.evidence:
            assert src.text[span.start : span.end] == span.quote
            assert src.body_start <= span.start < span.end <= src.body_end


def test_relative_dates_of_the_article_are_inferred(repo_settings: Settings) -> None:
    corpus, _ = load(repo_settings)
    decision = corpus.entities["yrd-st-coordination-decision"].values["entryIntoForce"][0]
    assert isinstance(decision, DateLit)
    assert (decision.value.lexical, decision.stated, decision.inferred) == ("2025-09-01", "今年9月1日", True)
    measures = corpus.entities["g60-source-of-innovation-measures"].values["datePublished"][0]
    assert measures.value.lexical == "2025-11"
    plan = corpus.entities["yrd-innovation-community-action-plan"].values["dateIssued"][0]
    assert (plan.value.precision, plan.inferred) == ("gYearMonth", False)


def test_second_source_needs_only_a_folder(project: Project) -> None:
    project.add_source(FIXTURES / "sources" / "second-source")
    corpus, problems = load(project.settings)
    assert problems == []
    assert sorted(s.id for s in corpus.sources) == [ARTICLE_ID, "test-second-source"]
    measures = corpus.entities["demonstration-zone-ai-measures"]
    assert measures.source_id == "test-second-source"
    assert measures.values["datePublished"][0].value.lexical == "2026-03"  # 本月 against 2026-03-15


def test_property_that_does_not_apply_is_named_with_owners(project: Project) -> None:
    project.edit_facts("    type: TransportRoute\n", "    type: TransportRoute\n    memberCount: 3\n")
    _, problems = load(project.settings)
    assert len(problems) == 1
    assert "'memberCount' does not apply to TransportRoute; it applies to: ConsortiumProgramme" in problems[0].message
    assert problems[0].line is not None


def test_cycles_are_reported(project: Project) -> None:
    project.edit_facts(
        "    subOrganisationOf: shanghai-peoples-congress\n",
        "    subOrganisationOf: shanghai-legislative-affairs-commission\n",
    )
    _, problems = load(project.settings)
    assert [p.validator for p in problems] == ["facts"]
    assert "cyclic reference through subOrganisationOf" in problems[0].message


def test_stated_date_and_value_must_agree(project: Project) -> None:
    project.edit_facts(
        "entryIntoForce: {stated: 今年9月1日}", 'entryIntoForce: {stated: 今年9月1日, value: "2025-09-02"}'
    )
    _, problems = load(project.settings)
    assert len(problems) == 1
    assert "resolves to 2025-09-01" in problems[0].message and "2025-09-02" in problems[0].message


def test_unresolvable_relative_date_asks_for_a_value(project: Project) -> None:
    project.edit_facts("forYear: {stated: 明年}", "forYear: {stated: 不久的将来}")
    _, problems = load(project.settings)
    assert "cannot resolve the relative date '不久的将来'; add value:" in problems[0].message
