"""`source add`: saved pages (UTF-8, GBK, GB18030 without a declaration) become source folders."""

from __future__ import annotations

import hashlib
import shutil
import socket
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import FIXTURES, Project
from toolkit.cli import app
from toolkit.sources.ingest import decode_page, person_slug, pinyin_slug, read_page
from toolkit.sources.loader import body_bounds

PAGES = FIXTURES / "pages"
runner = CliRunner()


def test_gbk_page_is_read_by_its_declaration() -> None:
    raw = (PAGES / "quantum-gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is GBK
    text, enc, how = decode_page(raw)
    assert (enc, how) == ("gb18030", "declared by the page (gbk)")
    assert "安徽省科学技术厅副厅长赵明川指出" in text


def test_gb18030_page_without_a_declaration_is_detected() -> None:
    raw = (PAGES / "ports-gb18030.html").read_bytes()
    assert b"charset" not in raw
    text, enc, how = decode_page(raw)
    assert (enc, how) == ("gb18030", "detected by charset-normalizer")
    assert "作者：陈䶮" in text  # 䶮 is outside GBK: four bytes in GB18030


def test_a_wrong_declaration_is_not_believed() -> None:
    raw = (PAGES / "quantum-gbk.html").read_bytes().replace(b"charset=gbk", b"charset=utf-8")
    text, _, how = decode_page(raw)
    assert how == "detected by charset-normalizer"
    assert "量子信息" in text


def test_main_text_without_page_furniture() -> None:
    page = read_page(PAGES / "forum-utf8.html")
    text = page.archived_text
    assert text.startswith("长三角人工智能协同创新论坛在杭州举行 三省一市发布算力协同行动方案\n")
    assert page.byline == "2026-03-12 09:30 来源：钱塘科技报 作者：周晓岚"
    assert "下一届论坛将于明年在合肥举办。" in text
    for furniture in ("限时优惠", "热门排行", "热心网友", "版权所有", "相关推荐", "责任编辑", "分享到"):
        assert furniture not in text
    assert (page.publisher, page.authors, page.date) == ("钱塘科技报", ("周晓岚",), "2026-03-12")
    assert page.date_where == 'the page\'s <meta property="article:published_time" content="2026-03-12T09:30:00+08:00">'


def test_date_from_the_byline_when_no_meta_tag() -> None:
    page = read_page(PAGES / "quantum-gbk.html")
    assert page.date == "2026-04-08"
    assert page.date_where == "the byline under the headline: '2026年04月08日 10:15 来源：江淮经济时报 作者：孙慕白'"


def _add(project: Project, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["source", "add", *args])
    return result.exit_code, result.output


def test_source_add_writes_the_text_and_the_source_block(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("source add must not open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    code, out = _add(project, str(PAGES / "forum-utf8.html"), "--id", "forum", "--url", "https://example.org/a/1")
    assert code == 0, out
    folder = project.root / "datasets" / "sources" / "forum"
    facts = yaml.safe_load((folder / "facts.yaml").read_text(encoding="utf-8"))
    src = facts["source"]
    data = (folder / src["text"]).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    assert src["text"] == sha[:16] + ".txt" and sha in (folder / "facts.yaml").read_text(encoding="utf-8")
    text = data.decode("utf-8")
    assert text == read_page(PAGES / "forum-utf8.html").archived_text  # unchanged
    assert body_bounds(text, src["body"]["start"], src["body"]["end"]) == (0, len(text.rstrip()))
    assert src["datePublished"] == "2026-03-12"
    assert "article:published_time" in src["datingNote"]["zh"] and "article:published_time" in src["datingNote"]["en"]
    assert src["label"]["zh"] == "长三角人工智能协同创新论坛在杭州举行 三省一市发布算力协同行动方案"
    assert src["publisher"] == src["rightsHolder"] == "qian-tang-ke-ji-bao"
    assert "https://example.org/a/1" in (folder / "facts.yaml").read_text(encoding="utf-8")
    assert facts["entities"] == []


def test_source_add_refuses_an_existing_source(project: Project) -> None:
    assert _add(project, str(PAGES / "forum-utf8.html"), "--id", "forum")[0] == 0
    folder = project.root / "datasets" / "sources" / "forum"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, out = _add(project, str(PAGES / "quantum-gbk.html"), "--id", "forum")
    assert code == 2
    assert "exists already" in out and "Traceback" not in out
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_page_without_article_text_is_a_clear_error(project: Project) -> None:
    code, out = _add(project, str(PAGES / "no-article.html"), "--id", "empty")
    assert code == 2
    assert "no article text found in the page" in out and "no-article.html" in out
    assert not (project.root / "datasets" / "sources" / "empty").exists()


def test_bad_id_and_missing_page_are_usage_errors(project: Project, tmp_path: Path) -> None:
    assert _add(project, str(PAGES / "forum-utf8.html"), "--id", "Not An Id")[0] == 2
    code, out = _add(project, str(tmp_path / "nothing.html"))
    assert code == 2 and "Traceback" not in out


def test_plain_text_is_accepted(project: Project, tmp_path: Path) -> None:
    page = tmp_path / "saved.txt"
    page.write_text(
        "示范区发布新举措\n2026年2月3日 来源：示例日报\n本月，示范区执委会发布了支持人工智能企业的若干举措，"
        "涉及算力补贴、人才引进和应用场景开放等方面，共十二条。\n",
        encoding="gb18030",
    )
    code, out = _add(project, str(page), "--id", "plain")
    assert code == 0, out
    src = yaml.safe_load((project.root / "datasets/sources/plain/facts.yaml").read_text(encoding="utf-8"))["source"]
    assert src["datePublished"] == "2026-02-03" and src["label"]["zh"] == "示范区发布新举措"


@pytest.mark.parametrize("declared", [True, False])
def test_big5_page(declared: bool) -> None:
    html = (
        "<html><head>{meta}<title>測試</title></head><body><p>臺北市政府昨日宣布，將於明年推動智慧城市計畫，"
        "預計投入三十億元，協助中小企業導入人工智慧技術，並培訓超過五千名專業人才。</p></body></html>"
    ).format(meta='<meta charset="big5">' if declared else "")
    text, enc, how = decode_page(html.encode("big5"))
    assert enc == "big5hkscs" and "智慧城市計畫" in text
    assert how == ("declared by the page (big5)" if declared else "detected by charset-normalizer")


def test_the_first_source_of_an_empty_project(project: Project) -> None:
    """No corpus yet (not even a sources folder): the source is added all the same."""
    shutil.rmtree(project.root / "datasets" / "sources")
    code, out = _add(project, str(PAGES / "quantum-gbk.html"), "--id", "first")
    assert code == 0, out
    assert (project.root / "datasets" / "sources" / "first" / "facts.yaml").is_file()


def test_place_names_are_read_as_places_not_by_the_commonest_reading() -> None:
    """长 in 长三角 / 长宁区 is chang; pypinyin's own phrase list alone reads zhang (长大)."""
    assert pinyin_slug("长三角一体化") == "chang-san-jiao-yi-ti-hua"
    assert pinyin_slug("长宁区") == "chang-ning-qu"
    assert person_slug("林志远") == "lin-zhiyuan"
    assert pinyin_slug("院长") == "yuan-zhang"
