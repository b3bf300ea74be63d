"""``build`` on the fast path: validate, write the release into a staging folder, compare or swap.

The staging folder is made by :func:`toolkit.publish.atomic.new_staging` (named and marked as
the toolkit's), so a killed build leaves the previous release in place and the next build
removes the leftover; the swap is the same ``renameat2(RENAME_EXCHANGE)`` (or the two-rename
fallback). The cache is held with an exclusive lock for the whole build, so two builds never
write one cache at once. ``build --check`` compares the sizes and SHA-256 of the real bytes on
disk (never the cache's record of them), streaming, without reading the release into memory.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

from toolkit.build import incremental
from toolkit.build.pipeline import cache_root, fast_outcome
from toolkit.build.pool import resolve_jobs
from toolkit.config import Settings
from toolkit.errors import DataError, Interrupted, NoSpace
from toolkit.export.blocks import DamagedCache, Unsupported
from toolkit.publish import atomic
from toolkit.publish.assemble import StagedFiles, write_release
from toolkit.publish.manifest import Release, where
from toolkit.publish.release import check_release_folder
from toolkit.timing import stage
from toolkit.validate.shacl import schema_graph


def build_fast(settings: Settings, *, check: bool = False, jobs: int) -> Release:
    """The build from per-source units (under the cache's lock).

    A rebuild after a few sources changed is incremental (:mod:`toolkit.build.incremental`)
    when the previous build left its state; otherwise, or when the change is not one it makes
    exactly, the full build runs."""
    cache = cache_root(settings)
    with atomic.exclusive_lock(cache / ".lock", f"the cache {cache}"):
        if not os.environ.get("POLICY_TOOLKIT_NO_INCREMENTAL"):
            release = incremental.rebuild(settings, check=check, jobs=jobs)
            if release is not None:
                return release
        try:
            return _build_fast(settings, check=check, jobs=jobs)
        except DamagedCache:  # the damaged entry was dropped: once more, computing it again
            return _build_fast(settings, check=check, jobs=jobs)


def _build_fast(settings: Settings, *, check: bool, jobs: int) -> Release:
    outcome = fast_outcome(settings, jobs=jobs)
    if not outcome.report.conforms or not outcome.clean:
        raise DataError("validation failed; nothing was published", report=outcome.report)
    target = settings.release_dir
    staging = atomic.new_staging(target)
    try:
        try:
            files, manifest, report = write_release(settings, outcome, staging)
        except Unsupported as exc:
            raise DataError(
                f"the release cannot be written from the sources as they are: {exc}. Nothing was published; "
                "see README.md, 'What the pipeline refuses', for what to change"
            ) from None
        state = _state(settings, outcome, files, report)
        return incremental.publish(settings, staging, files, manifest, report, state, check)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _state(settings: Settings, outcome: Any, files: StagedFiles, report: Any) -> Any:
    """What the next build needs to be incremental (see :mod:`toolkit.build.incremental`)."""
    with stage("state"):
        local = incremental.local_shapes(schema_graph(settings.schema_dir / "shapes.ttl"))
        if report.results:
            local = local or "the report has results"
        if files.aggregates is None or files.aggregates.catalog is None:
            local = local or "no catalog state"
        if not files.layouts:
            local = local or "no layouts"
        return incremental.full_state(settings, outcome.units, outcome.links, files, report, local)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def build_release(settings: Settings, *, check: bool = False, jobs: int | None = None) -> Release:
    """Validate, export and write the release (or, with ``check``, only compare).

    The one pipeline (:func:`build_fast`): per-source units in ``jobs`` processes (``None``:
    every core; resolved here, once), cached; SHACL by the default engine; every file written from
    the units' blocks. The tests hold it to the whole-graph oracle (``tests/oracle``) byte for byte.

    The release folder is checked before anything else (:func:`check_release_folder`) and
    again under an exclusive lock on it (a second build waits). Ctrl-C raises
    :class:`~toolkit.errors.Interrupted` and a full disk :class:`~toolkit.errors.NoSpace`,
    each saying what became of the release.
    """
    target = settings.release_dir
    at = where(target, settings)
    check_release_folder(settings, check=check)
    before = _inode(target)
    try:
        with atomic.exclusive_lock(atomic.lock_path(target), f"the release folder {at}"):
            check_release_folder(settings, check=check)
            return build_fast(settings, check=check, jobs=resolve_jobs(jobs))
    except KeyboardInterrupt:
        left = "was left as it was" if _inode(target) == before else "was already replaced by the new, complete one"
        raise Interrupted(f"interrupted: the release in {at} {left}") from None
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        full = Path(exc.filename) if exc.filename else target.parent
        what = exc.filename or "the new release"
        left = "was left as it was" if _inode(target) == before else "was replaced by the new, complete one"
        raise NoSpace(
            f"no space left on {atomic.mount_point(full)} (while writing {what}); the release in {at} {left}"
        ) from None
