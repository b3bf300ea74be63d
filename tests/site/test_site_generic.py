"""The site is generic over the RDF: a class and a property the toolkit has never seen get pages
and labels from the ontology; plus content negotiation's rules on their own (no server)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import lxml.html
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from toolkit.config import Settings
from toolkit.errors import UsageError
from toolkit.query.sitefiles import SiteFiles, negotiate
from toolkit.site import build_site_files, write_site
from toolkit.site.pages import esc
from toolkit.site.search import tokens

BASE = "https://example.org/data/id/"
ONT = "https://example.org/vocab#"
INT = "<http://www.w3.org/2001/XMLSchema#integer>"
TEXT = "标题\n\n第一段：长三角的新事物。\n\n第二段：另一个事实在这里，新事物很重要。\n"


def tiny_project(root: Path) -> Settings:
    """A release (policy.nq, manifest) of a class and a property unknown to the toolkit, with its ontology and text."""
    release, schema, sources = root / "release", root / "schema", root / "sources" / "s1"
    for folder in (release, schema, sources):
        folder.mkdir(parents=True)
    (sources / "a.txt").write_text(TEXT, encoding="utf-8")
    sha = hashlib.sha256(TEXT.encode()).hexdigest()
    quote = "另一个事实在这里"
    start = TEXT.index(quote)
    g = f"<{BASE}graph/s1>"
    lines = [
        f"<{BASE}gizmo> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ONT}Gizmo> {g} .",
        f'<{BASE}gizmo> <http://www.w3.org/2000/01/rdf-schema#label> "小装置"@zh {g} .',
        f'<{BASE}gizmo> <http://www.w3.org/2000/01/rdf-schema#label> "Gizmo"@en {g} .',
        f"<{BASE}gizmo> <{ONT}wobbles> <{BASE}thing> {g} .",
        f"<{BASE}gizmo> <{ONT}evidence> <{BASE}evidence/gizmo-1> {g} .",
        f'<{BASE}thing> <http://www.w3.org/2000/01/rdf-schema#label> "Thing"@en {g} .',
        f'<{BASE}evidence/gizmo-1> <{ONT}quote> "{quote}"@zh {g} .',
        f'<{BASE}evidence/gizmo-1> <{ONT}startOffset> "{start}"^^{INT} {g} .',
        f'<{BASE}evidence/gizmo-1> <{ONT}endOffset> "{start + len(quote)}"^^{INT} {g} .',
        f"<{BASE}evidence/gizmo-1> <{ONT}inSource> <{BASE}source/s1> {g} .",
        f'<{BASE}source/s1> <{ONT}archivedFile> "a.txt" {g} .',
        f'<{BASE}source/s1> <{ONT}sha256> "{sha}" {g} .',
    ]
    (release / "policy.nq").write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    (release / "manifest.json").write_text(
        json.dumps({"title": "Tiny", "toolkit_version": "0", "base_iri": BASE, "files": []}), encoding="utf-8"
    )
    (schema / "ontology.ttl").write_text(
        f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix v: <{ONT}> .
<https://example.org/vocab> a owl:Ontology .
v:Gizmo a owl:Class ; rdfs:label "装置类"@zh, "Gizmo class"@en ; rdfs:subClassOf <https://schema.org/Thing> .
v:wobbles a owl:ObjectProperty ; rdfs:label "摇晃"@zh, "wobbles"@en ; rdfs:comment "A new property."@en .
""",
        encoding="utf-8",
    )
    return Settings(root=root, sources_dir=root / "sources", release_dir=release, schema_dir=schema, base_iri=BASE)


