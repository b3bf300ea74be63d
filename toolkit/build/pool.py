"""The one process pool of the build, behind :class:`concurrent.futures.Executor`.

Why an executor: the full build and the incremental rebuild both turn source folders into
units with :func:`toolkit.build.pipeline.build_unit`, a top-level function of picklable
arguments. Anything that offers ``Executor.map`` can run it: the local fork pool here, or a
distributed engine's executor (``dask.distributed.Client.get_executor()``) on several machines,
without a change to the stages. ``--jobs`` is resolved once, by :func:`resolve_jobs`, where a
build starts.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def resolve_jobs(jobs: int | None) -> int:
    """``--jobs`` as given, or every core this process may run on."""
    if jobs:
        return max(1, jobs)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_all(fn: Callable[[T], R], items: list[T], jobs: int, executor: Executor | None = None) -> Iterator[R]:
    """``fn`` over ``items``, in order: in this process for one job or one item (no pool to
    start), else in ``executor`` or a fork pool of ``jobs`` workers (fork: the workers inherit
    the parsed schema and the imported modules instead of importing them again)."""
    if executor is not None:
        yield from executor.map(fn, items)
        return
    if jobs <= 1 or len(items) <= 1:
        for item in items:
            yield fn(item)
        return
    chunk = max(1, min(32, len(items) // (jobs * 8) or 1))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(fn, items, chunksize=chunk)
