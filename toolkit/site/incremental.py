"""The site's resource pages made in worker processes, and again only where their inputs changed.

Why a pool: the resource pages are nearly all of the site (two HTML pages and three data files
per resource) and each is independent of the others, so they are made in ``jobs`` forked
processes that write their files straight into the staging folder (only the search entry and
the page's reads travel back). Why forked: the workers inherit the parsed release instead of
reading it again.

Why incremental, and why it is exact: a page is a pure function of what it reads from the
release, and every read goes through :class:`toolkit.site.pages.Tracked` or a noted helper
(``labels``, ``page_of``, ``types_of``, ``dates_of``), so each page knows its inputs as
``kind<TAB>key`` with a hash of their values. The state beside the site
(``.<site>.site-state``, SQLite: :data:`STATE_SCHEMA`) keeps those hashes and, for each key, the
pages that read it; the next run hashes again only the keys of the IRIs that the release index
says changed (:func:`affected_iris`), makes again only the pages that read a key whose hash
differs, and writes only their rows. The ontology pages and each part of ``browse/``,
``timeline/`` and each saved query's page are noted the same way (a part also by its rows, and a
query's part by the query's file and error: :meth:`SiteBuilder.part_key`), and so is the home
page (:meth:`SiteBuilder.home_key`); the rows of ``browse/`` and ``timeline/`` are kept in the state
and compared for the changed IRIs only (:class:`StoredLists`); the search shards and the sitemap
are brought up to date from the pages that changed (:class:`Derived`); the catalog, SPARQL and
search pages are always made, and written only when their bytes changed. Anything else (the
code, templates, schema, prefixes, site root) is in one fingerprint: when it changes the site is
made whole.

Why in place: after a change only the files that differ are written (each to the staging folder
first, then renamed over the old one) and the files of pages that are gone deleted, instead of
hard-linking tens of thousands of kept files into a new folder and deleting the old one. Only
files that the marker and the state name as the toolkit's are replaced or deleted. A test
compares the bytes with a whole build.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import marshal
import multiprocessing
import os
import re
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from toolkit.errors import UsageError
from toolkit.publish import atomic
from toolkit.query.sitefiles import DATA_FILES
from toolkit.site.child import Child
from toolkit.site.data import RDFS
from toolkit.site.pages import Job, ResourceUnit, SiteBuilder
from toolkit.site.releaseindex import APPLICATION_ID, claim, is_sites_file
from toolkit.site.search import SearchIndex, auto_shards, dumps, shard_of, term_key

STATE_VERSION = 7
CHUNK = 64
#: a file larger than this is put in place by unlink and rename, not by rename over it (:func:`update_in_place`)
BIG_FILE = 1 << 20

#: the builder the forked workers inherit (set just before the pool starts)
_BUILDER: SiteBuilder | None = None
#: the staging folder the workers write into
_STAGING: Path | None = None


def state_path(target: Path) -> Path:
    """The incremental state of a site folder: beside it, ``.<name>.site-state``, an SQLite file.

    Why SQLite: after one change a run reads the keys of the changed IRIs, the pages that read a
    changed key (an index of the keys each page read) and writes the rows of the pages made again,
    not a blob of every key and page (288 MB at 1M triples, made, written and read whole before).
    What it holds: :data:`STATE_SCHEMA`; values of plain types in :mod:`marshal` (nothing is run when
    they are read); a state of other code (:func:`fingerprint`) or marked invalid is not used."""
    return target.parent / f".{target.name}.site-state"


def state_tmp_path(target: Path) -> Path:
    """Where a whole site's new state is written before it is renamed over :func:`state_path`."""
    path = state_path(target)
    return path.with_name(path.name + ".tmp")


def _package_files() -> Iterator[tuple[str, bytes]]:
    stack = [resources.files("toolkit.site")]
    while stack:
        folder = stack.pop()
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.is_dir():
                if item.name != "__pycache__":
                    stack.append(item)
            elif item.is_file():
                yield str(item), item.read_bytes()


def fingerprint(builder: SiteBuilder) -> str:
    """What every page may read besides the release's data: code, templates, schema, prefixes, roots."""
    h = hashlib.sha256()
    for name, data in sorted(_package_files()):
        h.update(Path(name).name.encode() + b"\0" + hashlib.sha256(data).digest())
    schema = builder.release.settings.schema_dir
    for f in ("ontology.ttl", "shapes.ttl"):
        path = schema / f
        h.update(path.read_bytes() if path.is_file() else b"-")
    versions = {d: metadata.version(d) for d in ("jinja2", "pyoxigraph")}
    h.update(
        json.dumps(
            [
                sorted(builder.prefixes.items()),
                builder.sitemap.root_iri,
                builder.sitemap.ontology_ns,
                builder.release.base_iri,
                sorted(DATA_FILES.items()),
                versions,
                STATE_VERSION,
            ]
        ).encode()
    )
    return h.hexdigest()


STATE_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE keys (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL,
    UNIQUE (kind, name));
