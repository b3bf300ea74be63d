"""The site made again after a change: only the pages whose inputs changed are made, and the
folder is byte for byte what a whole build gives (in one process or in a pool)."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.site.test_site_generic import BASE, tiny_project
from toolkit.build.pool import resolve_jobs as build_jobs
from toolkit.config import Settings
from toolkit.errors import UsageError
from toolkit.publish import atomic
from toolkit.site import answers, build_site_files, incremental, pages, resolve_jobs, site_root_iri, write_site
from toolkit.site.data import Release, SourceText, read_release
from toolkit.site.pages import SiteBuilder
from toolkit.site.paths import SiteMap


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def add_lines(settings_release: Path, *lines: str) -> None:
    nq = settings_release / "policy.nq"
    old = nq.read_text(encoding="utf-8").splitlines()
    nq.write_text("\n".join(sorted([*old, *lines])) + "\n", encoding="utf-8")


def add_labels_query(root: Path) -> None:
    """A saved query whose table shows every label (its page changes when a label does)."""
    (root / "queries").mkdir()
    (root / "queries" / "labels.rq").write_text(
        "# title@zh: 标签\n# title@en: Labels\n# answers: Every label.\n"
        "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s ?label\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize("jobs", [1, 2])
def test_after_a_change_only_affected_pages_are_made_and_the_bytes_are_a_whole_builds(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incremental, "CHUNK", 1)  # one resource per task: the pool is used
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    g = f"<{BASE}graph/s1>"
    # "aaa" is made before "gizmo" and names "thing" first: gizmo gets thing's label from a cache
    add_lines(settings.release_dir, f"<{BASE}aaa> <https://example.org/vocab#wobbles> <{BASE}thing> {g} .")
    first = write_site(settings, out=out, jobs=jobs)
    assert first.kept == 0 and first.made == 5
    # a new resource that nothing points at: only its page is made, the others are kept
    add_lines(settings.release_dir, f'<{BASE}other> <http://www.w3.org/2000/01/rdf-schema#label> "Other"@en {g} .')
    second = write_site(settings, out=out, jobs=jobs)
    assert (second.made, second.kept) == (1, 5)
    # a label of "thing" changes: its page and the pages that link to it (aaa, gizmo) are made again
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    third = write_site(settings, out=out, jobs=jobs)
    assert (third.made, third.kept) == (3, 3)
    # gizmo's label changes: its page, and those that name it (what points here, the quote's mark)
    nq.write_text(nq.read_text(encoding="utf-8").replace('"小装置"@zh', '"新装置"@zh'), encoding="utf-8")
    fourth = write_site(settings, out=out, jobs=jobs)
    assert (fourth.made, fourth.kept) == (4, 2)
    # a fact of "thing" that is not its label: its page alone (a page linking to it reads its label, its
    # page and whether it is evidence, each a key of its own, not all its triples)
    add_lines(settings.release_dir, f'<{BASE}thing> <https://example.org/vocab#note> "n" {g} .')
    fifth = write_site(settings, out=out, jobs=jobs)
    assert (fifth.made, fifth.kept) == (1, 5)
    write_site(settings, out=whole, incremental=False, jobs=1)
    made = tree(out)
    assert made == tree(whole)
    assert "Thing renamed" in made["id/gizmo/index.html"].decode()
    assert "新装置" in made["id/thing/index.html"].decode() and "新装置" in made["id/source/s1/index.html"].decode()
    in_memory = build_site_files(settings)
    assert {k: v for k, v in made.items() if not k.startswith(".")} == in_memory


def test_a_page_touched_in_the_site_folder_is_made_again(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out)
    page = out / "en" / "id" / "thing" / "index.html"
    good = page.read_bytes()
    page.write_bytes(good.replace(b"Thing", b"Thang"))  # same size, new modification time
    again = write_site(settings, out=out, check_kept=True)
    assert page.read_bytes() == good and again.made == 1


def test_by_default_a_touched_kept_page_stays_until_its_inputs_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default (``site --trust-kept``) the kept pages' files are not checked (no process is started for
    it), so a page edited by hand stays as it is; when its inputs change it is made again, and a run with
    ``--check-kept`` finds any other touched page again."""
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out)
    page, other = out / "en" / "id" / "thing" / "index.html", out / "en" / "id" / "gizmo" / "index.html"
    good, good_other = page.read_bytes(), other.read_bytes()
    page.write_bytes(good.replace(b"Thing", b"Thang"))
    other.write_bytes(good_other.replace(b"Gizmo", b"Gadge"))
    calls: list[str] = []
    real_check = incremental.FilesCheck
    monkeypatch.setattr(incremental, "FilesCheck", lambda *a: calls.append("check") or real_check(*a))
    assert write_site(settings, out=out).made == 0 and calls == []
    assert b"Thang" in page.read_bytes()
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out)  # thing's label changed: its page (and gizmo's) made again
    assert b"Thing renamed" in page.read_bytes() and b"Gadge" not in other.read_bytes()
    other.write_bytes(other.read_bytes().replace(b"Gizmo", b"Gadge"))
    assert write_site(settings, out=out, check_kept=True).made == 1 and b"Gadge" not in other.read_bytes()
    assert calls == ["check"]


