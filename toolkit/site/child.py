"""A function run in a forked process while this one goes on, its result sent back through a pipe.

Why: two parts of a site run only wait to be used (the saved queries' answers, :mod:`toolkit.site.
answers`; the check of the kept pages' files, :class:`toolkit.site.incremental.FilesCheck`), and each
runs on another core meanwhile. Why forked: the child starts with this process's memory (the release
folder's settings, the state's pages) and nothing is sent to it. Why killed once its result is in: it
would only free its memory (a store of the whole release, at 1M triples 1 s), which no one waits for.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


def _run(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        conn.send((True, fn(*args)))
    except Exception:  # any failure: the parent does the work itself
        conn.send((False, None))
    finally:
        conn.close()


class Child:
    """``fn(*args)`` in a forked process (where there is no fork, nothing is started: :attr:`started`)."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_run, args=(child, fn, args), daemon=True)
        self.process.start()
        child.close()

    @property
    def started(self) -> bool:
        return self.process is not None

    def take(self) -> tuple[bool, Any]:
        """(True, what ``fn`` returned), or (False, None) when it failed, died or was not started."""
        if self.conn is None:
            return False, None
        try:
            sent = self.conn.recv()
        except (EOFError, OSError):
            sent = (False, None)
        finally:
            self.close()
        return sent if isinstance(sent, tuple) and len(sent) == 2 else (False, None)

    def close(self) -> None:
        """End the child (its result taken, or no longer wanted)."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


__all__ = ["Child"]
