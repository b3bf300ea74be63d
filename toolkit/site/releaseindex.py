"""The release's quads and the catalog's triples in an SQLite file kept beside the site, read per subject.

Why: a site run after one source changed used to parse and index the whole release (at 1M
triples, 44 s of a 140 s run, most of it making a million pyoxigraph terms), though the pages
made again read a few hundred subjects. Here the release is cut into blocks without parsing a
term (``policy.nq``: each run of lines with the same graph, the way the build writes it, one
source's graph per block; ``catalog.ttl``: each statement, one subject per block), each block's
bytes hashed; only the blocks whose digest is not the one noted are parsed, their old rows
deleted and their new rows inserted, in one transaction. Pages then ask for one subject's
quads (:meth:`ReleaseIndex.subject`) or the links into one IRI (:meth:`ReleaseIndex.incoming`),
made into terms only then.

Whole and incremental runs take the same path: a new index has no blocks, so every block is
new. The IRIs named by a block that changed (its old rows and its new ones) are noted under a
generation number; the incremental state says which generation of which index it was made
with, so a run asks "what changed since" (:meth:`ReleaseIndex.changed_since`) and gets the
IRIs whose keys may have a new value. A state of another index (or of one that was made
anew) gets None: every key is hashed again.

Nothing here is trusted beyond the bytes: an unreadable index file is deleted and made again,
and a file that cannot be cut into blocks (not one quad a line; a Turtle statement that does
not parse alone) is one block, parsed whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import stat
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from toolkit.errors import LoadError, UsageError

#: bump when the tables change: an index of another version is made again
INDEX_VERSION = 2
#: a run of N-Quads lines that end with the same graph name (the build writes one block per graph)
_NQ_RUN = re.compile(rb"[^\n]* (<[^>\n]*>) \.\n(?:[^\n]* \1 \.\n)*")
#: a Turtle statement starts at a line's first column (the toolkit's writer indents the rest)
_TTL_SPLIT = re.compile(rb"\n(?=[^\s])")
_DIRECTIVE = re.compile(rb"(?:@prefix|@base|PREFIX|BASE)\b", re.IGNORECASE)

#: SQLite's application id ("PTsi") in the header of the files the site keeps beside its folder (this
#: index and the incremental state): what tells them, beyond doubt, from a file of the user's
APPLICATION_ID = 0x50547369
_SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sites_file(path: Path) -> bool:
    """Nothing is at ``path``, or an empty file, or an SQLite file whose header bears the site's
    application id: a file the site may read, replace or delete. Read from the header's bytes, so a
    file damaged past its first page is still known as the site's (and made again)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return True
    if not stat.S_ISREG(st.st_mode):
        return False
    if st.st_size == 0:
        return True
    with path.open("rb") as fh:
        head = fh.read(100)
    return head[:16] == _SQLITE_MAGIC and len(head) >= 72 and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def claim(path: Path, also: Callable[[Path], bool] | None = None) -> None:
    """Refuse (exit 2) when ``path`` holds something the site did not write (``also``: another test of
    a file of the site's, an older format); nothing has been changed then."""
    if is_sites_file(path) or (also is not None and also(path)):
        return
    raise UsageError(
        f"refusing to replace {path}: policy-toolkit site did not write it",
        hint="the site keeps its index and state beside its folder under this name: move the file away",
    )


#: connections inherited across a fork (kept, so that a worker never closes its parent's)
_INHERITED: list[sqlite3.Connection] = []
#: kinds of object term
IRI, BLANK, LITERAL = 0, 1, 2

Row = tuple[str, str, str, int, str, str, str]  # s, p, o, kind, lang, datatype, graph

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (id INTEGER PRIMARY KEY, file TEXT NOT NULL, key TEXT NOT NULL,
    digest TEXT NOT NULL, UNIQUE (file, key));
