"""The saved queries answered in a child process while this one reads the release.

Why: a site run needs every saved query's answer (each is a key of the incremental state, and a
query page shows it), and answering them takes loading the release into a store and running
them, as long as reading and indexing the release for the pages. The two do not depend on each
other, so the child (forked before the release is read, so it copies a small heap) does the
one while this process does the other; the answers come back serialised, as the query engine's
own child process sends them (:func:`toolkit.query.engine.evaluate`), and already cut into their
rows (:mod:`toolkit.site.cut`: the scan for where each row starts is made in the child, beside
the parent, not in it). This process then never holds the release in a store, only its index for the
pages, and takes the answers only when it first needs one (the other keys are hashed meanwhile).

Why the release is loaded into a store in memory on every run, not kept in a store on disk beside
the site and updated per changed graph: pyoxigraph's on-disk store (RocksDB) answers the saved
queries seven times slower than its in-memory store (measured at 100k triples: the ten saved
queries 6.7-7.0 s of CPU on disk, bulk-loaded and optimised, against 0.9-1.0 s in memory), far
more than the load it would save (0.5 s of CPU), and this child runs beside the parent's own work.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

from toolkit.config import Settings
from toolkit.query import load_store, release_base_iri, saved_queries
from toolkit.site.cut import Cut, cut_answer
from toolkit.site.pages import answer_saved

Wire = dict[str, tuple[str, bytes] | Cut]


def longest_first(names: list[str], last: dict[str, float]) -> list[str]:
    """``names`` in the order to answer them: those the last run did not time first (they may be long),
    then by the last run's time, longest first, ties by name.

    Why: the threads take the queries in this order, and the run waits for the last answer. At 1M the
    timeline took 3.7 s of the 9 s, and in name order it started ninth of ten: its answer came 2-4 s
    after the others'."""
    return sorted(names, key=lambda name: (name in last, -last.get(name, 0.0), name))


def _answer_all(conn: Connection, settings: Settings, release_dir: Path, threads: int, last: dict[str, float]) -> None:
    """In the child: every saved query that needs no parameter, answered (or refused, as
    :func:`answer_saved` says), in ``threads`` threads (pyoxigraph lets go of the interpreter's lock
    while it answers: at 1M triples two threads answered the saved queries in 5.0 s instead of 10.1 s),
    longest first (:func:`longest_first`); sent with the time each took."""
    try:
        folder = settings.root / "queries"
        queries = {q.name: q for q in saved_queries(folder) if not q.missing_params}
        wire: Wire = {}
        times: dict[str, float] = {}
        if queries:
            store = load_store(settings, release_dir)
            base = release_base_iri(settings, release_dir)

            def answer(name: str) -> tuple[str, bytes] | Cut:
                start = time.perf_counter()
                kind, data = answer_saved(store, queries[name], base)
                found = cut_answer(kind, data) if kind in ("select", "ask", "graph") else (kind, data)
                times[name] = round(time.perf_counter() - start, 3)
                return found

            order = longest_first(list(queries), last)
            with ThreadPoolExecutor(max_workers=max(1, min(threads, len(queries)))) as pool:
                wire = dict(zip(order, pool.map(answer, order), strict=True))
        conn.send((wire, times))
    except Exception:  # any failure: the parent answers them itself, as without a child
        conn.send(None)
    finally:
        conn.close()


class Answers:
    """The child that answers the saved queries (in ``threads`` threads: the run's ``--jobs``);
    :meth:`take` waits for its answers."""

    def __init__(
        self, settings: Settings, release_dir: Path, threads: int = 1, last: dict[str, float] | None = None
    ) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        #: the time each saved query took in the child (empty until :meth:`take`, or when it failed)
        self.times: dict[str, float] = {}
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=_answer_all, args=(child, settings, release_dir, threads, last or {}), daemon=True
        )
        self.process.start()
        child.close()

    def take(self) -> Wire:
        """The answers (empty when there is no child or it failed: then they are made here)."""
        if self.process is None or self.conn is None:
            return {}
        try:
            sent = self.conn.recv()
        except (EOFError, OSError):
            sent = None
        finally:
            self.conn.close()
            # its answers are in (or it failed): not waited for while it frees its store (1 s at 1M)
            self.process.kill()
            self.process.join()
            self.process = None
        if not isinstance(sent, tuple):
            return {}
        wire, self.times = sent
        return wire

    def close(self) -> None:
        """End the child if its answers were not taken (the run failed before)."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None
        if self.conn is not None:
            self.conn.close()


__all__ = ["Answers", "longest_first"]