def search_index(files: dict[str, bytes]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The search index of a site, its shards put together: term -> paths, path -> [zh, en, snippet]."""
    shards = json.loads(files["search/index.json"])["shards"]
    terms: dict[str, list[str]] = {}
    docs: dict[str, list[str]] = {}
    for n in range(shards):
        terms.update(json.loads(files[f"search/terms/{n}.json"]))
        docs.update(json.loads(files[f"search/docs/{n}.json"]))
    return terms, docs


def page(files: dict[str, bytes], path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(files[path])


def test_an_unknown_class_and_property_get_pages_labels_and_evidence(tmp_path: Path) -> None:
    files = build_site_files(tiny_project(tmp_path))
    # the site root is the base IRI's parent: https://example.org/data/
    zh, en = page(files, "id/gizmo/index.html"), page(files, "en/id/gizmo/index.html")
    assert zh.xpath("//h1")[0].text_content() == "小装置" and en.xpath("//h1")[0].text_content() == "Gizmo"
    assert "摇晃" in zh.xpath('//table[@class="statements"]')[0].text_content()
    assert "wobbles" in en.xpath('//table[@class="statements"]')[0].text_content()
    assert zh.xpath('//p[@class="types"]/a')[0].text_content() == "装置类"
    mark = zh.xpath('//figure[@class="evidence"]//mark')
    assert [m.text_content() for m in mark] == ["另一个事实在这里"]
    assert zh.xpath('//figure[@class="evidence"]//p')[0].text_content() == "第二段：另一个事实在这里，新事物很重要。"
    # the property's own page, reached from the statement, and the class page with its alignment
    assert "A new property." in page(files, "en/ontology/wobbles/index.html").text_content()
    gizmo = page(files, "en/ontology/Gizmo/index.html")
    assert "https://schema.org/Thing" in {a.get("href") for a in gizmo.xpath("//a")}
    # what points here
    thing = page(files, "id/thing/index.html")
    assert "小装置" in thing.xpath('//ul[@class="incoming"]')[0].text_content()
    canonical = thing.xpath('//link[@rel="canonical"]')[0].get("href")
    assert canonical == "https://example.org/data/id/thing/"
    terms, docs = search_index(files)
    hits = set.intersection(*(set(terms[t]) for t in tokens("装置")))
    assert "id/gizmo/" in hits and docs["id/gizmo/"][:2] == ["小装置", "Gizmo"]


def test_a_second_build_replaces_the_site_it_made(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out)
    (out / "id" / "gizmo" / "index.html").write_text("changed", encoding="utf-8")
    write_site(settings, out=out, check_kept=True)
    assert (out / "id" / "gizmo" / "index.html").read_bytes() == build_site_files(settings)["id/gizmo/index.html"]
    (out / "mine.txt").write_text("not the toolkit's", encoding="utf-8")
    # updated in place, a file it did not write is left as it is; replaced whole, the folder is refused
    write_site(settings, out=out)
    assert (out / "mine.txt").read_text(encoding="utf-8") == "not the toolkit's"
    with pytest.raises(UsageError, match="policy-toolkit did not write"):
        write_site(settings, out=out, incremental=False)
    assert (out / "mine.txt").read_text(encoding="utf-8") == "not the toolkit's"


def test_tokens_cut_chinese_into_bigrams_and_keep_words() -> None:
    assert tokens("长三角G60科创走廊") == ["长三", "三角", "科创", "创走", "走廊", "g60"]
    assert tokens("Ｇ６０ Corridor") == ["g60", "corridor"]  # NFKC: full-width letters and digits
    assert tokens("城") == ["城"]


def test_negotiation_follows_accept_and_its_q_values(tmp_path: Path) -> None:
    assert negotiate(None) == "html" and negotiate("*/*") == "html"
    assert negotiate("text/turtle") == "data.ttl"
    assert negotiate("application/ld+json;q=0.8, application/n-triples") == "data.nt"
    assert negotiate("text/html;q=0, text/turtle;q=0.1") == "data.ttl"
    assert negotiate("image/png") is None
    site = SiteFiles(files={"id/x/index.html": b"<p>x", "id/x/data.ttl": b"@prefix", "static/a.css": b"a"})
    assert site.answer("/id/x", "text/turtle").body == b"@prefix"
    assert site.answer("/id/x", "text/html").status == 303
    assert site.answer("/static/a.css", None).headers["Content-Type"].startswith("text/css")
    for bad in ("/../etc/passwd", "/id/%2e%2e/%2e%2e/etc/passwd", "/.hidden", "/id//x"):
        assert site.answer(bad, None).status == 404, bad
    folder = tmp_path / "s"
    (folder / "id" / "x").mkdir(parents=True)
    (folder / "id" / "x" / "data.ttl").write_bytes(b"ttl")
    (tmp_path / "secret").write_text("no", encoding="utf-8")
    (folder / "id" / "link").symlink_to(tmp_path / "secret")
    on_disk = SiteFiles(root=folder)
    assert on_disk.answer("/id/x", "text/turtle").body == b"ttl"
    assert on_disk.answer("/id/link", None).status == 404  # a link out of the folder is not followed


@pytest.mark.parametrize("configured", [True, False])
def test_build_writes_the_site_only_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    """`[tool.policy-toolkit.site] build = true` makes `build` write the site after the release; off: nothing.

    The release build itself is stood in for (its own tests cover it): this checks the wiring.
    """
    import toolkit.build
    from toolkit.cli import app

    tiny_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        f"""[tool.policy-toolkit]
base-iri = "{BASE}"
sources = "sources"
release = "release"
schema = "schema"

[tool.policy-toolkit.site]
build = {"true" if configured else "false"}
out = "out/site"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("POLICY_TOOLKIT_ROOT", str(tmp_path))
    built = SimpleNamespace(manifest={"triples": 12}, files={"policy.nq": b""}, changed=[])
    monkeypatch.setattr(toolkit.build, "build_release", lambda *a, **k: built)
    result = CliRunner().invoke(app, ["build"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "out" / "site" / "id" / "gizmo" / "index.html"
    assert page.is_file() is configured
    assert ("wrote the site to" in result.output) is configured


@pytest.mark.parametrize("text", ["", "plain 长三角", '<a href="x">Tom & Jerry\'s</a>', "&amp; already", "'\"<>&" * 3])
def test_the_long_lists_escape_is_markupsafes(text: str) -> None:
    """browse/, timeline/ and the query tables escape with a plain-string twin of markupsafe's escape."""
    assert esc(text) == str(escape(text))
