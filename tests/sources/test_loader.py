import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTICLE_ID, FIXTURES, Project

from toolkit.build.pipeline import collect_units
from toolkit.config import Settings
from toolkit.errors import LoadError
from toolkit.export.units import StageContext, process_folder
from toolkit.schema.model import load_model
from toolkit.sources.loader import MAX_PASSAGE_HINTS, DateLit, load_corpus
from toolkit.sources.text import MAX_PASSAGE_CHARS


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


# ------------------------------------------------------------------ issue 10: sources are regular files

SECRET = "root:x:0:0:secret-marker:/root:/bin/bash\n" * 50


def _secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "passwd"
    secret.write_text(SECRET)
    return secret


def _refused_everywhere(project: Project, match: str) -> LoadError:
    """The naive loader, the fast build and one per-source unit (the incremental rebuild's way
    in) all refuse, before anything of the linked file is read into a message."""
    with pytest.raises(LoadError, match=match) as info:
        load(project.settings)
    with pytest.raises(LoadError, match=match):
        collect_units(project.settings, jobs=1, cache=project.root / "cache")
    folder = project.facts.parent
    unit = process_folder(folder, StageContext(project.settings, "digest"), "key")
    assert isinstance(unit.load_error, LoadError) and re.search(match, unit.load_error.message)
    assert "secret-marker" not in str(info.value)
    return info.value


def test_linked_facts_file_is_refused(project: Project, tmp_path: Path) -> None:
    project.facts.unlink()
    project.facts.symlink_to(_secret(tmp_path))
    err = _refused_everywhere(project, "facts.yaml file facts.yaml is a symbolic link")
    assert err.file == str(project.facts)


def test_linked_archived_text_is_refused_with_the_facts_line(project: Project, tmp_path: Path) -> None:
    text = next(p for p in project.facts.parent.iterdir() if p.suffix == ".txt")
    text.unlink()
    text.symlink_to(_secret(tmp_path))
    err = _refused_everywhere(project, f"archived text {text.name} is a symbolic link")
    assert (err.file, err.line) == (str(project.facts), 6)  # the `text:` line of facts.yaml


def test_linked_source_folder_is_refused(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.copytree(FIXTURES / "sources" / "second-source", outside)
    link = project.settings.sources_dir / "second-source"
    link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(LoadError, match="the source folder is a symbolic link") as info:
        load(project.settings)
    assert info.value.file == str(link)


def test_archived_text_that_is_a_fifo_fails_at_once(project: Project) -> None:
    text = next(p for p in project.facts.parent.iterdir() if p.suffix == ".txt")
    text.unlink()
    os.mkfifo(text)
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "validate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "POLICY_TOOLKIT_ROOT": str(project.root)},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"facts.yaml:6: the archived text {text.name} is not a regular file" in done.stderr


def test_closest_passage_hints_are_few_and_short(project: Project) -> None:
    # every quote of the file made wrong: the report shows at most a few short hints
    text = project.facts.read_text(encoding="utf-8")
    project.facts.write_text(re.sub(r"(?m)^(      - ')", r"\1不在文中", text), encoding="utf-8")
    _, problems = load(project.settings)
    misses = [p for p in problems if p.validator == "evidence"]
    assert len(misses) > 20
    hints = [re.search(r"closest passage: '(.*)'$", p.message) for p in misses]
    shown = [h.group(1) for h in hints if h]
    assert len(shown) == MAX_PASSAGE_HINTS
    assert all(len(s) <= MAX_PASSAGE_CHARS + 2 for s in shown)
    assert all("shown for the first 5 quotes only" in p.message for p, h in zip(misses, hints, strict=True) if not h)


def test_impossible_date_names_the_focus_with_its_label(project: Project) -> None:
    project.edit_facts('    dateIssued: "2022-08"\n', '    dateIssued: "2022-13"\n')
    _, problems = load(project.settings)
    [problem] = problems
    assert "month" in problem.message and problem.path == "dateIssued"
    assert problem.focus_node == project.settings.base_iri + "yrd-innovation-community-action-plan"
    assert problem.focus_label == "三省一市共建长三角科技创新共同体行动方案(2022-2025年)"
