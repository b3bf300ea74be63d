"""The site's long files in parts: browse/, the timeline and the saved queries' tables cut into pages
with navigation, the sitemap into an index and numbered files, the search index into shards; a
change remakes the one part that shows it (page-rows, sitemap-urls and search-shards are set
small here, so that the tiny project has parts)."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import pytest
import rdflib

from tests.site.test_site_generic import BASE, ONT, search_index, tiny_project
from tests.site.test_site_incremental import add_labels_query, add_lines, stamps, tree
from toolkit.config import Settings
from toolkit.site import build_site_files, pages, write_site
from toolkit.site.data import Release
from toolkit.site.pages import SiteBuilder, pager
from toolkit.site.search import fnv1a, shard_of, term_key

ROOT = "https://example.org/data/"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
THING = BASE + "thing"


def project(root: Path, **site: Any) -> Settings:
    """The tiny project with a saved query of every label, and ``site`` as its [tool.policy-toolkit.site]."""
    settings = tiny_project(root)
    add_labels_query(settings.root)
    return dataclasses.replace(settings, site=site)


def html(files: dict[str, bytes], path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(files[path])


def browse_rows(doc: lxml.html.HtmlElement) -> list[str]:
    return [a.get("title") for a in doc.xpath('//ul[@class="columns"]/li/a')]


def test_the_pager_shows_the_first_the_last_and_the_pages_around_the_current_one() -> None:
    nav = pager("browse/", 5, 10, "browse/5/", "zh")
    assert nav is not None
    assert [None if i is None else i["n"] for i in nav["numbers"]] == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert [i["n"] for i in nav["numbers"] if i and i["current"]] == [5]
    assert (nav["prev"], nav["next"]) == ("../4/", "../6/")
    first = pager("browse/", 1, 2, "en/browse/", "en")
    assert first is not None and (first["prev"], first["next"]) == ("", "2/")
    assert first["numbers"][0]["href"] == "./" and first["numbers"][1]["href"] == "2/"
    assert pager("browse/", 1, 1, "browse/", "zh") is None  # one part: no navigation


def test_long_lists_are_cut_into_parts_linked_both_ways_in_both_languages(tmp_path: Path) -> None:
    settings = project(tmp_path, **{"page-rows": 2})
    date = "<http://www.w3.org/2001/XMLSchema#date>"
    add_lines(
        settings.release_dir,
        *(f'<{BASE}gizmo> <{ONT}on{n}> "2025-0{n}-01"^^{date} <{BASE}graph/s1> .' for n in (1, 2, 3)),
    )
    files = build_site_files(settings)
    # four resources, two a part: browse/ and browse/2/, each row once
    assert "browse/2/index.html" in files and "browse/3/index.html" not in files
    parts = [html(files, p) for p in ("browse/index.html", "browse/2/index.html")]
    rows = [browse_rows(d) for d in parts]
    assert [len(r) for r in rows] == [2, 2]
    assert sorted(rows[0] + rows[1]) == sorted({BASE + n for n in ("gizmo", "thing", "evidence/gizmo-1", "source/s1")})
    assert rows[0] + rows[1] == browse_rows(html(files, "en/browse/index.html")) + browse_rows(
        html(files, "en/browse/2/index.html")
    )
    # the navigation: previous/next and numbers, the current page marked, links that lead to the parts
    for lang, words in (("", ("上一页", "下一页", "第 2 页，共 2 页")), ("en/", ("Previous", "Next", "page 2 of 2"))):
        for k, here in enumerate((f"{lang}browse/", f"{lang}browse/2/"), start=1):
            doc = html(files, here + "index.html")
            nav = doc.xpath('//nav[@class="pager"]')
            assert len(nav) == 1
            current = nav[0].xpath('.//a[@aria-current="page"]')
            assert [a.text_content() for a in current] == [str(k)]
            targets = {urljoin(ROOT + here, a.get("href")) for a in nav[0].xpath(".//a")}
            assert targets == {ROOT + f"{lang}browse/", ROOT + f"{lang}browse/2/"}
            step = nav[0].xpath('.//a[@rel="next"]' if k == 1 else './/a[@rel="prev"]')
            assert step[0].text_content() == (words[1] if k == 1 else words[0])
        assert words[2] in html(files, f"{lang}browse/2/index.html").xpath("//h1")[0].text_content()
    # a saved query's table: three labels, two a part
    tables = [html(files, p).xpath('//table[@class="results"]/tbody/tr') for p in ("queries/labels/index.html",)]
    tables.append(html(files, "queries/labels/2/index.html").xpath('//table[@class="results"]/tbody/tr'))
    assert [len(t) for t in tables] == [2, 1]
    assert "3 rows, rows 3–3" in html(files, "en/queries/labels/2/index.html").text_content()
    assert "queries/labels/3/index.html" not in files
    # the timeline: three dated values, by date
    timeline = [
        html(files, p).xpath("//tbody/tr/td/time/text()") for p in ("timeline/index.html", "timeline/2/index.html")
    ]
    assert timeline == [["2025-01-01", "2025-02-01"], ["2025-03-01"]]


def test_a_small_release_has_one_page_a_list_and_no_navigation(tmp_path: Path) -> None:
    files = build_site_files(project(tmp_path))
    assert not [p for p in files if re.search(r"(browse|timeline|queries/labels)/\d+/", p)]
    assert not [p for p, data in files.items() if p.endswith(".html") and b'class="pager"' in data]
    assert len(browse_rows(html(files, "browse/index.html"))) == 4


def test_a_label_edit_remakes_the_one_part_that_shows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = {"page-rows": 1, "sitemap-urls": 4, "search-shards": 8}
    settings = project(tmp_path / "p", **site)
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    before = stamps(out)
    made: list[tuple[str, tuple[Any, ...]]] = []
    for name in ("browse_page", "timeline_page", "query_page"):
        real = getattr(SiteBuilder, name)
        monkeypatch.setattr(
            SiteBuilder, name, lambda self, *a, real=real, name=name: made.append((name, a)) or real(self, *a)
        )
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    monkeypatch.undo()
    after = stamps(out)
    rewritten = sorted(f for f in after if f in before and after[f] != before[f])
    # one row a part: thing's row of browse/ (by class IRI, then IRI: rdfs:Resource's evidence, source
    # and thing, then vocab#Gizmo's gizmo) and its label's row of the query (ordered by ?s ?label: the
    # last); not the other parts, the timeline or the sitemap files
    assert sorted(made) == [("browse_page", (3,)), ("query_page", ("labels", 3))]
    pages = [f for f in rewritten if f.endswith(".html") and not f.startswith(("id/", "en/id/"))]
    lists = ["browse/3/", "en/browse/3/", "en/queries/labels/3/", "queries/labels/3/"]
    assert pages == [p + "index.html" for p in lists]
    assert not [f for f in rewritten if f.startswith("sitemap")]
    # one terms shard ("renamed" is new) and one docs shard (thing's titles)
    search = [f for f in rewritten if f.startswith("search/")]
    assert search == [f"search/docs/{shard_of('id/thing/', 8)}.json", f"search/terms/{shard_of('re', 8)}.json"]
    write_site(dataclasses.replace(settings), out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    assert "Thing renamed" in tree(out)["en/browse/3/index.html"].decode()
    # an insert: the rows after it move one part on (each of those parts is made again), a part is added
    add_lines(
        settings.release_dir, f'<{BASE}aaa> <http://www.w3.org/2000/01/rdf-schema#label> "A"@en <{BASE}graph/s1> .'
    )
    write_site(settings, out=out, jobs=1)
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole) and "browse/5/index.html" in tree(out)
    # and removed again: the last part's files are deleted
    nq.write_text("".join(x for x in nq.read_text().splitlines(True) if "/aaa>" not in x), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole) and not (out / "browse" / "5").exists()


def test_past_sitemap_urls_the_sitemap_is_an_index_of_numbered_files(tmp_path: Path) -> None:
    files = build_site_files(project(tmp_path, **{"sitemap-urls": 4}))
    pages = {p[: -len("index.html")] for p in files if p.endswith("index.html")}
    index = lxml.etree.fromstring(files["sitemap.xml"])
    assert index.tag == SM + "sitemapindex"
    listed = [e.text for e in index.iter(SM + "loc")]
    assert listed == [f"{ROOT}sitemap-{n}.xml" for n in range(1, len(listed) + 1)] and len(listed) > 1
    urls: list[str] = []
    for loc in listed:
        urlset = lxml.etree.fromstring(files[loc[len(ROOT) :]])
        assert urlset.tag == SM + "urlset" and 0 < len(urlset) <= 4
        urls += [e.text for e in urlset.iter(SM + "loc")]
    assert sorted(urls) == sorted(ROOT + p for p in pages) and len(urls) == len(set(urls))
    assert f"Sitemap: {ROOT}sitemap.xml" in files["robots.txt"].decode()
    # within the limit: one sitemap of the same URLs, no numbered files
    one = build_site_files(project(tmp_path / "one"))
    assert not [p for p in one if p.startswith("sitemap-")]
    assert sorted(e.text for e in lxml.etree.fromstring(one["sitemap.xml"]).iter(SM + "loc")) == sorted(urls)


def test_the_search_shards_hold_each_term_and_page_where_search_js_looks(tmp_path: Path) -> None:
    files = build_site_files(project(tmp_path, **{"search-shards": 8}))
    assert json.loads(files["search/index.json"]) == {"shards": 8, "version": 2}
    for n in range(8):
        assert all(shard_of(term_key(t), 8) == n for t in json.loads(files[f"search/terms/{n}.json"]))
        assert all(shard_of(p, 8) == n for p in json.loads(files[f"search/docs/{n}.json"]))
    assert search_index(files) == search_index(build_site_files(project(tmp_path / "one")))
    assert fnv1a("a") == 0xE40C292C  # FNV-1a's published value (the JS twin is checked in the browser below)
    assert term_key("装置") == "装" and term_key("gizmo") == "gi"


@pytest.fixture
def served_parts(tmp_path: Path) -> Iterator[str]:
    """The tiny project's site in parts, served by a plain static server on 127.0.0.1."""
    settings = project(tmp_path / "p", **{"page-rows": 1, "search-shards": 8})
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_in_a_browser_search_fetches_only_its_shards_and_the_parts_pass_axe(served_parts: str, browser: object) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.on("request", lambda r: fetched.append(r.url[len(served_parts) + 1 :]) if "/search/" in r.url else None)
    for query, shard, expect in (("装置", "装", "小装置"), ("装", "装", "小装置"), ("giz", "gi", "小装置")):
        fetched.clear()
        page.goto(f"{served_parts}/search/?q={query}")
        page.wait_for_selector("body[data-search-ready]")
        assert expect in page.locator("#search-results li a").all_inner_texts(), query
        terms = {f for f in fetched if f.startswith("search/terms/")}
        assert terms == {f"search/terms/{shard_of(shard, 8)}.json"}, (query, fetched)
        assert len([f for f in fetched if f.startswith("search/docs/")]) <= 2
    # typed: the results follow the query
    page.fill("#q", "wobbles")
    page.wait_for_selector("body[data-search-ready]")
    assert page.locator("#search-results li a").all_inner_texts() == ["摇晃"]
    # the parts of browse/ lead to each other, and pass axe-core like every page type
    page.goto(f"{served_parts}/en/browse/")
    page.click('nav.pager a[rel="next"]')
    assert page.url.endswith("/en/browse/2/") and page.locator('nav.pager a[aria-current="page"]').inner_text() == "2"
    axe = Axe()
    found = {}
    for path in ("browse/2/", "en/browse/4/", "timeline/", "en/queries/labels/2/"):
        page.goto(f"{served_parts}/{path}")
        bad = [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
    page.close()
    assert found == {} and errors == []


def test_a_property_with_more_values_than_a_page_shows_is_cut_and_counted(
    repo_settings: Settings, real_release_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resource page shows the first MAX_VALUES values of a property, in term order, and counts the
    rest (its data files keep them all): at 1M triples the release's dataset has a part per source."""
    catalog = rdflib.Graph().parse(real_release_dir / "catalog.ttl")
    dataset = rdflib.URIRef(repo_settings.base_iri + "dataset/release")
    distributions = sorted(str(o) for o in catalog.objects(dataset, rdflib.DCAT.distribution))
    assert len(distributions) > 3
    monkeypatch.setattr(pages, "MAX_VALUES", 2)
    asked: list[str] = []  # the IRIs asked about while the dataset's page is made
    making: list[str] = []
    context, is_evidence = SiteBuilder.resource_context, Release.is_evidence

    def spied_context(self: SiteBuilder, iri: str, here: str, lang: str) -> dict[str, Any]:
        making.append(iri)
        try:
            return context(self, iri, here, lang)
        finally:
            making.pop()

    def spied_evidence(self: Release, iri: str) -> bool:
        if making == [str(dataset)]:
            asked.append(iri)
        return is_evidence(self, iri)

    monkeypatch.setattr(SiteBuilder, "resource_context", spied_context)
    monkeypatch.setattr(Release, "is_evidence", spied_evidence)
    files = build_site_files(repo_settings, real_release_dir)
    assert set(distributions[:2]) <= set(asked)
    assert not set(distributions[2:]) & set(asked), "a value not shown was read for its evidence"
    page = lxml.html.fromstring(files["en/id/dataset/release/index.html"])
    head = page.xpath(
        "//table[@class='statements']//th[@scope='row'][a[@href='http://www.w3.org/ns/dcat#distribution']]"
    )
    assert len(head) == 1 and head[0].get("rowspan") == "3"
    rows = [head[0].getparent(), *itertools.islice(head[0].getparent().itersiblings(), 2)]
    shown = [row.xpath("td[1]/a/@title") for row in rows]
    assert shown == [[distributions[0]], [distributions[1]], []]
    assert rows[2].xpath("string(td[1])") == f"… +{len(distributions) - 2}"
    # the resource's own data file still holds every value
    data = rdflib.Graph().parse(data=files["id/dataset/release/data.nt"], format="nt")
    assert sorted(str(o) for o in data.objects(dataset, rdflib.DCAT.distribution)) == distributions
