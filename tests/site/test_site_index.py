"""The release index kept beside the site (:mod:`toolkit.site.releaseindex`): only the blocks whose
bytes changed are parsed, the index after any history equals one made anew, and what the state
asks of it ("what changed since") is exact or refused."""

from __future__ import annotations

import fcntl
import marshal
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.site.test_site_generic import BASE, tiny_project
from tests.site.test_site_incremental import add_lines, tree
from toolkit.errors import UsageError
from toolkit.site import data, incremental, pages, write_site
from toolkit.site.releaseindex import ReleaseIndex, is_sites_file, nq_blocks, ttl_blocks

LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
DCT = "<http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"


def rows(index: ReleaseIndex) -> list[tuple]:
    return index.conn().execute("SELECT s, p, o, k, lang, dt, g FROM quads ORDER BY s, p, o, k, lang, dt, g").fetchall()


def sync(index: ReleaseIndex, release: Path) -> None:
    catalog = release / "catalog.ttl"
    index.sync(release / "policy.nq", catalog if catalog.is_file() else None, BASE + "catalog", BASE + "graph/ontology")


def test_only_the_changed_blocks_are_parsed_and_the_index_equals_one_made_anew(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    release = settings.release_dir
    with (release / "policy.nq").open("a", encoding="utf-8") as fh:  # a graph after the other, as the build writes
        fh.write(f'<{BASE}lonely> {LABEL} "Lonely"@en <{BASE}graph/s2> .\n')
    (release / "catalog.ttl").write_text(
        f"@prefix dct: {DCT}> .\n\n"
        f'<{BASE}dist/a> dct:title "A" ;\n    dct:source <{BASE}thing> .\n\n'
        f'<{BASE}dist/b> dct:title "B" .\n',
        encoding="utf-8",
    )
    index = ReleaseIndex(tmp_path / "index")
    sync(index, release)
    assert index.blocks_parsed == 4  # graphs s1 and s2, the catalog's two statements
    id_, gen = index.generation()
    nq = release / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Lonely"@en', '"Alone"@en'), encoding="utf-8")
    sync(index, release)
    assert index.blocks_parsed == 1  # the second source's graph only
    assert index.changed_since(id_, gen) == {f"{BASE}lonely"}
    catalog = release / "catalog.ttl"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace(f"<{BASE}thing>", f"<{BASE}gizmo>"), "utf-8")
    index.blocks_parsed = 0
    sync(index, release)
    assert index.blocks_parsed == 1  # dist/a's statement only
    assert index.changed_since(id_, gen + 1) == {f"{BASE}dist/a", f"{BASE}thing", f"{BASE}gizmo"}
    fresh = ReleaseIndex(None)
    sync(fresh, release)
    assert rows(index) == rows(fresh) and len(rows(fresh)) == 16
    index.blocks_parsed = 0
    sync(index, release)
    assert index.blocks_parsed == 0  # nothing changed: nothing parsed, no new generation
    assert index.generation() == (id_, gen + 2)