def test_a_state_of_other_code_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out)
    assert write_site(settings, out=out).made == 0
    monkeypatch.setattr(incremental, "STATE_VERSION", incremental.STATE_VERSION + 1)
    assert write_site(settings, out=out).made == 4


def test_jobs_are_resolved_as_the_build_resolves_them() -> None:
    for given in (None, 0, 1, 3):
        assert resolve_jobs(given) == build_jobs(given)


def stamps(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def test_in_place_only_changed_files_are_written_and_gone_pages_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    g = f"<{BASE}graph/s1>"
    add_lines(settings.release_dir, f'<{BASE}other> <http://www.w3.org/2000/01/rdf-schema#label> "Other"@en {g} .')
    write_site(settings, out=out, jobs=1)
    before = stamps(out)
    assert "id/other/index.html" in before
    # "other" goes: its files are deleted in place, and nothing that did not change is written again
    nq = settings.release_dir / "policy.nq"
    nq.write_text("".join(x for x in nq.read_text().splitlines(True) if "/other>" not in x), encoding="utf-8")
    made: list[str] = []
    for name in ("term_page", "timeline_page", "browse_page"):
        real = getattr(SiteBuilder, name)
        monkeypatch.setattr(
            SiteBuilder, name, lambda self, *a, real=real, name=name: made.append(name) or real(self, *a)
        )
    second = write_site(settings, out=out, jobs=1)
    monkeypatch.undo()
    # the rows of browse/ changed; not those of the timeline ("other" has no date), and the ontology
    # pages read nothing that changed
    assert sorted(made) == ["browse_page"]
    after = stamps(out)
    assert not (out / "id" / "other").exists() and not (out / "en" / "id" / "other").exists()
    rewritten = sorted(f for f in after if f in before and after[f] != before[f])
    # the overview pages that list resources, the search index and the sitemap: not the ontology
    # pages, the timeline, the release copies or the kept resource pages
    # ("other"'s title and terms were in the one shard of a small site)
    search = ["search/docs/0.json", "search/terms/0.json"]
    assert rewritten == sorted(["browse/index.html", "en/browse/index.html", *search, "sitemap.xml"]), rewritten
    assert second.made == 0 and second.written == 5
    assert set(atomic.marked_files(out) or ()) - atomic.BOOKKEEPING == {f for f in after if not f.startswith(".")}
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    # a kept ontology page touched by hand is made again, and only it is written
    term = next(f for f in after if f.startswith("ontology/") and f.count("/") > 1)
    (out / term).write_bytes(b"mine")
    marker = (out / atomic.MARKER).stat().st_mtime_ns
    third = write_site(settings, out=out, jobs=1)
    assert (out / term).read_bytes() == tree(whole)[term] and third.written == 1
    # the same files as before: the marker (4 MB at 100k) is not written again
    assert (out / atomic.MARKER).stat().st_mtime_ns == marker
    assert set(atomic.marked_files(out) or ()) - atomic.BOOKKEEPING == {f for f in tree(out) if not f.startswith(".")}


def test_the_release_copies_follow_the_release_even_edited_in_place_at_the_same_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release's files are copied under ``release/`` by the kernel and noted by their inode, size and
    times, not read and hashed: an edit in place that keeps the size (and even the modification time) is
    still copied again, an unchanged file is not written again, and nothing is read into the process.
    Every file is put in place as a large one is (unlinked, then renamed), with the same bytes."""
    monkeypatch.setattr(incremental, "BIG_FILE", -1)
    settings = tiny_project(tmp_path / "p")
    release = settings.release_dir
    manifest = release / "manifest.json"
    entry = '{"path": "policy.nq", "bytes": 1, "sha256": "0", "media_type": "application/n-quads"}'
    manifest.write_text(manifest.read_text().replace('"files": []', f'"files": [{entry}]'))
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    nq = release / "policy.nq"
    assert (out / "release" / "policy.nq").read_bytes() == nq.read_bytes()
    copied = (out / "release" / "policy.nq").stat().st_mtime_ns, (out / "release" / "manifest.json").stat().st_mtime_ns
    read: list[str] = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real_read(self))
    write_site(settings, out=out, jobs=1)  # nothing changed: neither copy is written again
    copies = (out / "release" / "policy.nq").stat().st_mtime_ns, (out / "release" / "manifest.json").stat().st_mtime_ns
    assert copies == copied
    # a label edited in place, the file's size and modification time kept (only its change time moves)
    st = nq.stat()
    edited = nq.read_bytes().replace(b'"Thing"@en', b'"Thinx"@en')
    with nq.open("r+b") as fh:
        fh.write(edited)
    os.utime(nq, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert nq.stat().st_size == st.st_size
    read.clear()
    write_site(settings, out=out, jobs=1)
    assert "manifest.json" not in read  # the copies are not read into the process (policy.nq is, indexed)
    monkeypatch.setattr(Path, "read_bytes", real_read)
    assert (out / "release" / "policy.nq").read_bytes() == edited
    assert (out / "release" / "manifest.json").stat().st_mtime_ns == copied[1]
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_the_marker_is_read_only_when_it_is_not_the_one_the_state_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker (873k names at 1M) is not read while it is the file the last run left; touched, even to
    the same bytes and modification time, it is read and compared with the state's files; listing other
    files, the site is made whole."""
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    reads: list[Path] = []
    real = atomic.marked_files
    monkeypatch.setattr(atomic, "marked_files", lambda folder: reads.append(folder) or real(folder))
    assert write_site(settings, out=out, jobs=1).kept == 4 and reads == []
    marker = out / atomic.MARKER
    st = marker.stat()
    marker.write_bytes(marker.read_bytes())  # the same bytes and times: only its change time moves
    os.utime(marker, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert write_site(settings, out=out, jobs=1).kept == 4 and reads == [out]
    # a marker that does not list the state's files: the folder is not the one the state describes
    marker.write_text(marker.read_text().replace('"files": [', '"files": [\n    "mine.txt",'))
    assert write_site(settings, out=out, jobs=1).kept == 0


def test_in_place_never_replaces_a_file_it_did_not_write(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    g = f"<{BASE}graph/s1>"
    mine = out / "id" / "other" / "index.html"
    mine.parent.mkdir(parents=True)
    mine.write_text("my notes", encoding="utf-8")
    before = tree(out)
    add_lines(settings.release_dir, f'<{BASE}other> <http://www.w3.org/2000/01/rdf-schema#label> "Other"@en {g} .')
    with pytest.raises(UsageError, match="did not write it"):
        write_site(settings, out=out, jobs=1)
    assert tree(out) == before  # nothing touched, the state and marker as they were
    assert incremental.state_path(out).is_file()


def lonely_project(root: Path) -> Settings:
    """The tiny project with one more resource, alone in the second source's graph."""
    settings = tiny_project(root)
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    add_lines(settings.release_dir, f'<{BASE}lonely> {label} "Lonely"@en <{BASE}graph/s2> .')
    return settings


def rename_lonely(settings: Settings) -> None:
    """A change in the second source's graph only: the lonely resource's label."""
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Lonely"@en', '"Alone"@en'), encoding="utf-8")


def test_only_keys_of_iris_in_a_changed_graph_are_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = lonely_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    rename_lonely(settings)
    hashed: list[tuple[str, str]] = []
    real = SiteBuilder.dep_value
    monkeypatch.setattr(SiteBuilder, "dep_value", lambda self, k, key: hashed.append((k, key)) or real(self, k, key))
    second = write_site(settings, out=out, jobs=1)
    monkeypatch.undo()
    assert second.made == 1
    names = {key for k, key in hashed if k not in incremental.ALWAYS_CHECKED}  # archived texts: read anew
    assert f"{BASE}lonely" in names and f"{BASE}gizmo" not in names and f"{BASE}thing" not in names
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_an_archived_text_changed_beside_the_release_is_seen(tmp_path: Path) -> None:
    """The texts are read from the sources folder, not the release: their keys are always hashed again."""
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    text = settings.sources_dir / "s1" / "a.txt"
    text.write_text(text.read_text(encoding="utf-8").replace("这里", "那里"), encoding="utf-8")
    again = write_site(settings, out=out, jobs=1)
    assert again.made >= 1
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_the_sitemap_written_in_python_is_the_templates(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    data = read_release(settings)
    builder = SiteBuilder(data, SiteMap(root_iri=site_root_iri(settings, data.base_iri), ontology_ns=data.ontology_ns))
    files = ["index.html", "en/index.html", "id/a&b<c>/index.html", "id/x/data.ttl", "browse/index.html"]
    assert builder.sitemap_xml(files) == builder.sitemap_by_template(files)
    assert b"a&amp;b&lt;c&gt;" in builder.sitemap_xml(files)


def test_a_resource_at_an_overview_pages_path_leaves_it_the_overview_page(tmp_path: Path) -> None:
    """As in a whole build, where the overview pages are written last, whether or not they are kept."""
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    g = f"<{BASE}graph/s1>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    add_lines(settings.release_dir, f'<https://example.org/data/browse> {label} "Browse me"@en {g} .')
    write_site(settings, out=out, jobs=1)
    for n in range(2):  # the resource is made again; browse/ too, then kept
        nq = settings.release_dir / "policy.nq"
        nq.write_text(nq.read_text(encoding="utf-8").replace("Browse me", f"Browse me {n}"), encoding="utf-8")
        write_site(settings, out=out, jobs=1)
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    marked = (out / atomic.MARKER).read_text(encoding="utf-8")
    assert marked.count('"browse/index.html"') == 1


def test_a_changed_catalog_subject_hashes_again_only_the_iris_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog changes with every build (checksums): each subject of it counts as a graph of its own,
    and of a changed subject only the IRIs of the triples that went or came are hashed again (not those
    its unchanged triples name: at 1M the release's statement names 15,674 parts); the bytes are a whole
    build's."""
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    catalog = settings.release_dir / "catalog.ttl"
    dct = "<http://purl.org/dc/terms/"
    catalog.write_text(
        f'<{BASE}dist/a> {dct}title> "A" ; {dct}source> <{BASE}thing> .\n'
        f'<{BASE}dist/b> {dct}title> "B" ; {dct}source> <{BASE}gizmo> .\n',
        encoding="utf-8",
    )
    write_site(settings, out=out, jobs=1)
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('"A"', '"A, revised"'), encoding="utf-8")
    hashed: list[tuple[str, str]] = []
    real_changed = incremental.changed_keys

    def recorded(builder: SiteBuilder, state: dict | None, **kwargs: Any) -> set[int]:
        """changed_keys, noting the keys it hashes (not the reads of the pages made again after it)."""
        real = builder.dep_value
        builder.dep_value = lambda k, key: hashed.append((k, key)) or real(k, key)  # type: ignore[method-assign]
        try:
            return real_changed(builder, state, **kwargs)
        finally:
            del builder.dep_value

    monkeypatch.setattr(incremental, "changed_keys", recorded)
    second = write_site(settings, out=out, jobs=1)
    monkeypatch.undo()
    assert second.made >= 1
    names = {key for k, key in hashed if k not in incremental.ALWAYS_CHECKED}
    assert f"{BASE}dist/a" in names
    assert f"{BASE}thing" not in names  # named by dist/a's unchanged triple (its page reads dist/a's keys)
    assert f"{BASE}dist/b" not in names and f"{BASE}gizmo" not in names
    # a triple moved from one subject to the other: both subjects' IRIs (and the old object's) count
    catalog.write_text(
        catalog.read_text(encoding="utf-8").replace(f"{dct}source> <{BASE}thing>", f"{dct}source> <{BASE}aaa>"),
        encoding="utf-8",
    )
    write_site(settings, out=out, jobs=1)
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    assert "A, revised" in tree(out)["id/dist/a/index.html"].decode()


def test_a_few_pages_are_shared_out_among_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a change a few pages are made again: with two jobs they go to two workers, not one chunk here,
    and so do the long lists (browse/, timeline/, the saved queries' pages), with the same bytes."""
    pools: list[int] = []
    real = incremental.ProcessPoolExecutor

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            pools.append(int(kwargs["max_workers"]))  # type: ignore[call-overload]
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(incremental, "ProcessPoolExecutor", Counted)
    here: list[str] = []  # the long lists made in this process (a worker's calls are noted in its copy)
    for name in ("browse_page", "timeline_page", "query_page"):
        real_make = getattr(SiteBuilder, name)
        monkeypatch.setattr(
            SiteBuilder, name, lambda self, *a, real_make=real_make, name=name: here.append(name) or real_make(self, *a)
        )
    settings = tiny_project(tmp_path / "p")
    add_labels_query(settings.root)
    out, whole = tmp_path / "site", tmp_path / "whole"
    result = write_site(settings, out=out, jobs=2)
    assert result.made == 4 and pools == [2]
    # browse/ and timeline/ were made in the workers; the query's one part, alone after the answers, here
    assert here == ["query_page"]
    # after a label changed, the same: and the bytes are those of a whole build in one process
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=2)
    # the resource pages and browse/ in the pool while the child answered; then the one query part that
    # changed, alone, here (a pool for one page would only add a fork)
    assert here == ["query_page", "query_page"] and len(pools) == 2
    monkeypatch.undo()
    write_site(settings, out=whole, incremental=False, jobs=1)
    made = tree(out)
    assert made == tree(whole)
    assert (
        "Thing renamed" in made["browse/index.html"].decode()
        and "Thing renamed" in made["queries/labels/index.html"].decode()
    )


def test_a_saved_query_runs_once_a_site_whatever_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole and after a change, with two workers: each saved query is answered once, in one process
    (the child of toolkit.site.answers, or this one), before the workers fork (they inherit the
    answer; the state needs it here too)."""
    runs = tmp_path / "runs.txt"  # a worker's calls are noted in its copy of a list: a file sees them all
    real = pages.answer_saved

    def noted(*args: Any) -> Any:
        with runs.open("a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(pages, "answer_saved", noted)
    monkeypatch.setattr(answers, "answer_saved", noted)
    monkeypatch.setattr(incremental, "CHUNK", 1)
    settings = tiny_project(tmp_path / "p")
    add_labels_query(settings.root)
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=2)
    assert len(runs.read_text(encoding="utf-8").split()) == 1
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    runs.unlink()
    write_site(settings, out=out, jobs=2)
    assert len(runs.read_text(encoding="utf-8").split()) == 1
    assert "Thing renamed" in (out / "queries" / "labels" / "index.html").read_text(encoding="utf-8")
    runs.unlink()

    def no_child(self: answers.Answers, *args: Any) -> None:
        self.child, self.times = None, {}

    monkeypatch.setattr(answers.Answers, "__init__", no_child)  # no child: answered here, once
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing renamed"@en', '"Thing"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=2)
    assert runs.read_text(encoding="utf-8").split() == [str(os.getpid())]
    assert "Thing renamed" not in (out / "queries" / "labels" / "index.html").read_text(encoding="utf-8")


def test_the_release_and_the_state_are_frozen_out_of_the_collector_while_pages_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that reads the release in one scan (a whole one) does not leave its objects to the cyclic
    collector (a full collection walked them all again, half of a run, before); a run after a change
    reads only the subjects it asks for, also when a label changed (``browse/`` is made again one part
    at a time, its rows from one query of the index). The collector is on for the pages, and the heap
    is ordinary again after the run."""
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    seen: list[tuple[bool, bool, bool]] = []
    real = incremental.make_pages

    def spy(builder: SiteBuilder, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("answered", True):
            return real(builder, *args, **kwargs)  # the saved queries' pages, made after the resource pages
        walked = {id(o) for o in gc.get_objects()}  # the collector's generations (not the frozen one)
        subjects = builder.release.out.data
        entry = subjects.cache.get(f"{BASE}thing")
        seen.append((gc.isenabled(), subjects.complete, entry is not None and id(entry) in walked))
        return real(builder, *args, **kwargs)

    monkeypatch.setattr(incremental, "make_pages", spy)
    write_site(settings, out=out, jobs=1)
    nq = settings.release_dir / "policy.nq"
    wobbles = f"<https://example.org/vocab#wobbles> <{BASE}thing>"
    nq.write_text(nq.read_text(encoding="utf-8").replace(wobbles, wobbles[:-7] + "elsewhere>"), encoding="utf-8")
    write_site(settings, out=out, jobs=1)  # no label, type or date changed: browse/ and timeline/ are kept
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    assert seen == [(True, True, False), (True, False, True), (True, False, True)]
    assert gc.get_freeze_count() == 0


def test_an_archived_text_is_read_only_for_a_page_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a change that does not touch a source, its archived text is not read (its key is noted by
    the file's status and the release's checksum); after the text changed, it is, and the bytes are
    a whole build's."""
    settings = lonely_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    read: list[str] = []
    real = SourceText.load
    monkeypatch.setattr(SourceText, "load", lambda self: read.append(self.path.name) or real(self))
    rename_lonely(settings)
    assert write_site(settings, out=out, jobs=1).made == 1
    assert read == []
    text = settings.sources_dir / "s1" / "a.txt"
    text.write_text(text.read_text(encoding="utf-8").replace("这里", "那里"), encoding="utf-8")
    assert write_site(settings, out=out, jobs=1).made >= 1
    assert "a.txt" in read
    monkeypatch.undo()
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    assert "那里" in (out / "id" / "source" / "s1" / "index.html").read_text(encoding="utf-8")


def test_the_saved_queries_are_answered_in_a_child_while_the_release_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One child answers every saved query; this process never loads the release into a store. When
    the child fails, this process answers them itself: the same bytes either way."""
    calls = tmp_path / "calls.txt"  # the child's calls are in its own memory: a file sees them
    real_answer, real_store = answers.answer_saved, Release.query_store

    def answer(*args: Any) -> Any:
        with calls.open("a", encoding="utf-8") as f:
            f.write(f"answer {os.getpid()}\n")
        return real_answer(*args)

    def store(self: Release) -> Any:
        with calls.open("a", encoding="utf-8") as f:
            f.write(f"store {os.getpid()}\n")
        return real_store(self)

    monkeypatch.setattr(answers, "answer_saved", answer)
    monkeypatch.setattr(Release, "query_store", store)
    settings = tiny_project(tmp_path / "p")
    add_labels_query(settings.root)
    (settings.root / "queries" / "nothing.rq").write_text(  # its default names nothing: refused
        "# title@zh: 无\n# title@en: Nothing\n# answers: Nothing.\n# param thing: entity = no-such-thing -- a thing\n"
        "SELECT ?p ?o WHERE { ?thing ?p ?o }\n",
        encoding="utf-8",
    )
    out, failed = tmp_path / "site", tmp_path / "failed"
    write_site(settings, out=out, jobs=1)
    noted = calls.read_text(encoding="utf-8").split("\n")[:-1]
    assert noted and {line.split()[0] for line in noted} == {"answer"}  # no store loaded here
    assert len({line.split()[1] for line in noted}) == 1 and str(os.getpid()) not in noted[0]
    calls.unlink()

    def broken(*args: Any) -> Any:
        raise RuntimeError("the child fails")

    monkeypatch.setattr(answers, "load_store", broken)
    write_site(settings, out=failed, jobs=1)
    assert set(calls.read_text(encoding="utf-8").split("\n")[:-1]) == {f"store {os.getpid()}"}  # answered here
    monkeypatch.undo()
    made = tree(out)
    assert made == tree(failed)
    assert "Thing" in made["queries/labels/index.html"].decode()
    assert "no-such-thing" in made["queries/nothing/index.html"].decode()
    assert made["queries/nothing/index.html"] == build_site_files(settings)["queries/nothing/index.html"]


def test_the_saved_queries_are_answered_longest_first_by_the_last_runs_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child notes each query's time, the state keeps it, and the next run's child takes the query that
    was longest first (a query the state does not know before them all)."""
    assert answers.longest_first(["a", "b", "c", "new"], {"a": 0.1, "b": 2.0, "c": 0.1}) == ["new", "b", "a", "c"]
    order = tmp_path / "order.txt"  # the child's calls are in its own memory: a file sees them
    real_answer = answers.answer_saved

    def answer(store: Any, saved: Any, base: str) -> Any:
        with order.open("a", encoding="utf-8") as f:
            f.write(saved.name + "\n")
        return real_answer(store, saved, base)

    monkeypatch.setattr(answers, "answer_saved", answer)
    settings = tiny_project(tmp_path / "p")
    add_labels_query(settings.root)
    (settings.root / "queries" / "all.rq").write_text(
        "# title@zh: 全部\n# title@en: All\n# answers: Every triple.\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8"
    )
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    times = incremental.query_times(out)
    assert sorted(times) == ["all", "labels"] and all(isinstance(t, float) and t >= 0 for t in times.values())
    for longest in ("labels", "all"):
        order.unlink()
        db = sqlite3.connect(incremental.state_path(out))
        with db:
            slow = json.dumps({"all": 0.01, "labels": 0.01} | {longest: 9.0})
            db.execute("UPDATE meta SET value = ? WHERE name = 'query-times'", (slow,))
        db.close()
        write_site(settings, out=out, jobs=1)
        assert order.read_text(encoding="utf-8").split() == [longest, *({"all", "labels"} - {longest})]


def test_a_site_run_leaves_the_release_files_status_as_it_was(tmp_path: Path) -> None:
    """The build notes its release by each file's size, times and inode (a file touched since is a
    release it did not make, and the next build is made whole); a site run, whole or after a change,
    must not move any of them (a hard link of a release file into the site moves its change time)."""
    settings = tiny_project(tmp_path / "p")
    release = settings.release_dir

    def status() -> dict[str, tuple[int, ...]]:
        return {
            p.name: (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_nlink)
            for p in sorted(release.iterdir())
            if (st := p.stat())
        }

    before = status()
    write_site(settings, out=tmp_path / "site", jobs=1)
    write_site(settings, out=tmp_path / "site", jobs=1)
    assert status() == before
