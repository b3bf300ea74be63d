"""Issue 17: inference marks, attributed claims, and the check that a link's quotes name its target.

The fixture (tests/fixtures/inference-sources/usedin-plan) is the first source's case before it
was fixed: a designation ``usedIn`` the 14th Five-Year Plan whose only quote names neither the
plan nor (except in a coordination) the designation itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from typer.testing import CliRunner

from toolkit.build.pipeline import fast_outcome
from toolkit.cli import app
from toolkit.config import Settings, load_settings
from toolkit.report import Severity
from toolkit.validate import validate_sources

CASE = FIXTURES / "inference-sources"
FACTS = "usedin-plan/facts.yaml"
PT = Namespace("https://w3id.org/policy-toolkit/ontology#")
USED_IN_MARK = """    usedIn: test-fyp14
    inferred:
      usedIn:
        method: carried-from-context
        note:
          zh: 引语未提及该规划，承接上一句。
          en: The quote does not name the plan; carried from the sentence before.
      literalForm:
        method: expanded-from-coordination
        note:
          zh: 由“北京和上海国际科技创新中心”展开。
          en: Spelt out from 北京和上海国际科技创新中心.
"""


def settings_for(sources: Path, tmp: Path) -> Settings:
    return load_settings(REPO).with_overrides(sources_dir=sources, release_dir=tmp / "release")


def copy_case(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(CASE, target)
    return target


def edit(sources: Path, old: str, new: str) -> None:
    path = sources / FACTS
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def warnings(results: list) -> list[tuple[str, str]]:
    return sorted(
        (r.focus_node.rsplit("/", 1)[-1], r.path)
        for r in results
        if r.validator == "inferences" and r.severity is Severity.WARNING
    )


def test_a_link_whose_quote_never_names_the_target_is_warned_about_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    s = settings_for(CASE, tmp_path)
    outcome = validate_sources(s)
    found = warnings(outcome.report.results)
    # the usedIn case of issue 17, and the literal form spelt out of a coordination
    assert found == [
        ("test-designation-beijing-earlier", "literalForm"),
        ("test-designation-beijing-earlier", "usedIn"),
    ]
    assert outcome.report.conforms  # a warning: the data is still published
    used_in = next(r for r in outcome.report.results if r.path == "usedIn")
    assert "“十四五”规划" in used_in.message and used_in.line is not None
    assert used_in.source_file is not None and used_in.source_file.endswith(FACTS)
    # the build runs the same check per unit, with the same results
    built = fast_outcome(s)
    assert "inferences" in built.report.validators_run
    assert [r for r in built.report.results if r.validator == "inferences"] == [
        r for r in outcome.report.results if r.validator == "inferences"
    ]


def test_a_marked_value_is_not_warned_about_and_is_listed_with_its_method(tmp_path: Path) -> None:
    sources = copy_case(tmp_path)
    edit(sources, "    usedIn: test-fyp14\n", USED_IN_MARK)
    s = settings_for(sources, tmp_path)
    outcome = validate_sources(s, inferences=True)
    assert warnings(outcome.report.results) == []
    infos = [r for r in outcome.report.results if r.severity is Severity.INFO]
    assert sorted((r.path, r.message.split(":")[0]) for r in infos) == [
        ("literalForm", "inferred (expanded-from-coordination)"),
        ("usedIn", "inferred (carried-from-context)"),
    ]
    # the marks are published: one pt:Inference per marked value, a reified statement
    g = outcome.graph
    assert g is not None
    base = s.base_iri
    mark = URIRef(base + "inferred/test-designation-beijing-earlier-usedIn")
    assert g.value(mark, RDF.type) == PT.Inference
    assert g.value(mark, PT.inferredResource) == URIRef(base + "test-designation-beijing-earlier")
    assert g.value(mark, PT.inferredProperty) == PT.usedIn
    assert g.value(mark, PT.inferredValue) == URIRef(base + "test-fyp14")
    assert g.value(mark, PT.inferenceMethod) == PT["carried-from-context"]
    assert g.value(mark, PT.inferredFrom) == URIRef(base + "source/test-usedin-plan")
    assert {o.language for o in g.objects(mark, RDFS.comment)} == {"zh", "en"}
    # the marked statement itself is still published as usual
    assert (URIRef(base + "test-designation-beijing-earlier"), PT.usedIn, URIRef(base + "test-fyp14")) in g
    # ... and `validate` exits 0, its JSON carrying the Info results
    result = CliRunner().invoke(app, ["validate", "--sources", str(sources), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["counts"] == {"Violation": 0, "Warning": 0, "Info": 2}
    assert {r["severity"] for r in doc["results"]} == {"Info"}


def test_an_attributed_value_is_the_articles_claim_not_a_fact(tmp_path: Path) -> None:
    sources = copy_case(tmp_path)
    edit(sources, "    usedIn: test-fyp14\n", USED_IN_MARK)
    edit(
        sources,
        '    datePublished: "2020"\n',
        '    datePublished: "2020"\n    attributed:\n      datePublished:\n'
        "        note: {zh: 文章所称。, en: What the article says.}\n",
    )
    s = settings_for(sources, tmp_path)
    outcome = validate_sources(s, inferences=True)
    assert outcome.report.conforms, outcome.report.to_text()
    g = outcome.graph
    assert g is not None
    plan = URIRef(s.base_iri + "test-fyp14")
    assert g.value(plan, PT.datePublished) is None  # not asserted
    claim = URIRef(s.base_iri + "claim/test-usedin-plan/test-fyp14/datePublished")
    assert g.value(claim, RDF.type) == PT.Claim
    assert g.value(claim, PT.claimSubject) == plan
    assert str(g.value(claim, PT.claimValue)) == "2020"
    assert g.value(claim, PT.inferenceMethod) == PT["attributed-claim"]
    assert Literal("What the article says.", lang="en") in set(g.objects(claim, RDFS.comment))
    assert len(list(g.objects(claim, PT.evidence))) == 1  # the entry's quote
    claimed = [r for r in outcome.report.results if r.message.startswith("claimed (attributed-claim)")]
    assert [(r.path, r.value) for r in claimed] == [("datePublished", "2020")]


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        (
            "      usedIn: {value: test-fyp15, method: carried-from-context, note: {zh: 无。, en: None.}}\n",
            "inferred: usedIn has no value 'test-fyp15'; its values: test-fyp14",
        ),
        (
            "      supersedes: {method: carried-from-context, note: {zh: 无。, en: None.}}\n",
            "inferred: 'supersedes' has no value in this entry; mark a property the entry states",
        ),
    ],
)
def test_a_mark_on_a_value_the_entry_does_not_state_is_refused(tmp_path: Path, mark: str, message: str) -> None:
    sources = copy_case(tmp_path)
    edit(sources, "    usedIn: test-fyp14\n", "    usedIn: test-fyp14\n    inferred:\n" + mark)
    outcome = validate_sources(settings_for(sources, tmp_path))
    assert not outcome.report.conforms
    assert [r.message for r in outcome.report.results if r.validator == "facts"] == [message]


def test_an_unknown_method_is_a_format_problem(tmp_path: Path) -> None:
    sources = copy_case(tmp_path)
    edit(
        sources,
        "    usedIn: test-fyp14\n",
        "    usedIn: test-fyp14\n    inferred:\n      usedIn: {method: guessed, note: {zh: 无。, en: None.}}\n",
    )
    outcome = validate_sources(settings_for(sources, tmp_path))
    problems = [r for r in outcome.report.results if r.validator == "facts-schema"]
    assert len(problems) == 1 and "carried-from-context" in problems[0].message