def test_what_changed_since_is_refused_for_another_index_or_a_forgotten_generation(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    index = ReleaseIndex(tmp_path / "index")
    sync(index, settings.release_dir)
    id_, gen = index.generation()
    assert index.changed_since(id_, gen) == set()
    assert index.changed_since("another", gen) is None
    assert index.changed_since(id_, gen + 1) is None  # a state newer than the index: the index was made anew
    add_lines(settings.release_dir, f'<{BASE}new> {LABEL} "New"@en <{BASE}graph/s1> .')
    sync(index, settings.release_dir)
    index.forget_until(gen + 1)
    assert index.changed_since(id_, gen + 1) == set()
    assert index.changed_since(id_, gen) is None  # its record is gone: every key is hashed again


def test_files_that_cannot_be_cut_into_blocks_are_one_block(tmp_path: Path) -> None:
    assert nq_blocks(b'<a> <b> "c" .\n') is None  # no graph name: the file is one block
    runs = nq_blocks(b"<a> <b> <c> <g1> .\n<d> <b> <c> <g1> .\n<a> <b> <c> <g2> .\n<x> <b> <c> <g1> .\n")
    assert runs is not None and [k for k, _ in runs] == ["g1#0", "g2#0", "g1#1"]
    header, statements = ttl_blocks(b"@prefix x: <y> .\n<a> x:b 1 .\n<c> x:d 2 ;\n    x:e 3 .\n")
    assert header == b"@prefix x: <y> .\n" and [k for k, _ in statements] == ["<a>#0", "<c>#0"]
    # a long literal with a line that looks like a statement's start: the catalog is parsed whole
    settings = tiny_project(tmp_path / "p")
    (settings.release_dir / "catalog.ttl").write_text(
        f'<{BASE}dist/a> {DCT}description> """one\n<{BASE}x> <{BASE}y> <{BASE}z> .\ntwo""" .\n', encoding="utf-8"
    )
    index = ReleaseIndex(None)
    sync(index, settings.release_dir)
    found = index.subject(f"{BASE}dist/a")
    assert [r[1] for r in found] == [f"one\n<{BASE}x> <{BASE}y> <{BASE}z> .\ntwo"]
    assert not index.has_subject(f"{BASE}x")


def test_a_damaged_index_is_made_again_and_the_site_is_a_whole_builds(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    path = incremental.index_path(out)
    assert path.is_file()
    data = path.read_bytes()  # the header kept (the site's application id), the rest damaged
    path.write_bytes(data[:100] + b"not a database at all" * (len(data) // 21))
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    again = write_site(settings, out=out, jobs=1)
    assert again.made >= 1
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM quads").fetchone()[0] > 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_after_a_change_never_reads_the_whole_release(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a change the pages read the subjects they ask for (in the workers too), never a full scan;
    a whole run scans once. A label change remakes one part of ``browse/``: its rows come from one
    query of the index, not a scan of every subject."""
    monkeypatch.setattr(incremental, "CHUNK", 1)
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    scans: list[str] = []
    real = ReleaseIndex.all_rows
    monkeypatch.setattr(ReleaseIndex, "all_rows", lambda self: scans.append("scan") or real(self))
    write_site(settings, out=out, jobs=jobs)
    assert scans == ["scan"]
    nq = settings.release_dir / "policy.nq"
    wobbles = f"<https://example.org/vocab#wobbles> <{BASE}thing>"
    nq.write_text(nq.read_text(encoding="utf-8").replace(wobbles, wobbles[:-7] + "elsewhere>"), encoding="utf-8")
    assert write_site(settings, out=out, jobs=jobs).made >= 2  # gizmo, thing that it no longer points at…
    assert scans == ["scan"]
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    assert write_site(settings, out=out, jobs=jobs).made == 1
    assert scans == ["scan"]
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_the_state_is_written_per_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a change only the rows of the pages made again are written, not those of the kept pages."""
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    for n in range(5):
        add_lines(settings.release_dir, f'<{BASE}extra{n}> {LABEL} "Extra {n}"@en <{BASE}graph/s1> .')
    write_site(settings, out=out, jobs=1)
    statements: list[str] = []
    real = incremental.write_state

    def traced(target: Path, fp: str, old: incremental.State | None, *args: Any) -> None:
        assert old is not None
        old.db.set_trace_callback(statements.append)
        try:
            real(target, fp, old, *args)
        finally:
            old.db.set_trace_callback(None)

    monkeypatch.setattr(incremental, "write_state", traced)
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Extra 3"@en', '"Extra three"@en'), encoding="utf-8")
    assert write_site(settings, out=out, jobs=1).made == 1
    pages = [s for s in statements if "INTO pages" in s]
    assert len(pages) == 1 and f"{BASE}extra3" in pages[0]
    assert not any("DELETE FROM pages" in s and "extra" in s for s in statements)
    assert not any("SELECT" in s and "FROM pages" in s for s in statements)


def test_an_interrupted_update_leaves_a_state_the_next_run_does_not_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    fp_state = incremental.state_path(out)
    real = incremental.atomic.write_marker

    def stop(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("stopped midway")

    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    add_lines(settings.release_dir, f'<{BASE}new> {LABEL} "New"@en <{BASE}graph/s1> .')  # the marker is written
    monkeypatch.setattr(incremental.atomic, "write_marker", stop)
    with pytest.raises(RuntimeError):
        write_site(settings, out=out, jobs=1)
    monkeypatch.setattr(incremental.atomic, "write_marker", real)
    assert fp_state.is_file()
    assert sqlite3.connect(fp_state).execute("SELECT value FROM meta WHERE name = 'valid'").fetchone() == ("0",)
    again = write_site(settings, out=out, jobs=1)
    assert again.kept == 0  # made whole
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_the_index_is_brought_up_to_date_holding_the_sites_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs into one site never update its index (or state) at once: the second waits for the lock."""
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    held: list[bool] = []
    real = ReleaseIndex.sync

    def check(self: ReleaseIndex, *args: Any) -> None:
        fd = os.open(incremental.atomic.lock_path(out), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(False)
        except BlockingIOError:
            held.append(True)
        finally:
            os.close(fd)
        real(self, *args)

    monkeypatch.setattr(ReleaseIndex, "sync", check)
    write_site(settings, out=out, jobs=1)
    write_site(settings, out=out, jobs=1)
    assert held == [True, True]


def test_the_kept_pages_files_are_checked_beside_the_pages_being_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full check of the kept pages' files (a page touched by hand is made again) runs in a process of
    its own while the keys are hashed and the pages made, not in this one."""
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    calls = tmp_path / "calls.txt"  # the check's calls are in its own memory: a file sees them
    real = incremental.touched

    def spy(*args: Any) -> list[str]:
        with calls.open("a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(incremental, "touched", spy)
    page = out / "en" / "id" / "gizmo" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"Gizmo", b"Gadge"))
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=1, check_kept=True)
    pids = calls.read_text(encoding="utf-8").split()
    assert len(pids) == 1 and pids[0] != str(os.getpid())
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_a_page_made_again_has_its_reads_noted_once(tmp_path: Path) -> None:
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    db = sqlite3.connect(incremental.state_path(out))
    before = db.execute("SELECT COUNT(*) FROM deps WHERE owner = ?", (f"p\t{BASE}thing",)).fetchone()[0]
    db.close()
    nq = settings.release_dir / "policy.nq"
    for label in ("Thing renamed", "Thing"):
        text = nq.read_text(encoding="utf-8")
        nq.write_text(text.replace('"Thing renamed"@en', '"Thing"@en').replace('"Thing"@en', f'"{label}"@en'), "utf-8")
        assert write_site(settings, out=out, jobs=1).made >= 1
    db = sqlite3.connect(incremental.state_path(out))
    assert db.execute("SELECT COUNT(*) FROM deps WHERE owner = ?", (f"p\t{BASE}thing",)).fetchone()[0] == before > 0


def test_a_subject_read_ahead_is_the_subject_read_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows read ahead (the next subjects', up to a limit that may cut a subject's rows short) give
    each subject the same quads as reading it alone, whatever the order subjects are asked for in."""
    monkeypatch.setattr(data, "READ_AHEAD", 3)
    settings = tiny_project(tmp_path / "p")
    index = ReleaseIndex(None)
    sync(index, settings.release_dir)
    subjects = index.subjects()
    alone = {s: data.group(index.subject(s)) for s in subjects}
    for order in (subjects, subjects[::-1], subjects[1::2] + subjects[::2]):
        lazy = data.Subjects(index)
        assert {s: lazy.get(s) for s in order} == alone
        assert lazy.get(f"{BASE}nothing-here") is None and lazy.get("") is None


def test_only_the_text_keys_of_iris_that_name_an_archived_file_are_checked_on_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text that appears beside the release (the source names it, the file was missing) is seen; the
    "has it a text" keys of the other resource pages are not hashed after an unrelated change."""
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    text = settings.sources_dir / "s1" / "a.txt"
    kept = text.read_bytes()
    text.unlink()
    write_site(settings, out=out, jobs=1)
    text.write_bytes(kept)
    checked: list[tuple[str, str]] = []
    real = incremental.State.keys_named

    def spy(self: incremental.State, *args: Any) -> Any:
        for row in real(self, *args):
            checked.append((row[1], row[2]))
            yield row

    monkeypatch.setattr(incremental.State, "keys_named", spy)
    assert write_site(settings, out=out, jobs=1).made >= 1
    monkeypatch.undo()
    assert ("text", f"{BASE}source/s1") in checked and ("text", f"{BASE}gizmo") not in checked
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)
    assert "另一个事实在这里" in tree(out)["id/source/s1/index.html"].decode()


def test_a_label_change_reads_the_lists_rows_without_asking_for_every_subject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``browse/`` and ``timeline/`` are cut into parts from every resource's classes and dates each run;
    those come from one query of the index, so a label change asks for the subjects of the pages made
    again, not for resources nothing made again shows (a million of them at 1M)."""
    monkeypatch.setattr(pages, "PAGE_ROWS", 1)  # a part of a list shows one row: the part of "thing" alone
    settings = tiny_project(tmp_path / "p")
    lonely = [f"{BASE}lonely{n}" for n in range(5)]
    with (settings.release_dir / "policy.nq").open("a", encoding="utf-8") as fh:  # a graph of their own
        for n, iri in enumerate(lonely):
            fh.write(f'<{iri}> {LABEL} "Lonely {n}"@en <{BASE}graph/s9> .\n')
            fh.write(f'<{iri}> {DCT}date> "2024-0{n + 1}-01"^^<{XSD}date> <{BASE}graph/s9> .\n')
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    asked: list[str] = []
    real = data.Subjects.get

    def spy(self: data.Subjects, s: str, default: Any = None) -> Any:
        asked.append(s)
        return real(self, s, default)

    monkeypatch.setattr(data.Subjects, "get", spy)
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    write_site(settings, out=out, jobs=1)
    assert f"{BASE}thing" in asked
    assert not set(lonely) & set(asked)
    whole = tmp_path / "whole"
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


@pytest.mark.parametrize("where", ["index", "state", "tmp"])
@pytest.mark.parametrize("kind", ["text", "sqlite"])
def test_a_file_beside_the_site_that_is_not_the_sites_is_refused_and_kept(
    tmp_path: Path, where: str, kind: str
) -> None:
    """The index and the state live beside the site folder, under names a user's file may have: such a
    file (not an SQLite file bearing the site's application id) is refused, exit 2, and left as it was,
    and the site folder is not touched either."""
    settings = tiny_project(tmp_path / "p")
    out = tmp_path / "site"
    write_site(settings, out=out, jobs=1)
    before = tree(out)
    path = {
        "index": incremental.index_path(out),
        "state": incremental.state_path(out),
        "tmp": incremental.state_tmp_path(out),
    }[where]
    path.unlink(missing_ok=True)
    if kind == "text":
        path.write_text("my notes\n", encoding="utf-8")
    else:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE mine (x)")
        db.execute("INSERT INTO mine VALUES (42)")
        db.commit()
        db.close()
    mine = path.read_bytes()
    nq = settings.release_dir / "policy.nq"
    nq.write_text(nq.read_text(encoding="utf-8").replace('"Thing"@en', '"Thing renamed"@en'), encoding="utf-8")
    with pytest.raises(UsageError, match="did not write it") as exc:
        write_site(settings, out=out, jobs=1)
    assert exc.value.exit_code == 2
    assert path.read_bytes() == mine
    assert tree(out) == before


def test_a_state_of_the_older_format_is_the_sites_and_is_replaced(tmp_path: Path) -> None:
    """A state written by the site before it kept its state in SQLite (a marshal dict) is the site's:
    the site is made whole and the state replaced, not refused."""
    settings = tiny_project(tmp_path / "p")
    out, whole = tmp_path / "site", tmp_path / "whole"
    write_site(settings, out=out, jobs=1)
    path = incremental.state_path(out)
    path.write_bytes(marshal.dumps({"version": 4, "fingerprint": "0" * 64, "keys": []}))
    write_site(settings, out=out, jobs=1)
    assert is_sites_file(path) and path.read_bytes()[:16] == b"SQLite format 3\x00"
    write_site(settings, out=whole, incremental=False, jobs=1)
    assert tree(out) == tree(whole)


def test_the_subjects_kept_in_the_index_are_those_of_its_quads_after_every_change(tmp_path: Path) -> None:
    """The subjects in order are read every run from a table kept up to date as blocks change (not by a
    SELECT DISTINCT over every quad): the same as the quads', as subjects come, go and move between graphs."""
    settings = tiny_project(tmp_path / "p")
    nq = settings.release_dir / "policy.nq"
    index = ReleaseIndex(tmp_path / "index")

    def distinct() -> list[str]:
        return [s for (s,) in index.conn().execute("SELECT DISTINCT s FROM quads ORDER BY s")]

    base_text = nq.read_text(encoding="utf-8")
    s2 = [
        f'<{BASE}lonely> {LABEL} "Lonely"@en <{BASE}graph/s2> .',
        f'<{BASE}thing> {LABEL} "Thing"@zh <{BASE}graph/s2> .',  # thing in a second graph too
    ]
    steps = [
        base_text + "\n".join(s2) + "\n",  # a graph with a new subject and one of the first graph's
        base_text + s2[1] + "\n",  # lonely gone, thing still in both graphs
        base_text,  # the second graph gone: thing in one graph again
        base_text.replace(f"<{BASE}thing>", f"<{BASE}thing2>") + s2[0] + "\n",  # renamed; lonely back
    ]
    seen = []
    for text in steps:
        nq.write_text(text, encoding="utf-8")
        sync(index, settings.release_dir)
        assert index.subjects() == distinct()
        seen.append(set(index.subjects()))
    assert f"{BASE}lonely" in seen[0] and f"{BASE}lonely" not in seen[1] and f"{BASE}thing" in seen[2]
    assert f"{BASE}thing" not in seen[3] and {f"{BASE}thing2", f"{BASE}lonely"} <= seen[3]
    fresh = ReleaseIndex(None)
    sync(fresh, settings.release_dir)
    assert fresh.subjects() == index.subjects()
