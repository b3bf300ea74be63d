"""Stage timers for the benchmark: off (free) unless :func:`collect` is active."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

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
