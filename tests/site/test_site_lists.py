"""After a change, the parts of the site that list everything follow the change, not the release: the rows
of ``browse/`` and ``timeline/`` kept in the state, the search shards patched where a page's terms changed,
the sitemap kept while no page comes or goes, the home page noted by what it shows. Each is compared with
a whole build."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.site.test_site_generic import BASE, tiny_project
from tests.site.test_site_incremental import add_lines, stamps, tree
from toolkit.config import Settings
from toolkit.site import incremental, write_site
from toolkit.site.data import Release
from toolkit.site.pages import SiteBuilder
from toolkit.site.search import SearchIndex, shard_of, term_key

G = f"<{BASE}graph/s1>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def project(root: Path, **site: Any) -> Settings:
    """The tiny project with ``site`` as its [tool.policy-toolkit.site] (small parts and shards: parts)."""
    return dataclasses.replace(tiny_project(root), site=site)


def relabel(settings: Settings, old: str, new: str) -> None:
    nq = settings.release_dir / "policy.nq"
    text = nq.read_text(encoding="utf-8")
    assert old in text
    nq.write_text(text.replace(old, new), encoding="utf-8")


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, names: tuple[str, ...]) -> list[str]:
    """Note each call of the methods ``names`` of ``owner`` (then call them)."""
    calls: list[str] = []
    for name in names:
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, real=real, name=name, **k: calls.append(name) or real(*a, **k))
    return calls


def same_as_whole(settings: Settings, out: Path, whole: Path, *calls: list[str]) -> None:
    """The site in ``out`` is a whole build's (the ``calls`` noted meanwhile are left as they were)."""
    noted = [list(c) for c in calls]
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    for c, n in zip(calls, noted, strict=True):
        c[:] = n


def refuse(*_a: Any, **_k: Any) -> Any:
    raise AssertionError("every resource's types or dates gathered")


