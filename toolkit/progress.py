"""Progress for long work: a bar on a terminal, nothing in pipes, files or CI.

Why one module: every long command (build of a large corpus, ``corpus generate``, ``bench``,
``publish``) shows progress the same way, with rich's bar, and decides the same way whether
to show it at all: only when standard error is a terminal and ``CI`` is not set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["Ticker", "enabled", "progress"]


class Ticker(Protocol):
    """What a caller gets from :func:`progress`: one call per finished item."""

    def advance(self, n: int = 1) -> None: ...


class _Silent:
    def advance(self, n: int = 1) -> None:
        return None


class _Bar:
    def __init__(self, bar: Progress, task: int) -> None:
        self._bar = bar
        self._task = task

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)  # type: ignore[arg-type]


def enabled() -> bool:
    """True on an interactive terminal; False in pipes, redirections and CI (``CI`` set)."""
    if os.environ.get("CI") or os.environ.get("POLICY_TOOLKIT_NO_PROGRESS"):
        return False
    return sys.stderr.isatty()


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Ticker]:
    """A bar on standard error for ``total`` items (None: unknown), or a silent ticker."""
    if not enabled():
        yield _Silent()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield _Bar(bar, bar.add_task(description, total=total))
