"""`draft`: proposals from the fictional test pages, every quote proved as `validate` proves it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import FIXTURES, Project
from toolkit.build import build_release
from toolkit.cli import app
from toolkit.config import Settings
from toolkit.draft import DRAFT_FILE, draft_source
from toolkit.draft.propose import Drafter, Known
from toolkit.schema.model import load_model
from toolkit.sources.dates import parse_date
from toolkit.sources.ingest import add_source
from toolkit.sources.loader import body_bounds, load_corpus, locate_quote
from toolkit.sources.text import Normalised
from toolkit.validate import validate_sources

PAGES = FIXTURES / "pages"
SOURCES = {"forum": "forum-utf8.html", "quantum": "quantum-gbk.html", "ports": "ports-gb18030.html"}
runner = CliRunner()


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A project copy with the three test pages added and drafted once (jieba loads once)."""
    project = Project(tmp_path_factory.mktemp("draft") / "project")
    settings = project.settings
    for sid, page in SOURCES.items():
        add_source(settings, PAGES / page, source_id=sid)
        draft_source(settings, sid)
    return settings


def _draft(settings: Settings, sid: str) -> dict:
    return yaml.safe_load((settings.sources_dir / sid / DRAFT_FILE).read_text(encoding="utf-8"))


def _entities(settings: Settings, sid: str) -> dict[str, dict]:
    return {e["id"]: e for e in _draft(settings, sid)["entities"]}


def _body(settings: Settings, sid: str) -> tuple[str, Normalised]:
    src = _draft(settings, sid)["source"]
    text = (settings.sources_dir / sid / src["text"]).read_text(encoding="utf-8")
    bounds = body_bounds(text, src["body"]["start"], src["body"]["end"])
    assert bounds is not None
    return text, Normalised.of(text, *bounds)


@pytest.mark.parametrize("sid", sorted(SOURCES))
def test_every_quote_is_verbatim(drafted: Settings, sid: str) -> None:
    """Entity evidence and the quotes of commented proposals alike."""
    text, body = _body(drafted, sid)
    raw = (drafted.sources_dir / sid / DRAFT_FILE).read_text(encoding="utf-8")
    quotes = [q for e in _draft(drafted, sid)["entities"] for q in e["evidence"]]
    quotes += [yaml.safe_load(m) for m in re.findall(r"^  #     quote: (.*)$", raw, re.MULTILINE)]
    assert len(quotes) >= 15
    missing = [q for q in quotes if locate_quote(q, text, body) is None]
    assert missing == []


def test_the_renamed_draft_validates(drafted: Settings, tmp_path: Path) -> None:
    """draft, then rename facts.draft.yaml to facts.yaml: `validate` finds nothing wrong."""
    sources = tmp_path / "sources"
    shutil.copytree(drafted.sources_dir, sources)
    settings = drafted.with_overrides(sources_dir=sources)
    for sid in SOURCES:  # one at a time, as a person adopts them: each draft knows the ones before
        draft_source(settings, sid)
        (sources / sid / DRAFT_FILE).replace(sources / sid / "facts.yaml")
    raw = (sources / "quantum" / "facts.yaml").read_text(encoding="utf-8")
    assert "link: he-fei (合肥)" in raw  # proposed by the forum's draft, linked by the next one
    outcome = validate_sources(settings)
    assert [r.message for r in outcome.report.results] == []
    assert outcome.report.conforms


def _scripted_edit(draft: str, wrong: str) -> str:
    """What a person does: delete the proposals judged wrong (here: of one kind), fill the TODO labels."""
    kept, skip = [], False
    for line in draft.splitlines(keepends=True):
        if line.startswith("  # ["):
            skip = line.split("]")[0].endswith(f" {wrong}")
        elif not line.startswith("    ") and not line.startswith("  - id:"):
            skip = False
        if not skip:
            kept.append(line)
    return re.sub(r"'TODO (translate: )?", "'EN ", "".join(kept))


