"""A function run in a forked process while this one goes on, its result sent back through a file with no
name (the pipe only says whether it is there).

Why: two parts of a site run only wait to be used (the saved queries' answers, :mod:`toolkit.site.
answers`; the check of the kept pages' files, :class:`toolkit.site.incremental.FilesCheck`), and each
runs on another core meanwhile. Why forked: the child starts with this process's memory (the release
folder's settings, the state's pages) and nothing is sent to it. Why killed once its result is in: it
would only free its memory (a store of the whole release, at 1M triples 1 s), which no one waits for.
"""

from __future__ import annotations

import multiprocessing
import pickle
import tempfile
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import IO, Any


def _run(conn: Connection, out: IO[bytes], fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        pickle.dump(fn(*args), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        conn.send(True)
    except Exception:  # any failure: the parent does the work itself
        conn.send(False)
    finally:
        conn.close()


class Child:
    """``fn(*args)`` in a forked process (where there is no fork, nothing is started: :attr:`started`)."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.out: IO[bytes] | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        # the result goes through a file with no name (gone with its last descriptor), not the pipe: at 1M
        # triples the saved queries' answers are 75 MB, and through the pipe they took 0.8 s to arrive
        self.out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), which every user calls)
        self.process = ctx.Process(target=_run, args=(child, self.out, fn, args), daemon=True)
        self.process.start()
        child.close()

    @property
    def started(self) -> bool:
        return self.process is not None

    def take(self) -> tuple[bool, Any]:
        """(True, what ``fn`` returned), or (False, None) when it failed, died or was not started."""
        if self.conn is None or self.out is None:
            return False, None
        try:
            if self.conn.recv() is not True:
                return False, None
            self.out.seek(0)
            return True, pickle.load(self.out)
        except (EOFError, OSError, pickle.UnpicklingError):
            return False, None
        finally:
            self.close()

    def close(self) -> None:
        """End the child (its result taken, or no longer wanted)."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.out is not None:
            self.out.close()
            self.out = None


__all__ = ["Child"]
