"""The site of the committed release: files, links, machine-readable parts, `serve` and a real browser.

The site is built once (by the CLI, in this process) and served once (`policy-toolkit serve
--site`, a real server on 127.0.0.1); the browser is Debian's headless Chromium driven by
Playwright (scripts/test.sh installs the `chromium` package when it is missing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import lxml.html
import pyoxigraph as ox
import pytest
import rdflib
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.publish.atomic import read_tree

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "datasets" / "release"
CLI = Path(sys.executable).parent / "policy-toolkit"
BASE = "https://w3id.org/policy-toolkit/id/"
ROOT = "https://w3id.org/policy-toolkit/"
PT = "https://w3id.org/policy-toolkit/ontology#"
#: screenshots of the browser test are kept here (CI keeps the folder as artefacts)
SHOTS = Path(os.environ.get("POLICY_TOOLKIT_SCREENSHOTS", REPO / "tests" / "site" / "screenshots"))


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The committed release's site written twice by `policy-toolkit site`, at once, in two processes
    with different hash seeds (the determinism test compares them; the others read the first)."""
    root = tmp_path_factory.mktemp("site")
    procs = [
        subprocess.Popen(
            [str(CLI), "site", "--out", str(root / name), "--release", str(RELEASE)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "POLICY_TOOLKIT_ROOT": str(REPO), "PYTHONHASHSEED": seed},
        )
        for name, seed in (("site", "0"), ("again", "1234"))
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and "wrote the site to" in out, err
    return root / "site", root / "again"


@pytest.fixture(scope="module")
def site_dir(two_builds: tuple[Path, Path]) -> Path:
    """The site of the committed release (read-only use)."""
    return two_builds[0]


class Served:
    """`policy-toolkit serve --site DIR` as a process on a free port of 127.0.0.1."""

    def __init__(self, site: Path) -> None:
        self.proc = subprocess.Popen(
            [str(CLI), "serve", "--port", "0", "--site", str(site), "--release", str(RELEASE)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "POLICY_TOOLKIT_ROOT": str(REPO)},
        )
        assert self.proc.stdout is not None
        lines = [self.proc.stdout.readline() for _ in range(3)]
        if not lines[2].startswith("site: "):
            self.proc.kill()
            raise AssertionError("".join(lines) + self.proc.communicate()[1])
        self.url = lines[2].split()[1].rstrip("/")
        self.query_url = lines[0].split()[2]

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.communicate(timeout=20)[0]


@pytest.fixture(scope="module")
def served(site_dir: Path) -> Iterator[Served]:
    server = Served(site_dir)
    yield server
    assert "stopped" in server.stop()


def release_subjects() -> dict[str, set[str]]:
    """subject IRI -> its N-Triples lines, from the release's policy.nt and catalog.ttl."""
    out: dict[str, set[str]] = defaultdict(set)
    triples = list(ox.parse(path=RELEASE / "policy.nt", format=ox.RdfFormat.N_TRIPLES))
    triples += list(ox.parse(path=RELEASE / "catalog.ttl", format=ox.RdfFormat.TURTLE))
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            out[t.subject.value].add(f"{t.subject} {t.predicate} {t.object} .")
    return out


def html(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


# ---------------------------------------------------------------- the files


def test_every_resource_has_its_pages_and_exactly_its_triples(site_dir: Path) -> None:
    subjects = {s: lines for s, lines in release_subjects().items() if s.startswith(BASE)}
    assert len(subjects) > 200
    for iri, lines in subjects.items():
        folder = site_dir / iri[len(ROOT) :]
        for page in (folder / "index.html", site_dir / "en" / iri[len(ROOT) :] / "index.html"):
            assert page.is_file(), page
        doc = html(folder / "index.html")
        alternates = {a.get("type"): a.get("href") for a in doc.xpath('//head/link[@rel="alternate"][@type]')}
        assert set(alternates) == {"text/turtle", "application/ld+json", "application/n-triples"}
        nt = (folder / alternates["application/n-triples"]).read_text(encoding="utf-8")
        assert set(nt.splitlines()) == lines, iri
        for media, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld")):
            g = rdflib.Graph().parse(folder / alternates[media], format=fmt)
            assert {f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in g} == {
                f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in rdflib.Graph().parse(data=nt, format="nt")
            }, (iri, media)


def test_a_statement_shows_its_quote_highlighted_in_its_paragraph(site_dir: Path) -> None:
    text = (RELEASE.parent / "sources" / "cls-2025-12-yrd-innovation-centre" / "000_f8b5f49c4e14440d.txt").read_text(
        encoding="utf-8"
    )
    store = ox.Store()
    store.load(path=RELEASE / "policy.nt", format=ox.RdfFormat.N_TRIPLES)
    rows = list(
        store.query(
            f"""SELECT ?q ?s ?e WHERE {{ <{BASE}g60-corridor> <{PT}evidence> ?ev .
            ?ev <{PT}quote> ?q ; <{PT}startOffset> ?s ; <{PT}endOffset> ?e }} ORDER BY ?s"""
        )
    )
    assert len(rows) == 2
    doc = html(site_dir / "id" / "g60-corridor" / "index.html")
    figures = doc.xpath('//figure[@class="evidence"]')
    assert len(figures) == 2
    for row, fig in zip(rows, figures, strict=True):
        start, end = int(row["s"].value), int(row["e"].value)
        marks = [m.text_content() for m in fig.xpath(".//mark")]
        assert marks == [text[start:end]] == [row["q"].value]
        para = fig.xpath('.//p[@class="para"]')[0].text_content()
        # the paragraph of the archived text (blank-line separated) that holds the quote, whole
        first = text.rfind("\n\n", 0, start)
        last = text.find("\n\n", end)
        assert para == text[first + 2 : last].strip()
        link = fig.xpath(".//figcaption/a")[0].get("href")
        target, _, anchor = link.partition("#")
        source_page = html((site_dir / "id" / "g60-corridor" / target / "index.html").resolve())
        assert source_page.xpath(f'//*[@id="{anchor}"]'), anchor


def test_the_source_page_highlights_every_quote_and_links_it_to_its_fact(site_dir: Path) -> None:
    store = ox.Store()
    store.load(path=RELEASE / "policy.nt", format=ox.RdfFormat.N_TRIPLES)
    source = f"{BASE}source/cls-2025-12-yrd-innovation-centre"
    evidence = {r["ev"].value for r in store.query(f"SELECT ?ev WHERE {{ ?ev <{PT}inSource> <{source}> }}")}
    page = site_dir / "id" / "source" / "cls-2025-12-yrd-innovation-centre" / "index.html"
    doc = html(page)
    anchors = {a.get("id") for a in doc.xpath('//div[@class="source-text"]//span[@class="anchor"]')}
    assert anchors == {"q-" + e.rsplit("/", 1)[-1] for e in evidence}
    links = doc.xpath('//div[@class="source-text"]//a[@class="quote-link"]')
    assert links and all((page.parent / a.get("href") / "index.html").resolve().is_file() for a in links)


def test_ontology_pages_show_labels_alignments_and_shacl_constraints(site_dir: Path) -> None:
    g = rdflib.Graph().parse(REPO / "schema" / "ontology.ttl")
    terms = {str(s) for s in g.subjects() if str(s).startswith(PT) and str(s) != PT.rstrip("#")}
    for term in terms:
        assert (site_dir / "ontology" / term[len(PT) :] / "index.html").is_file(), term
    doc = html(site_dir / "en" / "ontology" / "Corridor" / "index.html")
    body = doc.text_content()
    assert "ptsh:Corridor-linksCity" in body and "sh:minCount" in body and "pt:City" in body
    labels = {dd.get("lang"): dd.text_content() for dd in doc.xpath("//dd[@lang]")}
    assert labels.get("zh") and labels.get("en")
    aligned = {str(o) for o in g.objects(rdflib.URIRef(PT + "Corridor"), rdflib.RDFS.subClassOf)}
    hrefs = {a.get("href") for a in doc.xpath('//a[@class="external"]')}
    assert {a for a in aligned if not a.startswith(PT)} <= hrefs


def test_home_has_schema_org_dataset_agreeing_with_the_dcat_catalog(site_dir: Path) -> None:
    doc = html(site_dir / "index.html")
    data = json.loads(doc.xpath('//script[@type="application/ld+json"]')[0].text)
    assert data["@type"] == "Dataset"
    cat = rdflib.Graph().parse(RELEASE / "catalog.ttl")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    catalog = rdflib.URIRef(BASE + "catalog")
    titles = {t.language: str(t) for t in cat.objects(catalog, rdflib.DCTERMS.title)}
    assert data["name"] == titles["en"] and data["alternateName"] == titles["zh"]
    assert data["license"] == str(cat.value(catalog, rdflib.DCTERMS.license))
    urls = {str(u) for u in cat.objects(None, dcat.downloadURL)}
    assert {d["contentUrl"] for d in data["distribution"]} == urls
    sizes = {
        str(cat.value(d, dcat.downloadURL)): int(cat.value(d, dcat.byteSize)) for d in cat.subjects(dcat.downloadURL)
    }
    assert {d["contentUrl"]: int(d["contentSize"].split()[0]) for d in data["distribution"]} == sizes


def test_sitemap_and_canonical_links_name_every_page(site_dir: Path) -> None:
    tree = lxml.etree.parse(str(site_dir / "sitemap.xml"))
    locs = {e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    pages = sorted(site_dir.rglob("index.html"))
    assert len(locs) == len(pages)
    for page in pages:
        canonical = html(page).xpath('//link[@rel="canonical"]')[0].get("href")
        assert canonical in locs
        folder = page.parent.relative_to(site_dir).as_posix()
        assert canonical == ROOT + ("" if folder == "." else folder + "/")


def test_no_internal_link_is_broken(site_dir: Path) -> None:
    ids: dict[Path, set[str]] = {}
    broken = []
    checked = 0
    for page in sorted(site_dir.rglob("*.html")):
        doc = html(page)
        for el in doc.xpath("//a[@href] | //link[@href] | //script[@src]"):
            ref = el.get("href") or el.get("src")
            if ref.startswith(("http://", "https://", "data:", "mailto:")):
                continue
            path, _, frag = ref.partition("#")
            target = (page.parent / unquote(path)).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file() or not target.is_relative_to(site_dir.resolve()):
                broken.append(f"{page.relative_to(site_dir)}: {ref}")
            elif frag:
                if target not in ids:
                    ids[target] = set(html(target).xpath("//@id"))
                if frag not in ids[target]:
                    broken.append(f"{page.relative_to(site_dir)}: {ref} (no #{frag})")
    assert checked > 5000 and not broken, broken[:10]


def test_the_same_release_gives_the_same_bytes(two_builds: tuple[Path, Path]) -> None:
    """Two builds, in two processes with different hash seeds, write the same files."""
    first, second = read_tree(two_builds[0]), read_tree(two_builds[1])
    assert sorted(first) == sorted(second)
    assert [k for k in first if first[k] != second[k]] == []


def test_site_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(app, ["site", "--out", str(mine), "--release", str(RELEASE)])
    assert result.exit_code == 2 and "refusing to replace" in result.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    result = CliRunner().invoke(app, ["site", "--out", str(RELEASE), "--release", str(RELEASE)])
    assert result.exit_code == 2 and "would replace the release folder" in result.output


def test_site_trusts_a_kept_page_edited_by_hand_unless_check_kept(tmp_path: Path) -> None:
    """By default (and with ``--trust-kept``) the kept pages' files are not checked; with ``--check-kept``
    the edited page is made again."""
    out = tmp_path / "site"
    args = ["site", "--out", str(out), "--release", str(RELEASE)]
    assert CliRunner().invoke(app, args).exit_code == 0
    page = next(p for p in sorted((out / "id").rglob("index.html")))
    good = page.read_bytes()
    page.write_bytes(good + b"<!-- mine -->")
    for trusting in (args, [*args, "--trust-kept"]):
        result = CliRunner().invoke(app, trusting)
        assert result.exit_code == 0 and "0 resource pages made" in result.output, result.output
        assert page.read_bytes() == good + b"<!-- mine -->"
    result = CliRunner().invoke(app, [*args, "--check-kept"])
    assert result.exit_code == 0 and "1 resource pages made" in result.output, result.output
    assert page.read_bytes() == good


# ---------------------------------------------------------------- serve: content negotiation


@pytest.mark.parametrize(
    ("accept", "media", "file"),
    [
        ("text/turtle", "text/turtle", "data.ttl"),
        ("application/ld+json", "application/ld+json", "data.jsonld"),
        ("application/n-triples", "application/n-triples", "data.nt"),
        ("text/html;q=0.5, text/turtle;q=0.9", "text/turtle", "data.ttl"),
    ],
)
def test_serve_gives_a_resource_s_data_by_accept(
    served: Served, site_dir: Path, accept: str, media: str, file: str
) -> None:
    resp = httpx.get(f"{served.url}/id/g60-corridor", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["content-type"].split(";")[0] == media
    assert resp.content == (site_dir / "id" / "g60-corridor" / file).read_bytes()
    assert resp.headers["vary"] == "Accept" and resp.headers["content-location"].endswith(file)


def test_serve_sends_a_browser_to_the_page_and_keeps_sparql(served: Served, site_dir: Path) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    resp = httpx.get(f"{served.url}/id/g60-corridor", headers={"Accept": accept})
    assert resp.status_code == 303 and resp.headers["location"] == "/id/g60-corridor/"
    page = httpx.get(urljoin(served.url + "/id/g60-corridor", resp.headers["location"]), headers={"Accept": accept})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.content == (site_dir / "id" / "g60-corridor" / "index.html").read_bytes()
    assert httpx.get(f"{served.url}/id/g60-corridor", headers={"Accept": "image/png"}).status_code == 406
    assert httpx.get(f"{served.url}/id/..%2f..%2fpyproject.toml").status_code == 404
    assert httpx.get(f"{served.url}/nothing-here/").status_code == 404
    ask = httpx.get(
        served.query_url,
        params={"query": f"ASK {{ <{BASE}g60-corridor> ?p ?o }}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    assert urlsplit(served.query_url).netloc == urlsplit(served.url).netloc  # one port


# ---------------------------------------------------------------- a real browser


def test_in_a_browser_pages_switch_language_highlight_quotes_and_search(served: Served, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

    page.goto(served.url + "/")
    assert page.title().startswith("政策新闻事实数据目录")
    page.screenshot(path=str(SHOTS / "home.png"))

    page.goto(served.url + "/id/g60-corridor")
    assert page.url.endswith("/id/g60-corridor/") and page.locator("h1").inner_text() == "长三角G60科创走廊"
    mark = page.locator("figure.evidence mark").first
    assert mark.is_visible() and mark.inner_text() == "长三角G60科创走廊,正是这一战略的核心抓手"
    background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    page.screenshot(path=str(SHOTS / "entity.png"))

    page.click("#lang-switch")
    assert page.url.endswith("/en/id/g60-corridor/")
    assert page.locator("h1").inner_text() == "Yangtze River Delta G60 S&T Innovation Corridor"
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("#lang-switch")
    assert page.url.endswith("/id/g60-corridor/") and "/en/" not in page.url

    page.click("figure.evidence figcaption a >> nth=0")  # to the quote in the source page
    assert "/id/source/cls-2025-12-yrd-innovation-centre/#q-g60-corridor-1" in page.url
    assert page.locator("#q-g60-corridor-1").count() == 1
    page.screenshot(path=str(SHOTS / "source.png"))

    for lang, query, expect in (
        ("", "长三角", "长三角G60科创走廊"),
        ("en/", "G60", "Yangtze River Delta G60 S&T Innovation Corridor"),
    ):
        page.goto(f"{served.url}/{lang}search/")
        page.wait_for_selector("body[data-search-ready]")
        page.fill("#q", query)
        page.wait_for_selector("body[data-search-ready]")  # the shards of the query's tokens are fetched
        results = page.locator("#search-results li a")
        assert results.count() > 0, query
        titles = results.all_inner_texts()
        assert expect in titles, titles[:10]
        if lang:
            page.screenshot(path=str(SHOTS / "search.png"))
            page.click("#lang-switch")  # the query goes along
            assert page.url.endswith("/search/?q=G60") and "/en/" not in page.url
            page.wait_for_selector("body[data-search-ready]")
            assert page.locator("#search-results li a").count() > 0
            page.goto(f"{served.url}/en/search/?q=G60")
            page.wait_for_selector("body[data-search-ready]")
            page.locator("#search-results li a", has_text=expect).first.click()
            assert page.url.endswith("/en/id/g60-corridor/")

    # usable at 360 px: nothing wider than the screen on a resource page
    small = browser.new_page(viewport={"width": 360, "height": 740})  # type: ignore[attr-defined]
    small.goto(served.url + "/id/g60-corridor/")
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    small.close()
    assert errors == []
    page.close()


#: one page of each type, in both languages where the words differ
PAGE_TYPES = (
    "",
    "id/g60-corridor/",
    "en/id/g60-corridor/",
    "id/source/cls-2025-12-yrd-innovation-centre/",
    "en/ontology/Corridor/",
    "ontology/linksCity/",
    "browse/",
    "timeline/",
    "en/queries/g60-cities/",
    "catalog/",
    "sparql/",
    "en/search/?q=G60",
)


def test_every_page_type_passes_axe_core_without_serious_violations(served: Served, browser: object) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    found = {}
    for path in PAGE_TYPES:
        page.goto(f"{served.url}/{path}")
        if "search" in path:
            page.wait_for_selector("body[data-search-ready]")
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            found[path] = bad
    page.close()
    assert found == {} and errors == []
