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

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from toolkit.config import Settings
from toolkit.query import load_store, release_base_iri, saved_queries
from toolkit.site.child import Child
from toolkit.site.cut import ANSWER_KINDS, Cut, cut_answer
from toolkit.site.pages import answer_saved

Wire = dict[str, tuple[str, bytes] | Cut]


def longest_first(names: list[str], last: dict[str, float]) -> list[str]:
    """``names`` in the order to answer them: those the last run did not time first (they may be long),
    then by the last run's time, longest first, ties by name.

    Why: the threads take the queries in this order, and the run waits for the last answer. At 1M the
    timeline took 3.7 s of the 9 s, and in name order it started ninth of ten: its answer came 2-4 s
    after the others'."""
    return sorted(names, key=lambda name: (name in last, -last.get(name, 0.0), name))


def _answer_all(
    settings: Settings, release_dir: Path, threads: int, last: dict[str, float]
) -> tuple[Wire, dict[str, float]]:
    """In the child: every saved query that needs no parameter, answered (or refused, as
    :func:`answer_saved` says), in ``threads`` threads (pyoxigraph lets go of the interpreter's lock
    while it answers: at 1M triples two threads answered the saved queries in 5.0 s instead of 10.1 s),
    longest first (:func:`longest_first`); with the time each took."""
    folder = settings.root / "queries"
    queries = {q.name: q for q in saved_queries(folder) if not q.missing_params}
    wire: Wire = {}
    times: dict[str, float] = {}
    if queries:
        # lenient: this process's parent parses every block of policy.nq strictly when it first sees it
        # (:meth:`toolkit.site.releaseindex.ReleaseIndex.sync`) and the run stops there on an error
        store = load_store(settings, release_dir, lenient=True)
        base = release_base_iri(settings, release_dir)

        def answer(name: str) -> tuple[str, bytes] | Cut:
            start = time.perf_counter()
            kind, data = answer_saved(store, queries[name], base)
            found = cut_answer(kind, data) if kind in ANSWER_KINDS else (kind, data)
            times[name] = round(time.perf_counter() - start, 3)
            return found

        order = longest_first(list(queries), last)
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(queries)))) as pool:
            wire = dict(zip(order, pool.map(answer, order), strict=True))
    return wire, times


class Answers:
    """The child that answers the saved queries (in ``threads`` threads: the run's ``--jobs``);
    :meth:`take` waits for its answers."""

    def __init__(
        self, settings: Settings, release_dir: Path, threads: int = 1, last: dict[str, float] | None = None
    ) -> None:
        self.child: Child | None = Child(_answer_all, settings, release_dir, threads, last or {})
        #: the time each saved query took in the child (empty until :meth:`take`, or when it failed)
        self.times: dict[str, float] = {}

    def take(self) -> Wire:
        """The answers (empty when there is no child or it failed: then they are made here)."""
        if self.child is None:
            return {}
        ok, sent = self.child.take()
        self.child = None
        if not ok:
            return {}
        wire, self.times = sent
        return wire

    def close(self) -> None:
        """End the child if its answers were not taken (the run failed before)."""
        if self.child is not None:
            self.child.close()
            self.child = None


__all__ = ["Answers", "longest_first"]
