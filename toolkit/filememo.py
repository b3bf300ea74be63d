"""A value read from a file, kept in the process while the file is unchanged.

Why: a process that builds or validates more than once (the library, ``serve``, the draft
loop, the tests' in-process CLI runs) would otherwise parse the same schema files again each
time; rdflib's Turtle parser makes that the largest fixed cost of validating one article. Why
keyed by modification time and size: an edited file is read again, so a caller never sees a
stale schema. Callers must treat what they get as read-only (it is shared).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def while_unchanged(path: Path, load: Callable[[Path], T], arg: Path) -> T:
    """``load(arg)``, kept while ``path`` keeps its modification time and size."""
    try:
        st = path.stat()
    except OSError:
        return load(arg)  # the loader's own error, which names the file
    return _loaded(load, arg, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _loaded(load: Callable[[Path], Any], arg: Path, _mtime_ns: int, _size: int) -> Any:
    return load(arg)


__all__ = ["while_unchanged"]
