"""Messages that point at what to fix (issue 13): the property's line for a shape's problem,
"quote the value" for a label cut at an ASCII comma, suggestions only for close keys, and every
problem of a file in one run instead of one stage per run."""

from __future__ import annotations

from pathlib import Path

from conftest import Project

from toolkit.config import load_settings
from toolkit.report import ValidationResult
from toolkit.schema.model import load_model
from toolkit.sources.loader import load_corpus
from toolkit.validate import validate_sources
from toolkit.validate.shacl import ShaclValidator


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def load(proj: Project) -> list[ValidationResult]:
    settings = load_settings(proj.root)
    return load_corpus(settings, load_model(settings.schema_dir))[1]


def test_a_shape_problem_points_at_the_property_line(tmp_path: Path) -> None:
    proj = Project(tmp_path / "p")
    # a meeting chaired by a province: sh:class pt:Person fails on chair
    proj.edit_facts(
        "    convenedBy: cpc-shanghai-standing-committee\n",
        "    convenedBy: cpc-shanghai-standing-committee\n    chair: jiangsu\n",
    )
    outcome = validate_sources(load_settings(proj.root), [ShaclValidator()])
    found = [r for r in outcome.report.results if r.validator == "shacl" and (r.path or "").endswith("chair")]
    assert len(found) == 1
    assert found[0].line == line_of(proj.facts, "    chair: jiangsu")


def test_a_label_cut_at_an_ascii_comma_says_to_quote_it(tmp_path: Path) -> None:
    proj = Project(tmp_path / "p")
    proj.edit_facts("label: {zh: 界面新闻, en: Jiemian News}", "label: {zh: 界面新闻, en: Jiemian, News}")
    found = [r for r in load(proj) if r.validator == "facts-schema"]
    assert len(found) == 1
    assert 'quote the value: en: "Jiemian, News"' in found[0].message
    assert "unknown key" not in found[0].message
    assert found[0].line == line_of(proj.facts, "en: Jiemian, News")


def test_suggestions_only_for_close_keys(tmp_path: Path) -> None:
    proj = Project(tmp_path / "p")
    proj.edit_facts(
        "    label: {zh: 界面新闻, en: Jiemian News}\n",
        "    lable: {zh: 界面新闻, en: Jiemian News}\n    whereabouts: shanghai\n",
    )
    messages = [r.message for r in load(proj) if r.validator == "facts-schema"]
    assert any("unknown key 'lable'" in m and "did you mean 'label'?" in m for m in messages), messages
    far = [m for m in messages if "unknown key 'whereabouts'" in m]
    assert far and "did you mean" not in far[0] and "allowed keys" in far[0]


def test_all_problems_of_a_file_come_in_one_run(tmp_path: Path) -> None:
    proj = Project(tmp_path / "p")
    # a format problem in one entry, a bad relative date and a missing quote in others
    proj.edit_facts("label: {zh: 界面新闻, en: Jiemian News}", "label: {zh: 界面新闻, en: Jiemian, News}")
    proj.edit_facts(
        "    startDate: {stated: 12月12日}\n",
        "    startDate: {stated: 某天}\n",
    )
    proj.edit_facts(
        "      - '携手苏浙皖打造世界级科技创新策源地'\n", "      - '携手苏浙皖打造世界级科技创新策源地之外'\n"
    )
    results = load(proj)
    kinds = {r.validator for r in results}
    assert kinds == {"facts-schema", "facts", "evidence"}, [r.message for r in results]
    assert any("某天" in r.message for r in results)
    # the entry with the format problem is not loaded, yet references to it are not reported as unknown
    assert not any("unknown reference 'jiemian-news'" in r.message for r in results)
