"""``build`` on the fast path: validate, write the release into a staging folder, compare or swap.

The staging folder is made by :func:`toolkit.publish.atomic.new_staging` (named and marked as
the toolkit's), so a killed build leaves the previous release in place and the next build
removes the leftover; the swap is the same ``renameat2(RENAME_EXCHANGE)`` (or the two-rename
fallback). The cache is held with an exclusive lock for the whole build, so two builds never
write one cache at once. ``build --check`` compares the sizes and SHA-256 of the real bytes on
disk (never the cache's record of them), streaming, without reading the release into memory.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from toolkit.config import Settings
from toolkit.errors import DataError
from toolkit.publish import atomic
from toolkit.publish.manifest import Release, mismatch
from toolkit.scale.assemble import StagedFiles, Unsupported, write_release
from toolkit.scale.diff import diff_release
from toolkit.scale.pipeline import cache_root, fast_outcome
from toolkit.scale.timing import stage
from toolkit.scale.units import DamagedCache


def build_fast(settings: Settings, *, check: bool = False, jobs: int | None = None) -> Release | None:
    """The fast build; None when the naive path must make this release (it is then run instead).

    A rebuild after a few sources changed is incremental (:mod:`toolkit.scale.incremental`)
    when the previous build left its state; otherwise, or when the change is not one it makes
    exactly, the full build runs."""
    from toolkit.scale import incremental

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


def _build_fast(settings: Settings, *, check: bool, jobs: int | None) -> Release | None:
    outcome = fast_outcome(settings, jobs=jobs)
    if not outcome.report.conforms or not outcome.clean:
        raise DataError("validation failed; nothing was published", report=outcome.report)
    target = settings.release_dir
    staging = atomic.new_staging(target)
    try:
        try:
            files, manifest, report = write_release(settings, outcome, staging)
        except Unsupported:
            return None
        with stage("diff"):
            changed = diff_release(target, files)
        release = Release(
            files=files.moved_to(target),
            manifest=manifest,
            report=report,
            changed=changed,
            graph_loader=lambda: outcome.rdflib_graph(settings),
        )
        state = _state(settings, outcome, files, report)
        if check:
            if changed:
                raise mismatch(settings, changed)
            _save(settings, state, files)
            return release
        if changed:
            with stage("swap"):
                atomic.swap_in(staging, target)
        _save(settings, state, files)
        return release
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _state(settings: Settings, outcome: Any, files: StagedFiles, report: Any) -> Any:
    """What the next build needs to be incremental (see :mod:`toolkit.scale.incremental`)."""
    from toolkit.scale import incremental
    from toolkit.validate.shacl import load_schema_graph

    with stage("state"):
        local = incremental.local_shapes(load_schema_graph(settings.schema_dir / "shapes.ttl"))
        if report.results:
            local = local or "the report has results"
        if files.aggregates is None or files.aggregates.catalog is None:
            local = local or "the catalog was made by the naive path"
        if not files.layouts:
            local = local or "no layouts"
        return incremental.full_state(settings, outcome.units, files, report, local)


def _save(settings: Settings, state: Any, files: StagedFiles) -> None:
    from toolkit.scale import incremental

    with stage("state"):
        incremental.record_release(state, settings, files.sha256)
        incremental.save_state(settings, state)