def test_after_a_label_edit_the_lists_rows_are_read_from_the_state_not_gathered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project(tmp_path / "p", **{"page-rows": 1})
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    relabel(settings, '"Thing"@en', '"Thing renamed"@en')
    # every resource's types and dates are not gathered, in the parent or in a worker (which inherits this)
    monkeypatch.setattr(Release, "types_of_all", refuse)
    monkeypatch.setattr(Release, "dates_of_all", refuse)
    write_site(settings, out=out, jobs=2)  # thing's part of browse/ is made in a worker, from the state's rows
    write_site(settings, out=out, jobs=1)  # nothing changed
    made = count_calls(monkeypatch, SiteBuilder, ("browse_page",))
    relabel(settings, '"Thing renamed"@en', '"Thing again"@en')
    write_site(settings, out=out, jobs=1)
    assert made == ["browse_page"]  # thing's part (its label), and only that one
    monkeypatch.undo()
    same_as_whole(settings, out, whole)
    assert "Thing again" in tree(out)["en/browse/3/index.html"].decode()
    # a row added (a new resource), then a date added, then removed: the rows are gathered again and
    # the state's rows follow (each time a whole build's bytes)
    for lines in (
        [f'<{BASE}aaa> {LABEL} "A"@en {G} .'],
        [f'<{BASE}aaa> <{BASE}on> "2020-01-02"^^<http://www.w3.org/2001/XMLSchema#date> {G} .'],
    ):
        add_lines(settings.release_dir, *lines)
        write_site(settings, out=out, jobs=1)
        same_as_whole(settings, out, whole)
    nq = settings.release_dir / "policy.nq"
    nq.write_text("".join(x for x in nq.read_text().splitlines(True) if "/aaa>" not in x), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    same_as_whole(settings, out, whole)
    relabel(settings, '"Thing again"@en', '"Thing once more"@en')  # rows kept after the changes: still right
    monkeypatch.setattr(Release, "types_of_all", refuse)
    monkeypatch.setattr(Release, "dates_of_all", refuse)
    write_site(settings, out=out, jobs=1)
    monkeypatch.undo()
    same_as_whole(settings, out, whole)


def test_after_one_label_change_only_the_search_shards_holding_its_terms_are_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project(tmp_path / "p", **{"search-shards": 16, "sitemap-urls": 4})
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    before = stamps(out)
    relabel(settings, '"Thing"@en', '"Thing renamed"@en')
    whole_calls = count_calls(monkeypatch, SearchIndex, ("to_files",))
    sitemaps = count_calls(monkeypatch, SiteBuilder, ("sitemap_files",))
    write_site(settings, out=out, jobs=1)
    # neither the index nor the sitemap is made from every page (no page came or went)
    assert whole_calls == [] and sitemaps == []
    after = stamps(out)
    rewritten = sorted(f for f in after if f.startswith(("search/", "sitemap")) and after[f] != before[f])
    # the shard of the one new term ("renamed") and the docs shard of thing's entry (its title)
    assert rewritten == [f"search/docs/{shard_of('id/thing/', 16)}.json", f"search/terms/{shard_of('re', 16)}.json"]
    same_as_whole(settings, out, whole, whole_calls, sitemaps)
    # a page added: its terms patched in, the sitemap made again; a page gone: its terms patched out
    add_lines(settings.release_dir, f'<{BASE}other> {LABEL} "Other 其他"@en {G} .')
    write_site(settings, out=out, jobs=1)
    assert whole_calls == [] and sitemaps == ["sitemap_files"]
    same_as_whole(settings, out, whole, whole_calls, sitemaps)
    nq = settings.release_dir / "policy.nq"
    nq.write_text("".join(x for x in nq.read_text().splitlines(True) if "/other>" not in x), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    assert whole_calls == []
    same_as_whole(settings, out, whole, whole_calls, sitemaps)
    # a shard touched by hand: the index is made again from every page's entry (and is right again)
    shard = f"search/terms/{shard_of(term_key('thing'), 16)}.json"
    (out / shard).write_bytes(b"{}\n")
    relabel(settings, '"Thing renamed"@en', '"Thing"@en')
    write_site(settings, out=out, jobs=1)
    assert whole_calls == ["to_files"]
    monkeypatch.undo()
    same_as_whole(settings, out, whole, whole_calls, sitemaps)


def test_the_sitemap_and_the_shards_follow_a_changed_setting(tmp_path: Path) -> None:
    settings = project(tmp_path / "p", **{"search-shards": 4, "sitemap-urls": 4})
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    changed = dataclasses.replace(settings, site={"search-shards": 2, "sitemap-urls": 6})
    relabel(changed, '"Thing"@en', '"Thing renamed"@en')
    write_site(changed, out=out, jobs=1)
    same_as_whole(changed, out, whole)


def test_the_sources_are_a_list_in_parts_and_the_home_page_names_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    add_lines(settings.release_dir, f'<{BASE}source/s1> {LABEL} "Source one"@en {G} .')
    write_site(settings, out=out, jobs=1)
    home = (out / "en" / "index.html").read_text(encoding="utf-8")
    assert 'href="sources/"' in home and "(1)" in home and "Source one" not in home
    assert "Source one" in (out / "en" / "sources" / "index.html").read_text(encoding="utf-8")
    made = count_calls(monkeypatch, SiteBuilder, ("home_page", "sources_page"))
    relabel(settings, '"Thing"@en', '"Thing renamed"@en')  # not a source: neither is made again
    write_site(settings, out=out, jobs=1)
    assert made == []
    relabel(settings, '"Source one"@en', '"Source renamed"@en')  # the part that shows it, not the home page
    write_site(settings, out=out, jobs=1)
    assert made == ["sources_page"]
    assert "Source renamed" in (out / "en" / "sources" / "index.html").read_text(encoding="utf-8")
    (settings.sources_dir / "s1" / "a.txt").unlink()  # no archived text: not listed, one source fewer
    write_site(settings, out=out, jobs=1)
    assert sorted(made) == ["home_page", "sources_page", "sources_page"]
    monkeypatch.undo()
    same_as_whole(settings, out, whole)


def test_the_state_reads_a_pages_search_entry_only_when_asked(tmp_path: Path) -> None:
    settings = project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    state = incremental.State(sqlite3.connect(incremental.state_path(out)))
    try:
        assert all("doc" not in entry for entry in state.pages.values())
        doc = state.doc(BASE + "thing")
        assert doc is not None and doc[0]["en"] == "Thing" and "thing" in doc[1].split("\n")
    finally:
        state.close()
