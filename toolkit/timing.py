"""Stage timers for the benchmark (off, free, unless :func:`collect` is active), and the
memory hand-back between stages; shared by every stage of the build."""

from __future__ import annotations

import ctypes
import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_ACTIVE: dict[str, float] | None = None


@contextmanager
def collect() -> Iterator[dict[str, float]]:
    """Collect stage wall times (seconds) into the yielded dict while the block runs."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, {}
    try:
        yield _ACTIVE
    finally:
        _ACTIVE = previous


@contextmanager
def stage(name: str) -> Iterator[None]:
    if _ACTIVE is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _ACTIVE[name] = _ACTIVE.get(name, 0.0) + time.perf_counter() - t0


def add(name: str, seconds: float) -> None:
    if _ACTIVE is not None:
        _ACTIVE[name] = _ACTIVE.get(name, 0.0) + seconds


@functools.cache
def _malloc_trim() -> Any:
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


def give_back_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``) after a stage.

    Why: a stage's large objects (the units' lines, the blocks of a file) live on the C heap;
    once freed, the holes stay in the process, and the next stage's small objects (Python
    allocates those in arenas mapped apart from the heap) cannot reuse them, so the resident
    size would grow stage by stage at a million triples. A no-op where there is no such call."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