CREATE TABLE IF NOT EXISTS quads (blk INTEGER NOT NULL, s TEXT NOT NULL, p TEXT NOT NULL, o TEXT NOT NULL,
    k INTEGER NOT NULL, lang TEXT NOT NULL, dt TEXT NOT NULL, g TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS quads_s ON quads (s);
CREATE INDEX IF NOT EXISTS quads_o ON quads (o) WHERE k = 0;
CREATE INDEX IF NOT EXISTS quads_p ON quads (p);
CREATE INDEX IF NOT EXISTS quads_blk ON quads (blk);
CREATE TABLE IF NOT EXISTS changes (gen INTEGER NOT NULL, iri TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (s TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS changes_gen ON changes (gen);
"""


def nq_blocks(raw: bytes) -> list[tuple[str, bytes]] | None:
    """``policy.nq`` cut into (graph name + "#" + its run number, lines) without parsing a term; None when
    the file is not lines that each end with a graph name (then it is one block)."""
    blocks: list[tuple[str, bytes]] = []
    seen: dict[bytes, int] = {}
    pos = 0
    for m in _NQ_RUN.finditer(raw):
        if m.start() != pos:
            return None
        g = m.group(1)
        n = seen[g] = seen.get(g, -1) + 1
        blocks.append((g[1:-1].decode("utf-8", "replace") + f"#{n}", m.group(0)))
        pos = m.end()
    return blocks if pos == len(raw) else None


def bad_block(exc: SyntaxError, path: Path, raw: bytes, block: bytes) -> LoadError:
    """The error for a block of ``policy.nq`` that does not parse, at its line in the file (Oxigraph
    counts the lines of the block it was given)."""
    start = raw.find(block)
    line = raw.count(b"\n", 0, start) + (exc.lineno or 1) if start >= 0 else exc.lineno
    what = re.sub(r" \(line [0-9]+\)$", "", str(exc.msg).split(": ", 1)[-1])
    return LoadError(
        f"not valid N-Quads: {what} (column {exc.offset})" if exc.offset else f"not valid N-Quads: {what}",
        file=path,
        line=line,
        hint="rebuild the release with `policy-toolkit build`; the site reads it as the build wrote it",
    )


def ttl_blocks(raw: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """``catalog.ttl`` cut into (header of directives, [(first token + "#" + its number, statement)])."""
    header: list[bytes] = []
    blocks: list[tuple[str, bytes]] = []
    seen: dict[bytes, int] = {}
    for chunk in _TTL_SPLIT.split(raw):
        if not chunk.strip():
            continue
        if _DIRECTIVE.match(chunk):
            header.append(chunk.rstrip(b"\n") + b"\n")
            continue
        first = chunk.split(None, 1)[0]
        n = seen[first] = seen.get(first, -1) + 1
        blocks.append((first.decode("utf-8", "replace") + f"#{n}", chunk.rstrip(b"\n") + b"\n"))
    return b"".join(header), blocks


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


#: datatype IRI -> its term, made once (a few datatypes, named by most literals)
_DATATYPES: dict[str, Any] = {}


def term_of(o: str, k: int, lang: str, dt: str) -> Any:
    """The pyoxigraph term of an object row."""
    if k == IRI:
        return ox.NamedNode(o)
    if k == BLANK:
        return ox.BlankNode(o)
    if lang:
        return ox.Literal(o, language=lang)
    if not dt:
        return ox.Literal(o)
    datatype = _DATATYPES.get(dt)
    if datatype is None:
        datatype = _DATATYPES[dt] = ox.NamedNode(dt)
    return ox.Literal(o, datatype=datatype)


class ReleaseIndex:
    """The SQLite index of one release (see the module's docstring). ``path`` None: in memory (a site
    made once, in this process: ``serve``'s, the tests')."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._pid = os.getpid()
        self.db = self._open()
        #: what :meth:`sync` found: blocks read again, and the rows parsed
        self.blocks_parsed = 0

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            db = sqlite3.connect(":memory:")
        else:
            db = None
            try:
                db = sqlite3.connect(self.path)  # a file of the site's (claimed before: see claim)
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, INDEX_VERSION):
                    raise sqlite3.DatabaseError("another version")
                db.executescript(SCHEMA)
            except sqlite3.DatabaseError:  # not ours, damaged, or of another version: made anew
                if db is not None:
                    db.close()
                self.path.unlink(missing_ok=True)
                db = sqlite3.connect(self.path)
        db.execute("PRAGMA synchronous = OFF")  # a cache of the release: made again when unreadable
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        if db.execute("SELECT value FROM meta WHERE name = 'id'").fetchone() is None:
            db.execute("INSERT INTO meta VALUES ('id', ?), ('gen', '0'), ('pruned', '0')", (uuid.uuid4().hex,))
        db.commit()
        return db

    def conn(self) -> sqlite3.Connection:
        """This process's connection: a forked worker opens its own (a connection must not cross a fork)."""
        if os.getpid() != self._pid:
            if self.path is None:
                raise RuntimeError("an in-memory release index cannot be read in a forked worker")
            _INHERITED.append(self.db)  # the parent's: never used nor closed here
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._pid = os.getpid()
        return self.db

    # ------------------------------------------------------------------ keeping it up to date
    def generation(self) -> tuple[str, int]:
        """(this index's id, its generation): what a state notes to ask :meth:`changed_since` later."""
        rows = dict(self.conn().execute("SELECT name, value FROM meta"))
        return rows["id"], int(rows["gen"])

    def sync(self, nq: Path | None, catalog: Path | None, catalog_graph: str, skip_graph: str) -> None:
        """Bring the index to the release's ``nq`` and ``catalog`` files: only the blocks whose bytes
        changed are parsed (see the module's docstring)."""
        wanted: dict[tuple[str, str], tuple[str, Any]] = {}  # (file, key) -> (digest, how to parse)
        raw_nq = b""
        if nq is not None:
            raw = raw_nq = nq.read_bytes()
            blocks = nq_blocks(raw)
            for key, data in blocks if blocks is not None else [("", raw)]:
                wanted[("nq", key)] = (digest(data), data)
        if catalog is not None:
            raw = catalog.read_bytes()
            header, statements = ttl_blocks(raw)
            for key, data in statements:
                wanted[("ttl", key)] = (digest(header + data), (header, data))
        db = self.conn()
        have = {(f, k): (i, d) for i, f, k, d in db.execute("SELECT id, file, key, digest FROM blocks")}
        stale = [have[fk][0] for fk, now in have.items() if wanted.get(fk, (None,))[0] != now[1]]
        new = [fk for fk, (d, _data) in wanted.items() if have.get(fk, (None, None))[1] != d]
        if not stale and not new:
            return
        parsed: list[tuple[tuple[str, str], str, list[Row]]] = []
        try:
            for fk in new:
                d, data = wanted[fk]
                try:
                    parsed.append((fk, d, list(self._rows(fk[0], data, catalog_graph, skip_graph))))
                except SyntaxError as exc:
                    if fk[0] == "nq" and nq is not None:
                        raise bad_block(exc, nq, raw_nq, data) from None
                    raise
        except SyntaxError:
            if catalog is None or ("ttl", "") in wanted:
                raise
            # a statement that does not parse alone (a long literal cut in two): the catalog is one block
            wanted = {fk: v for fk, v in wanted.items() if fk[0] != "ttl"}
            raw = catalog.read_bytes()
            wanted[("ttl", "")] = (digest(raw), (b"", raw))
            stale = [have[fk][0] for fk, now in have.items() if wanted.get(fk, (None,))[0] != now[1]]
            new = [fk for fk, (d, _data) in wanted.items() if have.get(fk, (None, None))[1] != d]
            parsed = [
                (fk, wanted[fk][0], list(self._rows(fk[0], wanted[fk][1], catalog_graph, skip_graph))) for fk in new
            ]
        self.blocks_parsed = len(parsed)
        with db:  # one transaction: an interrupted update leaves the index as it was
            gen = int(db.execute("SELECT value FROM meta WHERE name = 'gen'").fetchone()[0]) + 1
            gone: Counter[Row] = Counter()
            for blk in stale:
                gone.update(db.execute(f"SELECT {self._COLUMNS} FROM quads WHERE blk = ?", (blk,)))
                db.execute("DELETE FROM quads WHERE blk = ?", (blk,))
                db.execute("DELETE FROM blocks WHERE id = ?", (blk,))
            came: Counter[Row] = Counter()
            for (file, key), d, rows in parsed:
                blk = db.execute("INSERT INTO blocks (file, key, digest) VALUES (?, ?, ?)", (file, key, d)).lastrowid
                db.executemany("INSERT INTO quads VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ((blk, *r) for r in rows))
                came.update(rows)
            # each subject's number of rows, kept up to date here: the subjects in order are read every run
            # (every resource of the site), and SELECT DISTINCT over the quads took 0.4 s at 1M triples
            rows_of: Counter[str] = Counter()
            for r, n in came.items():
                rows_of[r[0]] += n
            for r, n in gone.items():
                rows_of[r[0]] -= n
            db.executemany(
                "INSERT INTO subjects VALUES (?, ?) ON CONFLICT (s) DO UPDATE SET n = n + excluded.n",
                ((subject, n) for subject, n in rows_of.items() if n),
            )
            db.executemany(
                "DELETE FROM subjects WHERE s = ? AND n <= 0", ((subject,) for subject, n in rows_of.items() if n < 0)
            )
            # the IRIs of the rows that went or came, not of every row of a block that changed: a block is a
            # source's graph, or a catalog statement that names every part of the release (15,674 at 1M),
            # most of whose rows are the same after a change
            moved = (gone - came) + (came - gone)
            named = {r[0] for r in moved} | {r[2] for r in moved if r[3] == IRI}
            db.executemany("INSERT INTO changes VALUES (?, ?)", ((gen, iri) for iri in sorted(named)))
            db.execute("UPDATE meta SET value = ? WHERE name = 'gen'", (str(gen),))

    @staticmethod
    def _rows(file: str, data: Any, catalog_graph: str, skip_graph: str) -> Iterator[Row]:
        """A block's rows: named subjects only, the ontology's graph left out (the ontology has pages
        of its own, from ``schema/ontology.ttl``)."""
        if file == "nq":
            found: Iterable[Any] = ox.parse(data, format=ox.RdfFormat.N_QUADS)
        else:
            header, body = data
            found = ox.parse(header + body, format=ox.RdfFormat.TURTLE)
        named, blank = ox.NamedNode, ox.BlankNode
        for q in found:
            subject = q.subject
            if type(subject) is not named:
                continue
            if file == "nq":
                gn = q.graph_name
                g = gn.value if type(gn) is named else ""
                if g == skip_graph:
                    continue
            else:
                g = catalog_graph
            o = q.object
            if type(o) is named:
                yield (subject.value, q.predicate.value, o.value, IRI, "", "", g)
            elif type(o) is blank:
                yield (subject.value, q.predicate.value, o.value, BLANK, "", "", g)
            else:
                dt = o.datatype
                yield (subject.value, q.predicate.value, o.value, LITERAL, o.language or "", dt.value if dt else "", g)

    def changed_since(self, index_id: str, gen: int) -> set[str] | None:
        """The IRIs named by a block that changed after generation ``gen`` of index ``index_id``; None when
        that is not this index or its record of that generation is gone (then every key is hashed again)."""
        mine, now = self.generation()
        db = self.conn()
        pruned = int(db.execute("SELECT value FROM meta WHERE name = 'pruned'").fetchone()[0])
        if index_id != mine or gen > now or gen < pruned:
            return None
        return {iri for (iri,) in db.execute("SELECT DISTINCT iri FROM changes WHERE gen > ?", (gen,))}

    def forget_until(self, gen: int) -> None:
        """Drop the record of changes up to ``gen`` (a state of that generation was written)."""
        with self.conn() as db:
            db.execute("DELETE FROM changes WHERE gen <= ?", (gen,))
            db.execute("UPDATE meta SET value = ? WHERE name = 'pruned'", (str(gen),))

    # ------------------------------------------------------------------ reading
    _COLUMNS = "s, p, o, k, lang, dt, g"
    _ORDER = "ORDER BY s, p, o, k, lang, dt, g"

    def subject(self, s: str) -> list[tuple[Any, ...]]:
        """A subject's rows (p, o, k, lang, dt, g), in one order whatever the history of the index."""
        return (
            self.conn()
            .execute("SELECT p, o, k, lang, dt, g FROM quads WHERE s = ? ORDER BY p, o, k, lang, dt, g", (s,))
            .fetchall()
        )

    def subjects_from(self, s: str, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows (s, p, o, k, lang, dt, g) of ``s`` and the subjects after it, in subject
        order (the rows of one subject in no order): a read ahead, for pages that go through the
        subjects in order (one query for dozens of subjects instead of one each)."""
        return (
            self.conn()
            .execute(
                f"SELECT {self._COLUMNS} FROM quads INDEXED BY quads_s WHERE s >= ? ORDER BY s LIMIT ?", (s, limit)
            )
            .fetchall()
        )

    def all_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every row, by subject (for a run that makes every page: one scan instead of a query a subject)."""
        return self.conn().execute(f"SELECT {self._COLUMNS} FROM quads {self._ORDER}")

    def incoming(self, o: str) -> list[tuple[str, str]]:
        return self.conn().execute("SELECT DISTINCT s, p FROM quads WHERE o = ? AND k = 0", (o,)).fetchall()

    def all_incoming(self) -> Iterator[tuple[str, str, str]]:
        return self.conn().execute("SELECT DISTINCT o, s, p FROM quads WHERE k = 0 ORDER BY o")

    def subjects(self) -> list[str]:
        return [s for (s,) in self.conn().execute("SELECT s FROM subjects ORDER BY s")]

    def has_subject(self, s: str) -> bool:
        return self.conn().execute("SELECT 1 FROM quads WHERE s = ? LIMIT 1", (s,)).fetchone() is not None

    def with_datatype(self, datatypes: Iterable[str]) -> list[tuple[str, str, str]]:
        """(s, p, value) of every distinct literal whose datatype is one of ``datatypes``, ordered."""
        dts = sorted(datatypes)
        marks = ", ".join("?" * len(dts))
        return (
            self.conn()
            .execute(
                f"SELECT DISTINCT s, p, o, dt FROM quads WHERE k = {LITERAL} AND dt IN ({marks}) ORDER BY s, p, o, dt",
                dts,
            )
            .fetchall()
        )

    def with_predicate(self, p: str) -> list[tuple[str, str, int, str, str]]:
        """(s, o, kind, lang, datatype) of every row with predicate ``p``, ordered."""
        return (
            self.conn()
            .execute("SELECT DISTINCT s, o, k, lang, dt FROM quads WHERE p = ? ORDER BY s, k, o, lang, dt", (p,))
            .fetchall()
        )

    def close(self) -> None:
        if os.getpid() == self._pid:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()


def open_index(path: Path | None) -> ReleaseIndex:
    try:
        return ReleaseIndex(path)
    except (sqlite3.Error, OSError) as exc:
        raise LoadError(f"cannot open the site's release index: {exc}", file=path) from None


__all__ = [
    "APPLICATION_ID",
    "INDEX_VERSION",
    "ReleaseIndex",
    "claim",
    "is_sites_file",
    "nq_blocks",
    "open_index",
    "term_of",
    "ttl_blocks",
]