CREATE TABLE pages (iri TEXT PRIMARY KEY, path TEXT NOT NULL, doc BLOB NOT NULL, files BLOB NOT NULL);
CREATE TABLE deps (key INTEGER NOT NULL, owner TEXT NOT NULL);
CREATE TABLE jobs (name TEXT PRIMARY KEY, files BLOB NOT NULL, docs BLOB NOT NULL, deps BLOB NOT NULL);
CREATE TABLE rest (rel TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE TABLE lrows (list TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, c TEXT NOT NULL, iri TEXT NOT NULL);
"""
#: made after the rows of a whole site are in (an index made at once is faster than one kept up row by row)
STATE_INDEXES = """
CREATE INDEX keys_name ON keys (name);
CREATE INDEX deps_key ON deps (key);
CREATE INDEX deps_owner ON deps (owner);
CREATE INDEX lrows_order ON lrows (list, a, b, c);
CREATE INDEX lrows_iri ON lrows (iri);
"""


class State:
    """The last run's state (:func:`state_path`): the pages' paths and files, the jobs and the other files
    read in full (what the folder's checks need), the keys and the pages' search entries only as asked for
    (:meth:`doc`: the search index is brought up to date from the pages that changed, :class:`Derived`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.pages: dict[str, dict[str, Any]] = {
            iri: {"path": path, "files": marshal.loads(files)}
            for iri, path, files in db.execute("SELECT iri, path, files FROM pages")
        }
        self.jobs: dict[str, dict[str, Any]] = {
            name: {"files": marshal.loads(files), "docs": marshal.loads(docs), "deps": marshal.loads(deps)}
            for name, files, docs, deps in db.execute("SELECT name, files, docs, deps FROM jobs")
        }
        self.rest: dict[str, list[Any]] = {
            rel: [size, mtime, h] for rel, size, mtime, h in db.execute("SELECT rel, size, mtime, hash FROM rest")
        }
        self.meta = dict(db.execute("SELECT name, value FROM meta"))

    def keys_named(
        self, names: Iterable[str] | None, sources: Iterable[str] = ()
    ) -> Iterator[tuple[int, str, str, str]]:
        """(id, kind, name, hash) of the keys of ``names``, of the :data:`ALWAYS_CHECKED` kinds but
        ``text``, and the ``text`` keys of ``sources`` (None: every key).

        Why the text keys of ``sources`` only: every resource page asks whether it has an archived text
        (a key each), but only an IRI with an ``archivedFile`` can have one; for the others the answer
        changes only with their quads, and then they are among ``names``."""
        if names is None:
            yield from self.db.execute("SELECT id, kind, name, hash FROM keys")
            return
        kinds = sorted(ALWAYS_CHECKED - {"text"})
        marks = ",".join("?" * len(kinds))
        yield from self.db.execute(f"SELECT id, kind, name, hash FROM keys WHERE kind IN ({marks})", kinds)
        for part in _parts(sorted(sources)):
            marks = ",".join("?" * len(part))
            yield from self.db.execute(
                f"SELECT id, kind, name, hash FROM keys WHERE kind = 'text' AND name IN ({marks})", part
            )
        for part in _parts(sorted(names)):
            yield from self.db.execute(
                f"SELECT id, kind, name, hash FROM keys WHERE name IN ({','.join('?' * len(part))})", part
            )

    def owners_of(self, ids: Iterable[int]) -> set[str]:
        """The pages and jobs (``p<TAB>iri``, ``j<TAB>name``) that read one of the keys ``ids``."""
        found: set[str] = set()
        for part in _parts(sorted(ids)):
            marks = ",".join("?" * len(part))
            found.update(o for (o,) in self.db.execute(f"SELECT DISTINCT owner FROM deps WHERE key IN ({marks})", part))
        return found

    def key_names(self, ids: Iterable[int]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for part in _parts(sorted(ids)):
            marks = ",".join("?" * len(part))
            found.update(self.db.execute(f"SELECT kind, name FROM keys WHERE id IN ({marks})", part))
        return found

    def doc(self, iri: str) -> tuple[dict[str, str], str, str] | None:
        """A page's search entry (titles, terms, snippet), None when the state has no such page."""
        found = self.db.execute("SELECT doc FROM pages WHERE iri = ?", (iri,)).fetchone()
        return None if found is None else tuple(marshal.loads(found[0]))  # type: ignore[return-value]

    def docs(self) -> dict[str, tuple[dict[str, str], str, str]]:
        """Every page's search entry, by IRI (a search index made again whole)."""
        return {iri: tuple(marshal.loads(doc)) for iri, doc in self.db.execute("SELECT iri, doc FROM pages")}  # type: ignore[misc]

    def close(self) -> None:
        self.db.close()


def _parts(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """``items`` in parts small enough for one SQL ``IN (...)``."""
    for n in range(0, len(items), size):
        yield items[n : n + size]


def load_state(target: Path, fp: str) -> State | None:
    """The previous run's state when it is for this code and schema and was finished (else None: make
    the site whole)."""
    path = state_path(target)
    if not path.is_file():
        return None
    db = None
    try:
        db = sqlite3.connect(path)
        meta = dict(db.execute("SELECT name, value FROM meta"))
        if meta.get("version") != str(STATE_VERSION) or meta.get("fingerprint") != fp or meta.get("valid") != "1":
            db.close()
            return None
        return State(db)
    except (sqlite3.Error, ValueError, EOFError, TypeError):
        if db is not None:
            db.close()
        return None


def query_times(target: Path) -> dict[str, float]:
    """The time each saved query took in the last run into ``target`` (its state's note; empty when
    there is none): read before the run's lock is taken, to order the queries, so only a hint, read
    only, from a file of the site's."""
    path = state_path(target)
    if not path.is_file() or not is_sites_file(path):
        return {}
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE name = 'query-times'").fetchone()
        times = json.loads(row[0]) if row is not None else {}
        return {str(k): float(v) for k, v in times.items()}
    except (sqlite3.Error, ValueError, TypeError, AttributeError):
        return {}


def is_older_state(path: Path) -> bool:
    """A state of the site's older format (a :mod:`marshal` dict with its version and fingerprint)."""
    try:
        old = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return False
    return isinstance(old, dict) and isinstance(old.get("version"), int) and isinstance(old.get("fingerprint"), str)


def claim_beside(target: Path) -> None:
    """Refuse (exit 2) before anything is read or changed when a file the site keeps beside its folder
    (its release index, its state, the state being written) is there and not the site's."""
    claim(index_path(target))
    claim(state_path(target), also=is_older_state)
    claim(state_tmp_path(target))


#: kinds of key whose value is not a function of the release's quads alone: always hashed again
#: (an archived text; a part of a long list, which also shows a saved query's file and answer)
ALWAYS_CHECKED = frozenset({"text", "resources"})


def index_path(target: Path) -> Path:
    """The release index of a site folder (:mod:`toolkit.site.releaseindex`): beside it, ``.<name>.site-index``."""
    return target.parent / f".{target.name}.site-index"


def affected_iris(builder: SiteBuilder, state: State) -> set[str] | None:
    """The IRIs named by a block of ``policy.nq`` (a graph) or of the catalog (a subject's statement) that
    changed since the state was written, in its old or its new lines; None when that cannot be told
    (then every key is hashed again). Asked of the release index, which keeps them by generation:
    proportional to the change, not to the release.

    Why it is exact: a key's value (a subject's triples, its incoming links, label, types, dates,
    whether it has a page) is made only of the quads that name its IRI, and a block whose bytes
    did not change holds the same quads."""
    try:
        noted = json.loads(state.meta.get("index", "null"))
    except ValueError:
        return None
    if not isinstance(noted, list) or len(noted) != 2:
        return None
    return builder.release.index.changed_since(noted[0], noted[1])


def changed_keys(builder: SiteBuilder, state: State | None, queries: bool) -> dict[int, str]:
    """The state's keys whose value in this release is not the one noted, with their new hashes (only the
    keys of :func:`affected_iris` and of :data:`ALWAYS_CHECKED` kinds are read and hashed again): only the
    saved queries' parts' keys (``queries``), or all but them (no answer is needed for them, and they are
    hashed while the child of :mod:`toolkit.site.answers` makes the answers)."""
    if state is None:
        return {}
    changed: dict[int, str] = {}
    for n, kind, name, old in state.keys_named(affected_iris(builder, state), builder.release.archived):
        if queries != (kind == "resources" and name.startswith("query\t")):
            continue
        if kind == "resources" and builder.kept_list(name.rpartition("\t")[0]):
            continue  # a part of a list whose rows did not change (:func:`list_changes`): its key is the same
        now = builder.dep_value(kind, name)
        if now != old:
            changed[n] = now
    return changed


def plan(
    builder: SiteBuilder, state: State | None, changed: dict[int, str]
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """(resources to make, resource -> its previous entry to keep as it is): a page is made again when it
    read a changed key (found through the index of the keys each page read) or is new. A page does not
    move between two runs of one state: where a page goes is a function of its IRI and of the site's
    roots, which are in the state's :func:`fingerprint` (so no page's folder is worked out again here)."""
    if state is None:
        return list(builder.resources), {}
    dirty = {owner[2:] for owner in state.owners_of(changed) if owner.startswith("p\t")}
    todo: list[str] = []
    keep: dict[str, dict[str, Any]] = {}
    for iri in builder.resources:
        entry = state.pages.get(iri)
        if entry is None or iri in dirty:
            todo.append(iri)
        else:
            keep[iri] = entry
    return todo, keep


#: the long lists whose rows the state keeps (:class:`StoredLists`); a saved query's rows are its answer's
LISTS = ("browse", "timeline")
#: connections inherited across a fork (kept, so that a worker never uses nor closes its parent's)
_INHERITED: list[sqlite3.Connection] = []


def rows_of(builder: SiteBuilder, name: str, iris: Iterable[str]) -> list[tuple[str, ...]]:
    """The rows of the list ``name`` that the resources among ``iris`` give (sorted): as
    :meth:`SiteBuilder.list_rows` makes them for every resource, here for a few."""
    found: list[tuple[str, ...]] = []
    for iri in iris:
        if iri not in builder.resource_set:
            continue
        if name == "browse":
            found += [(t, iri) for t in builder.release.types(iri) or [RDFS + "Resource"]]
        else:
            found += [(d, iri, p) for d, p in builder.dates_of(iri)]
    return sorted(found)


def _row(name: str, row: tuple[str, ...]) -> tuple[str, str, str, str, str]:
    """A list's row as the state keeps it: (list, a, b, c, the resource it belongs to)."""
    return (name, row[0], row[1], row[2] if len(row) > 2 else "", row[1])


class StoredLists:
    """The rows of ``browse/`` and ``timeline/`` as the state keeps them (table ``lrows``, in the lists'
    order), for the lists whose rows did not change since (``same``): what :attr:`SiteBuilder.stored` reads.

    Why: every run gathered every resource's types and dates into the lists' rows to find the parts
    whose rows changed (at 1M, most of 10 s of keys), though a label edit changes no row. Now a run
    compares the rows of the IRIs that changed with the ones the state keeps for them; when they are
    the same, no part's rows changed (its key is not hashed again), and a part made again (a label it
    shows changed) reads its slice here. A forked worker opens its own connection, read-only."""

    def __init__(self, path: Path, db: sqlite3.Connection, same: set[str]) -> None:
        self.path, self.db, self.same = path, db, same
        self._pid = os.getpid()
        self._counts: dict[str, int] = {}

    def conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            _INHERITED.append(self.db)
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._pid = os.getpid()
        return self.db

    def has(self, name: str) -> bool:
        return name in self.same

    def count(self, name: str) -> int:
        if name not in self._counts:
            self._counts[name] = self.conn().execute("SELECT COUNT(*) FROM lrows WHERE list = ?", (name,)).fetchone()[0]
        return self._counts[name]

    def rows(self, name: str, start: int, size: int) -> list[tuple[str, ...]]:
        found = self.conn().execute(
            "SELECT a, b, c FROM lrows INDEXED BY lrows_order WHERE list = ? ORDER BY a, b, c LIMIT ? OFFSET ?",
            (name, size, start),
        )
        return [(a, b) for a, b, _c in found] if name == "browse" else list(found)

    def counts(self, name: str, classes: Iterable[str]) -> dict[str, int]:
        sql = "SELECT COUNT(*) FROM lrows WHERE list = ? AND a = ?"
        return {c: self.conn().execute(sql, (name, c)).fetchone()[0] for c in classes}


class ListChanges:
    """What changed in the long lists' rows since the state (:func:`list_changes`): the IRIs that changed
    (None: unknown, every row made again), their rows now, and the lists whose rows are all the same."""

    def __init__(self, affected: set[str] | None, new: dict[str, list[tuple[str, ...]]], same: set[str]) -> None:
        self.affected, self.new, self.same = affected, new, same


def list_changes(builder: SiteBuilder, state: State | None, target: Path) -> ListChanges | None:
    """Compare the rows of the IRIs that changed since the state with the rows it keeps for them, and give
    :attr:`SiteBuilder.stored` the lists whose rows are all the same (proportional to the change: no
    other IRI's types or dates changed). None for a whole site."""
    if state is None:
        return None
    affected = affected_iris(builder, state)
    if affected is None:
        return ListChanges(None, {}, set())
    iris = sorted(affected)
    new = {name: rows_of(builder, name, iris) for name in LISTS}
    same: set[str] = set()
    for name in LISTS:
        old: list[tuple[str, ...]] = []
        for part in _parts(iris):
            marks = ",".join("?" * len(part))
            sql = f"SELECT a, b, c FROM lrows WHERE list = ? AND iri IN ({marks})"
            old += [(a, b) if name == "browse" else (a, b, c) for a, b, c in state.db.execute(sql, (name, *part))]
        if sorted(old) == new[name]:
            same.add(name)
    builder.stored = StoredLists(state_path(target), state.db, same)
    return ListChanges(affected, new, same)


def unchanged(path: Path | str, size: int, mtime: int) -> bool:
    """The file is as the state notes it (a plain file, same size and modification time): untouched."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == size and st.st_mtime_ns == mtime


def touched(target: Path, pages: dict[str, dict[str, Any]]) -> list[str]:
    """The resources of ``pages`` whose files in the site are gone or were touched since (made again if kept)."""
    root = str(target) + os.sep  # plain strings: pathlib's joins were most of this on 90k files
    return [
        iri
        for iri, entry in pages.items()
        if not all(unchanged(root + rel, size, mtime) for rel, (size, mtime) in entry["files"].items())
    ]


def _touched_behind(target: Path, pages: dict[str, dict[str, Any]]) -> list[str]:
    # behind the saved queries' child, which the run waits for first (the check is needed only after)
    with contextlib.suppress(OSError):
        os.nice(5)
    return touched(target, pages)


class FilesCheck:
    """:func:`touched` over ``pages``, in a forked process while this one goes on; :meth:`result` waits.

    Why a process, not a thread: the check is one ``lstat`` a file (873k files at 1M triples, 5 s, most
    of it in the kernel), and in a thread each call takes the interpreter's lock back, so the check and
    this process's own work slowed each other (9 s of the thread's time in one run). Where there is no
    fork, or the check failed, it runs when :meth:`result` is called."""

    def __init__(self, target: Path, pages: dict[str, dict[str, Any]]) -> None:
        self.target, self.pages = target, pages
        self.child = Child(_touched_behind, target, pages)

    def result(self) -> list[str]:
        ok, found = self.child.take()
        return found if ok else touched(self.target, self.pages)

    def close(self) -> None:
        self.child.close()


class Reuser:
    """For :meth:`SiteBuilder.rest`: the last site's job of a name, when none of its reads changed and
    its files are as written (else None: it is made again). Notes the names it gave back (:attr:`reused`):
    their rows in the state stay as they are."""

    def __init__(self, state: State, changed: dict[int, str], target: Path) -> None:
        self.state, self.changed, self.target = state, changed, target
        self.reused: set[str] = set()

    def __call__(self, name: str) -> Job | None:
        entry = self.state.jobs.get(name)
        if entry is None or not self.changed.keys().isdisjoint(entry["deps"]):
            return None
        for rel in entry["files"]:
            noted = self.state.rest.get(rel)
            if noted is None or not unchanged(self.target / rel, noted[0], noted[1]):
                return None
        self.reused.add(name)
        docs = {path: (doc[0], doc[1], doc[2]) for path, doc in entry["docs"].items()}
        return Job(files=list(entry["files"]), docs=docs, deps=set())


def reuser(state: State | None, changed: dict[int, str], target: Path) -> Reuser | None:
    return None if state is None else Reuser(state, changed, target)


#: the sitemap's files at the site root (:meth:`SiteBuilder.sitemap_files`)
SITEMAP_FILE = re.compile(r"sitemap(-[0-9]+)?\.xml")
SEARCH_META = "search/index.json"


def _doc(d: Any) -> tuple[dict[str, str], str, str] | None:
    return None if d is None else (d[0], d[1], d[2])


def derived_settings(builder: SiteBuilder) -> str:
    """The settings the search index and the sitemap are made with, as the state notes them: a run
    patches them only when this is what the last run wrote (:meth:`Derived.settings_key`)."""
    return json.dumps([builder.sitemap_urls, builder.search_shards()])


class Derived:
    """The search index's shards and the sitemap after a change (``derived`` of :meth:`SiteBuilder.rest`),
    from what changed since the last site, not from every page.

    Why: both were made from every page's entry on every run (at 1M triples, 10 s for the shards, every
    page's terms hashed to their shard again, and the sitemap's 700k URLs), though one label edit
    changes a term or two. The sitemap is a function of the set of pages: when no page was added, gone
    or moved, its files are kept as they are. A search shard holds the terms (or the entries) of the
    pages whose terms hash there: only the shards of the terms a page made again gained or lost (and of
    its entry, when its titles or snippet changed) are read from the site, patched and written again;
    the others are kept. Kept files are checked (size and time, as noted) first; anything unexpected
    (a file touched, the number of shards or a setting changed, a page that moved, a page at a term
    page's path) makes them from every page's entry, as a whole site does. The kept files are noted as
    jobs of no reads (``search-index``, ``sitemap``): their rows in the state are carried over."""

    def __init__(
        self,
        state: State,
        target: Path,
        keep: dict[str, dict[str, Any]],
        made: list[ResourceUnit],
        builder: SiteBuilder,
    ) -> None:
        self.state, self.target, self.keep, self.made = state, target, keep, made
        self.builder = builder
        #: what was made again whole (for the tests and the report): "search", "sitemap"
        self.whole: set[str] = set()

    def settings_key(self, builder: SiteBuilder) -> str:
        """The settings the kept files were made with (noted in the state's meta)."""
        return derived_settings(builder)

    def kept(self, rels: Iterable[str]) -> bool:
        """Every file of ``rels`` is in the site as the state notes it."""
        rest = self.state.rest
        root = str(self.target) + os.sep
        return all(rel in rest and unchanged(root + rel, rest[rel][0], rest[rel][1]) for rel in rels)

    def __call__(self, done: dict[str, Job], files: list[str]) -> dict[str, bytes]:
        builder = self.builder
        same_settings = self.state.meta.get("derived") == self.settings_key(builder)
        out = self.sitemap(builder, done, files, same_settings)
        out.update(self.search(builder, done, same_settings))
        return out

    def pages_same(self) -> bool:
        """No resource page added, gone or moved since the last site."""
        pages = self.state.pages
        if len(pages) != len(self.keep) + len(self.made):
            return False
        return all(u.iri in pages and pages[u.iri]["path"] == u.path for u in self.made)

    def sitemap(self, builder: SiteBuilder, done: dict[str, Job], files: list[str], same: bool) -> dict[str, bytes]:
        old = sorted(rel for rel in self.state.rest if SITEMAP_FILE.fullmatch(rel))
        if same and old and self.pages_same() and self.kept(old):
            html = {rel for job in done.values() for rel in job.files if rel.endswith("index.html")}
            html.update(rel for rel in builder.files if rel.endswith("index.html"))
            if html == {rel for rel in self.state.rest if rel.endswith("index.html")}:
                done["sitemap"] = Job(files=old)
                return {}
        self.whole.add("sitemap")
        return builder.sitemap_files(files)

    def search(self, builder: SiteBuilder, done: dict[str, Job], same: bool) -> dict[str, bytes]:
        state = self.state
        new_jobs = {p: _doc(d) for job in done.values() for p, d in job.docs.items()}
        paths = {e["path"] for e in self.keep.values()}
        paths.update(u.path for u in self.made)
        paths.update(new_jobs)
        shards = builder.search_shards() or auto_shards(len(paths))
        patched = self.patch(builder, done, new_jobs, shards) if same else None
        if patched is not None:
            return patched
        self.whole.add("search")
        docs: dict[str, tuple[dict[str, str], str, str]] = {}
        old_docs = state.docs()
        for iri, entry in self.keep.items():
            docs[entry["path"]] = old_docs[iri]
        for u in self.made:
            docs[u.path] = u.doc
        docs.update(d for d in new_jobs.items() if d[1] is not None)  # type: ignore[misc]
        return SearchIndex(docs=docs).to_files(shards)

    def patch(
        self,
        builder: SiteBuilder,
        done: dict[str, Job],
        new_jobs: dict[str, tuple[dict[str, str], str, str] | None],
        shards: int,
    ) -> dict[str, bytes] | None:
        """The shards that changed, patched from the site's files (None: make them all again)."""
        state = self.state
        meta = [SEARCH_META, *(f"search/{kind}/{i}.json" for kind in ("terms", "docs") for i in range(shards))]
        if not self.kept(meta):
            return None
        try:
            if json.loads((self.target / SEARCH_META).read_bytes()).get("shards") != shards:
                return None
        except (OSError, ValueError, AttributeError):
            return None
        if any(t in builder.resource_set or t in state.pages for t in builder.terms):
            return None  # a resource at a term page's path: whose entry wins is the whole index's rule
        changes: dict[str, tuple[Any, Any]] = {}  # path -> (old entry, new entry)
        for u in self.made:
            entry = state.pages.get(u.iri)
            if entry is not None and entry["path"] != u.path:
                return None
            changes[u.path] = (state.doc(u.iri) if entry is not None else None, u.doc)
        made = {u.iri for u in self.made}
        for iri, entry in state.pages.items():
            if iri not in self.keep and iri not in made:
                changes[entry["path"]] = (state.doc(iri), None)
        old_jobs = {p: _doc(d) for job in state.jobs.values() for p, d in job["docs"].items()}
        for p in old_jobs.keys() | new_jobs.keys():
            if old_jobs.get(p) != new_jobs.get(p):
                changes[p] = (old_jobs.get(p), new_jobs.get(p))
        terms: dict[int, list[tuple[str, str, bool]]] = {}  # shard -> (term, path, added)
        entries: dict[int, list[tuple[str, Any]]] = {}  # shard -> (path, its entry or None)
        for path, (old, new) in sorted(changes.items()):
            if old == new:
                continue
            before = set(old[1].split("\n")) if old and old[1] else set()
            after = set(new[1].split("\n")) if new and new[1] else set()
            for tok in before - after:
                terms.setdefault(shard_of(term_key(tok), shards), []).append((tok, path, False))
            for tok in after - before:
                terms.setdefault(shard_of(term_key(tok), shards), []).append((tok, path, True))
            shown = None if new is None else [new[0].get("zh", ""), new[0].get("en", ""), new[2]]
            if old is None or new is None or shown != [old[0].get("zh", ""), old[0].get("en", ""), old[2]]:
                entries.setdefault(shard_of(path, shards), []).append((path, shown))
        out = {SEARCH_META: dumps({"version": 2, "shards": shards})}
        for i, edits in sorted(terms.items()):
            rel = f"search/terms/{i}.json"
            postings: dict[str, list[str]] = json.loads((self.target / rel).read_bytes())
            for tok, path, added in edits:
                found = postings.setdefault(tok, [])
                if added:
                    bisect.insort(found, path)
                else:
                    found.remove(path)
                if not found:
                    del postings[tok]
            out[rel] = dumps(postings)
        for i, edits_ in sorted(entries.items()):
            rel = f"search/docs/{i}.json"
            docs: dict[str, list[str]] = json.loads((self.target / rel).read_bytes())
            for path, shown in edits_:
                if shown is None:
                    docs.pop(path, None)
                else:
                    docs[path] = shown
            out[rel] = dumps(docs)
        done["search-index"] = Job(files=[rel for rel in meta if rel not in out])
        return out


def derived(
    state: State | None, target: Path, keep: dict[str, dict[str, Any]], made: list[ResourceUnit], builder: SiteBuilder
) -> Derived | None:
    """:class:`Derived` after a change; None for a whole site (the files are made from every page)."""
    return None if state is None else Derived(state, target, keep, made, builder)


def _write_unit(unit: ResourceUnit, staging: Path) -> ResourceUnit:
    stats: dict[str, tuple[int, int]] = {}
    for rel, data in unit.files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        st = path.stat()
        stats[rel] = (st.st_size, st.st_mtime_ns)
    unit.files = {}
    unit.stats = stats  # sizes and times travel back, not the bytes
    return unit


def _render_chunk(iris: list[str]) -> list[ResourceUnit]:
    assert _BUILDER is not None and _STAGING is not None
    return [_write_unit(_BUILDER.resource_unit(iri), _STAGING) for iri in iris]


def _make_job(name: str) -> tuple[Job, dict[str, bytes]]:
    assert _BUILDER is not None
    return _BUILDER.make_job(name)


def make_pages(
    builder: SiteBuilder,
    todo: list[str],
    staging: Path,
    jobs: int,
    long_jobs: list[str] | None = None,
    answered: bool = True,
) -> tuple[list[ResourceUnit], dict[str, tuple[Job, dict[str, bytes]]]]:
    """Make the resource pages of ``todo`` into ``staging``, in ``jobs`` forked processes (1: here),
    and with them the rest jobs named in ``long_jobs`` (:meth:`SiteBuilder.long_jobs`), whose
    records and files come back for :meth:`SiteBuilder.rest`. Why the long jobs here: after a label
    changed, ``browse/`` and a saved query's table are most of a run; in a worker they are made
    while the other worker makes the resource pages, instead of after them."""
    global _BUILDER, _STAGING
    # a few pages (after a change) are shared out among the workers too, not made in one chunk here, and
    # in chunks of a page or two: one page may take seconds (a dataset of 15,674 parts at 1M), and the
    # others then go to the other workers, not after it in its chunk
    size = max(1, min(CHUNK, -(-len(todo) // (8 * max(1, jobs)))))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    names = list(long_jobs or ())
    # answered before the fork (by the child of toolkit.site.answers, else here), the workers
    # inherit the saved queries' serialised answers instead of running them again; not ``answered``:
    # these pages need none, and are made while the child answers (a worker never takes the child's
    # answers: it would make one itself)
    pending = builder.pending
    if answered:
        builder.answer_saved_queries()
    else:
        builder.pending = None
    _BUILDER, _STAGING = builder, staging
    try:
        if jobs <= 1 or len(chunks) + len(names) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return [u for chunk in chunks for u in _render_chunk(chunk)], {}
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            made = {name: pool.submit(_make_job, name) for name in names}  # first: the longest
            units = [u for part in pool.map(_render_chunk, chunks) for u in part]
            return units, {name: future.result() for name, future in made.items()}
    finally:
        _BUILDER, _STAGING = None, None
        if not answered:
            builder.pending = pending


def content_hash(data: bytes) -> str:
    """The hash a file outside the resource pages is noted by (written again only when it differs)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stat_key(path: Path) -> str:
    """A file noted by its device, inode, size and modification and change times, not a hash of its
    bytes: what a file copied from the release (:attr:`SiteBuilder.copies`, 870 MB at 1M triples after
    every build) and the site's marker are noted by. Why it is safe: the toolkit writes these files
    anew, never in place, and no one can set a change time back, so the same five numbers are the same
    bytes (an edit in place that keeps the size and the modification time still moves the change time)."""
    st = path.stat()
    return f"stat:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def write_state(
    target: Path,
    fp: str,
    old: State | None,
    builder: SiteBuilder,
    made: list[ResourceUnit],
    keep: dict[str, dict[str, Any]],
    changed: dict[int, str],
    jobs: dict[str, Job],
    rest: dict[str, list[Any]],
    reused: set[str],
    lists: ListChanges | None = None,
    times: dict[str, float] | None = None,
) -> None:
    """Write the state of the site just written: into the last state (made invalid by
    :func:`invalidate_state` before the folder was touched), only the rows that changed: the pages
    made again and gone, their keys, the jobs made, the other files; else (a whole site) a new file
    put in place in one rename. Marked valid at the end, in the same transaction."""
    if old is None:
        tmp = state_tmp_path(target)
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # the site's, beyond doubt
        db.execute("PRAGMA journal_mode = OFF")  # a new file, put in place only once it is written
        db.executescript(STATE_SCHEMA)
    else:
        db = old.db
    db.execute("PRAGMA synchronous = OFF")  # a site is made again from the release at will
    with db:
        db.executemany("UPDATE keys SET hash = ? WHERE id = ?", ((h, n) for n, h in changed.items()))
        # every key the rows below name, found (or added) in a few statements, not one query a key
        # (``browse/`` alone reads tens of thousands)
        written_jobs = {n: j for n, j in sorted(jobs.items()) if j.deps is not None and n not in reused}
        wanted: dict[tuple[str, str], str | None] = {}
        for u in made:
            for k, h in u.deps.items():
                kind, _, name = k.partition("\t")
                wanted[(kind, name)] = h
        for job in written_jobs.values():
            for pair in job.deps or ():
                wanted.setdefault(pair, None)
        db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (kind TEXT NOT NULL, name TEXT NOT NULL)")
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT INTO wanted VALUES (?, ?)", wanted)
        join = "SELECT w.kind, w.name, k.id FROM wanted w JOIN keys k ON k.kind = w.kind AND k.name = w.name"
        ids = {(kind, name): n for kind, name, n in db.execute(join)}
        missing = [pair for pair in wanted if pair not in ids]
        db.executemany(
            "INSERT INTO keys (kind, name, hash) VALUES (?, ?, ?)",
            ((kind, name, wanted[(kind, name)] or builder.dep_value(kind, name)) for kind, name in missing),
        )
        if missing:
            ids = {(kind, name): n for kind, name, n in db.execute(join)}

        made_iris = {u.iri for u in made}
        gone = [] if old is None else [iri for iri in old.pages if iri not in keep and iri not in made_iris]
        db.executemany("DELETE FROM pages WHERE iri = ?", ((iri,) for iri in gone))
        if old is not None:  # the reads of the pages gone and made again (noted anew below)
            db.executemany("DELETE FROM deps WHERE owner = ?", (("p\t" + iri,) for iri in [*gone, *sorted(made_iris)]))
        for u in made:
            deps = [ids[(kind, name)] for kind, _, name in (k.partition("\t") for k in u.deps)]
            files = {rel: list(st) for rel, st in u.stats.items()}
            db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)",
                (u.iri, u.path, marshal.dumps(list(u.doc)), marshal.dumps(files)),
            )
            db.executemany("INSERT INTO deps VALUES (?, ?)", ((n, "p\t" + u.iri) for n in deps))
        for name in [] if old is None else [n for n in old.jobs if n not in jobs or jobs[n].deps is None]:
            db.execute("DELETE FROM jobs WHERE name = ?", (name,))
            db.execute("DELETE FROM deps WHERE owner = ?", ("j\t" + name,))
        for name, job in written_jobs.items():
            deps = sorted(ids[pair] for pair in job.deps or ())
            db.execute("DELETE FROM deps WHERE owner = ?", ("j\t" + name,))
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?)",
                (
                    name,
                    marshal.dumps(job.files),
                    marshal.dumps({p: list(d) for p, d in sorted(job.docs.items())}),
                    marshal.dumps(deps),
                ),
            )
            db.executemany("INSERT INTO deps VALUES (?, ?)", ((n, "j\t" + name) for n in deps))
        write_lists(db, builder, lists)
        db.execute("DELETE FROM rest")
        db.executemany("INSERT INTO rest VALUES (?, ?, ?, ?)", ((rel, *v) for rel, v in sorted(rest.items())))
        meta = {
            "version": str(STATE_VERSION),
            "fingerprint": fp,
            "index": json.dumps(list(builder.release.index.generation())),
            "derived": derived_settings(builder),
            "marker": marker_key(target),
            "query-times": json.dumps(times or {}, sort_keys=True),
            "valid": "1",
        }
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
    if old is None:
        db.executescript(STATE_INDEXES)
        db.close()
        os.replace(tmp, state_path(target))


def write_lists(db: sqlite3.Connection, builder: SiteBuilder, lists: ListChanges | None) -> None:
    """The long lists' rows into the state: all of them for a whole site (or when what changed is not
    known), else only those of the IRIs that changed, in the lists whose rows changed."""
    if lists is None or lists.affected is None:
        db.execute("DELETE FROM lrows")
        for name in LISTS:
            db.executemany("INSERT INTO lrows VALUES (?, ?, ?, ?, ?)", (_row(name, r) for r in builder.list_rows(name)))
        return
    iris = sorted(lists.affected)
    for name in LISTS:
        if name in lists.same:
            continue
        for part in _parts(iris):
            db.execute(f"DELETE FROM lrows WHERE list = ? AND iri IN ({','.join('?' * len(part))})", (name, *part))
        db.executemany("INSERT INTO lrows VALUES (?, ?, ?, ?, ?)", (_row(name, r) for r in lists.new[name]))


def invalidate_state(target: Path, state: State | None) -> None:
    """Mark the state not the site's before the folder is touched: a run stopped midway leaves a state the
    next one does not use (the site is then made whole)."""
    if state is None:
        state_path(target).unlink(missing_ok=True)
        return
    with state.db as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('valid', '0')")


def file_list(state: State) -> list[str]:
    """Every file of the site that a state describes (in no order: compared as a set, and the marker
    sorts what it lists; sorting 873k paths at 1M triples took a second, three times a run)."""
    files = [rel for entry in state.pages.values() for rel in entry["files"]]
    files += state.rest
    return files


def marker_key(target: Path) -> str:
    """The site's marker as :func:`stat_key` notes it ("" when there is none)."""
    try:
        return stat_key(target / atomic.MARKER)
    except OSError:
        return ""


def in_place_ok(target: Path, state: State) -> bool:
    """The site folder is the one the state describes (a real folder, its marker listing exactly the
    state's files): only then is it updated in place; anything else is made whole and swapped."""
    if target.is_symlink() or not target.is_dir():
        return False
    noted = state.meta.get("marker", "")
    if noted and noted == marker_key(target):
        return True  # the marker as the state's run left it (it lists 873k files at 1M: not read again)
    marked = atomic.marked_files(target)
    return marked is not None and marked - atomic.BOOKKEEPING == set(file_list(state))


def update_in_place(
    target: Path, staging: Path, written: list[str], old: list[str], new: list[str], state: State
) -> None:
    """Move the ``written`` files from ``staging`` into the site folder, each in one rename, and delete
    the files of ``old`` that are not in ``new``: only files the toolkit wrote are replaced or deleted.

    Why it is safe to stop at any point: the state is removed first and the marker lists the old and
    the new files until the end, so an interrupted update leaves a folder the next run recognises
    and makes whole. A path new to the site that is already there (not the toolkit's), or a folder on
    the way that is a link or a file, is refused (exit 2) before anything is changed."""
    known = set(old)
    for rel in written:
        parts = Path(rel).parts
        for n in range(1, len(parts)):
            folder = target.joinpath(*parts[:n])
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise UsageError(
                    f"refusing to write into {target}: {folder} is not a folder policy-toolkit site made",
                    hint="move it away, or give --out an empty or new folder",
                )
        if rel not in known and os.path.lexists(target / rel):
            raise UsageError(
                f"refusing to replace {target / rel}: policy-toolkit site did not write it",
                hint="move it away, or give --out an empty or new folder",
            )
    invalidate_state(target, state)  # never a state that is not the site's
    listed = set(new)
    # the marker lists the old files already (in_place_ok): written only when the set of files changes
    # (a change of a label rewrites a hundred files of 90k; the marker's list is 4 MB at 100k)
    if not listed <= known:
        atomic.write_marker(target, sorted(known.union(new)))
    for rel in written:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        if (staging / rel).stat().st_size > BIG_FILE:
            # a large file (the release's copies: 870 MB at 1M) is not renamed over the old one: ext4
            # (auto_da_alloc) then starts writing the new file's data out at once and the rename waits
            # (2 s of a run at 1M); the gap is safe, as the state was made invalid above
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target / rel)
        os.replace(staging / rel, target / rel)
    gone = known.difference(new)
    for rel in sorted(gone):
        (target / rel).unlink(missing_ok=True)
    for folder in sorted({str(p) for rel in gone for p in Path(rel).parents if str(p) != "."}, reverse=True):
        with contextlib.suppress(OSError):  # it still holds files: kept
            (target / folder).rmdir()
    if listed != known:
        atomic.write_marker(target, new)


__all__ = [
    "ALWAYS_CHECKED",
    "LISTS",
    "STATE_INDEXES",
    "STATE_SCHEMA",
    "Derived",
    "FilesCheck",
    "ListChanges",
    "Reuser",
    "State",
    "StoredLists",
    "affected_iris",
    "changed_keys",
    "claim_beside",
    "content_hash",
    "derived",
    "file_list",
    "fingerprint",
    "in_place_ok",
    "index_path",
    "invalidate_state",
    "list_changes",
    "load_state",
    "make_pages",
    "plan",
    "query_times",
    "reuser",
    "rows_of",
    "stat_key",
    "state_path",
    "state_tmp_path",
    "touched",
    "unchanged",
    "update_in_place",
    "write_lists",
    "write_state",
]