def test_the_edited_draft_validates_and_builds(drafted: Settings, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(drafted.sources_dir, sources)
    deleted = 0
    for sid in SOURCES:
        draft_source(drafted.with_overrides(sources_dir=sources), sid)
        draft = (sources / sid / DRAFT_FILE).read_text(encoding="utf-8")
        edited = _scripted_edit(draft, "place")
        deleted += draft.count("  - id:") - edited.count("  - id:")
        assert "'TODO" not in edited
        (sources / sid / "facts.yaml").write_text(edited, encoding="utf-8")
        (sources / sid / DRAFT_FILE).unlink()
    assert deleted >= 2
    settings = drafted.with_overrides(sources_dir=sources, release_dir=tmp_path / "release")
    release = build_release(settings, jobs=1)
    assert [s["id"] for s in release.manifest["sources"]] == ["cls-2025-12-yrd-innovation-centre", *sorted(SOURCES)]
    nt = (tmp_path / "release" / "policy.nt").read_text(encoding="utf-8")
    assert "lin-zhiyuan-statement" in nt and "EN " in nt


def test_statements_with_speaker_medium_and_kind(drafted: Settings) -> None:
    ents = _entities(drafted, "forum")
    reported = ents["lin-zhiyuan-statement"]
    assert reported["speaker"] == "lin-zhiyuan" and reported["isDirectQuote"] is False
    assert reported["text"] == "算力协同是区域人工智能发展的底座工程，需要打通数据、算力和应用场景之间的壁垒"
    direct = ents["xu-jianing-statement"]
    assert direct["isDirectQuote"] is True
    assert direct["text"] == "我们希望用三年时间，让长三角的中小企业也能用得上、用得起高端算力。"
    assert direct["medium"] == _draft(drafted, "forum")["source"]["publisher"]  # 接受本报记者采访
    quantum = _entities(drafted, "quantum")
    assert quantum["zhao-mingchuan-statement"]["speaker"] == "zhao-mingchuan"  # 指出
    assert quantum["qian-qihang-statement"]["speaker"] == "qian-qihang"  # 称
    raw = (drafted.sources_dir / "quantum" / DRAFT_FILE).read_text(encoding="utf-8")
    assert "statement by 一家量子测量仪器企业负责人" in raw  # no named speaker: a comment, not a fact


def test_people_organisations_affiliations_and_known_links(drafted: Settings) -> None:
    ents = _entities(drafted, "forum")
    assert ents["lin-zhiyuan"]["label"] == {"zh": "林志远", "en": "Lin Zhiyuan"}
    aff = ents["lin-zhiyuan-yuan-zhang"]
    org = ents[aff["organisation"]]
    assert org["label"]["zh"] == "浙江大学计算机科学与技术学院" and org["type"] == "ResearchOrganisation"
    assert aff["roleLabel"]["zh"] == "院长"
    # a known organisation of the first source is linked by its id, not proposed again
    assert ents["wu-chengze-jiao-shou"]["organisation"] == "sjtu-antai"
    assert not any(e["label"]["zh"] == "上海交通大学安泰经济与管理学院" for e in ents.values())
    raw = (drafted.sources_dir / "forum" / DRAFT_FILE).read_text(encoding="utf-8")
    for known in ("yangtze-river-delta", "hangzhou", "integrated-circuits", "yrd-science-departments"):
        assert f"link: {known} (" in raw
    labels = {e["label"]["zh"]: e["type"] for e in ents.values()}
    assert labels["浙江省科学技术厅"] == "PublicBody"
    assert labels["钱塘科技报"] == "MediaOrganisation"
    for fragment in ("苏浙皖", "钱塘", "城市"):
        assert labels.get(fragment) is None, (fragment, labels.get(fragment))


def test_documents_events_and_their_dates(drafted: Settings) -> None:
    forum = {e["label"]["zh"]: e for e in _entities(drafted, "forum").values()}
    plan = forum["长三角人工智能算力协同行动方案（2026—2028年）"]
    assert plan["type"] == "ActionPlan"
    event = forum["2026长三角人工智能协同创新论坛"]
    assert event["type"] == "Conference" and event["startDate"] == {"stated": "3月11日"}
    assert sum(e["type"] == "Conference" for e in forum.values()) == 1  # headline and body: one event
    by_id = _entities(drafted, "forum")
    assert [by_id[i]["label"]["zh"] for i in event["convenedBy"]] == ["浙江省科学技术厅", "上海市科学技术委员会"]
    assert event["location"] == "hangzhou"  # the model's Meeting has a place (issue 13): a known city, linked
    quantum = {e["label"]["zh"]: e for e in _entities(drafted, "quantum").values()}
    measures = quantum["安徽省促进量子信息产业高质量发展若干措施"]
    assert measures["type"] == "PolicyMeasures"
    assert measures["entryIntoForce"] == {"stated": "今年5月1日"}
    assert measures["dateIssued"] == {"stated": "4月7日"}


def test_dates_and_quantities_as_commented_proposals(drafted: Settings) -> None:
    raw = (drafted.sources_dir / "quantum" / DRAFT_FILE).read_text(encoding="utf-8")
    assert "date '上月' = 2026-03 (relative, resolved against 2026-04-08)" in raw
    assert "date '2030年' = 2030 (a target date: by then)" in raw
    # Chinese numerals read, the hedge kept as the model's qualifier, 亿 kept in the unit
    assert "quantity '一百亿元' = 100 亿元 (read from 一百)" in raw
    assert "quantity '近百家' = nearly 100 家 (read from 百), counting '全省量子信息相关企业'" in raw
    assert "quantity '超过三百件' = more-than 300 件 (read from 三百)" in raw
    assert "quantity '约1500亿元' = approximately 1500 亿元, counting '相关产业规模'" in raw
    forum = (drafted.sources_dir / "forum" / DRAFT_FILE).read_text(encoding="utf-8")
    assert "quantity '不少于12个' = at-least 12 个, counting '跨区域算力调度节点'" in forum
    assert "quantity '九个' = 9 个 (read from 九), counting '城市'" in forum


def test_an_ambiguous_name_is_listed_with_its_candidates(repo_settings: Settings) -> None:
    corpus, _ = load_corpus(repo_settings, load_model(repo_settings.schema_dir))
    known = Known.of(corpus.entities.values())
    body = "今年，上海(长三角)国际科技创新中心建设明显提速。"
    props = Drafter(body, parse_date("2026-01-05"), known, "", set(corpus.entities)).run()
    cands = [p for p in props if p.kind == "candidate"]
    assert len(cands) == 1
    assert "shanghai-yrd-centre" in cands[0].note and "designation-shanghai-yrd" in cands[0].note


def test_deterministic_and_facts_yaml_untouched(drafted: Settings) -> None:
    path = drafted.sources_dir / "ports" / DRAFT_FILE
    facts = (drafted.sources_dir / "ports" / "facts.yaml").read_bytes()
    first = path.read_bytes()
    draft_source(drafted, "ports")
    assert path.read_bytes() == first
    assert (drafted.sources_dir / "ports" / "facts.yaml").read_bytes() == facts


def test_missing_proposes_only_what_facts_yaml_lacks(drafted: Settings, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(drafted.sources_dir, sources)
    settings = drafted.with_overrides(sources_dir=sources)
    full = _draft(settings, "forum")
    kept = [e for e in full["entities"] if e["type"] in ("Person", "Affiliation")]
    dropped = {e["id"] for e in full["entities"]} - {e["id"] for e in kept}
    facts = (sources / "forum" / "facts.yaml").read_text(encoding="utf-8")
    facts = facts.replace("entities: []", "entities:\n" + yaml.safe_dump(kept, allow_unicode=True, sort_keys=False))
    (sources / "forum" / "facts.yaml").write_text(facts, encoding="utf-8")
    draft_source(settings, "forum", missing=True)
    again = {e["id"] for e in _draft(settings, "forum")["entities"]}
    assert again == dropped
    assert "--missing" in (sources / "forum" / DRAFT_FILE).read_text(encoding="utf-8")


def test_cli_draft_of_an_unknown_source_is_a_usage_error(project: Project) -> None:
    result = runner.invoke(app, ["draft", "no-such-source"])
    assert result.exit_code == 2
    assert "no source 'no-such-source'" in result.output and "source add" in result.output


def test_quantities_as_entities_in_the_model_terms_of_issue_13() -> None:
    """With the model's Quantity class (amount, unit, qualifier, counts, asOf), numbers become entities."""
    body = "去年，示范区新增高新技术企业超过600家，意向金额约85亿元。"
    props = Drafter(body, parse_date("2026-01-05"), Known({}, {}), "", set(), quantity_entities=True).run()
    qs = {p.stated: p for p in props if p.kind == "quantity"}
    firms = qs["超过600家"]
    assert (firms.types, firms.commented) == (("Quantity",), False)
    assert firms.props == {
        "amount": 600,
        "unit": "家",
        "qualifier": "more-than",
        "counts": {"zh": "高新技术企业", "en": "TODO 高新技术企业"},
        "asOf": {"stated": "去年"},
    }
    money = qs["约85亿元"].props
    assert (money["amount"], money["unit"], money["qualifier"]) == (85, "亿元", "approximately")
    assert money["counts"]["zh"] == "意向金额"
    without = Drafter(body, parse_date("2026-01-05"), Known({}, {}), "", set()).run()
    assert all(p.commented for p in without if p.kind == "quantity")


def test_score_of_the_first_source(repo_settings: Settings) -> None:
    """The first source drafted as if new, scored against its hand-written facts (nothing written)."""
    before = sorted(p.name for p in (repo_settings.sources_dir / "cls-2025-12-yrd-innovation-centre").iterdir())
    result = runner.invoke(app, ["draft", "cls-2025-12-yrd-innovation-centre", "--score"])
    assert result.exit_code == 0, result.output
    rows = re.findall(r"^(\w[\w ]*?) +(\d+)/(\d+)", result.output, re.MULTILINE)
    found = {kind: (int(a), int(b)) for kind, a, b in rows}
    assert found["dates"][1] == 11 and found["statements"][1] == 13 and found["quantities"][0] >= 2
    assert found["dates"][0] / 11 >= 0.8 and found["new entities"][0] / found["new entities"][1] >= 0.7
    m = re.search(r"precision: (\d+)/(\d+)", result.output)
    assert m and int(m.group(1)) / int(m.group(2)) >= 0.6
    assert "missed statements: cls-view-acceleration (财联社)" in result.output  # editorial views: not found
    assert sorted(p.name for p in (repo_settings.sources_dir / "cls-2025-12-yrd-innovation-centre").iterdir()) == before


def test_event_location_when_the_model_has_it(repo_settings: Settings) -> None:
    corpus, _ = load_corpus(repo_settings, load_model(repo_settings.schema_dir))
    known = Known.of(corpus.entities.values())
    body = "5月8日，长三角数字经济论坛在苏州举行。论坛由苏州市人民政府主办。"
    props = Drafter(body, parse_date("2026-05-09"), known, "", set(corpus.entities), event_location=True).run()
    (event,) = [p for p in props if p.kind == "event"]
    assert event.props["location"] == "suzhou"  # a known place, linked by its id
    assert event.props["startDate"] == {"stated": "5月8日"}
    convener = next(p for p in props if p.id == event.props["convenedBy"])
    assert (convener.label_zh, convener.types) == ("苏州市人民政府", ("PublicBody",))
