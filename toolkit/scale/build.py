"""``build`` on the fast path: validate, write the release into a staging folder, compare or swap.

The staging folder is created beside the release with the prefix :mod:`toolkit.publish.atomic`
uses, so a killed build leaves the previous release in place and the next build removes the
leftover; the swap is the same ``renameat2(RENAME_EXCHANGE)`` (or the two-rename fallback).
``build --check`` compares sizes and SHA-256 with the release on disk without reading it
into memory.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from toolkit.config import Settings
from toolkit.errors import DataError, ReleaseMismatch
from toolkit.publish import atomic
from toolkit.publish.release import Release
from toolkit.scale.assemble import StagedFiles, Unsupported, write_release
from toolkit.scale.pipeline import fast_outcome
from toolkit.scale.timing import stage
from toolkit.scale.units import DamagedCache


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def diff_release(target: Path, files: StagedFiles) -> list[str]:
    """:func:`toolkit.publish.release.diff_trees` by sizes and checksums, streaming."""
    old: dict[str, Path] = {}
    if target.is_dir():
        old = {str(p.relative_to(target)): p for p in sorted(target.rglob("*")) if p.is_file()}
    lines = []
    for rel in sorted(set(old) | set(files.sizes)):
        if rel not in old:
            lines.append(f"missing from the release: {rel}")
        elif rel not in files.sizes:
            lines.append(f"not produced by the sources: {rel}")
        elif old[rel].stat().st_size != files.sizes[rel] or _sha256(old[rel]) != files.sha256[rel]:
            lines.append(f"differs: {rel}")
    return lines


def build_fast(settings: Settings, *, check: bool = False, jobs: int | None = None) -> Release | None:
    """The fast build; None when the naive path must make this release (it is then run instead)."""
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
        if check:
            if changed:
                rel = settings.release_dir
                try:
                    where = str(rel.relative_to(settings.root))
                except ValueError:
                    where = rel.name
                raise ReleaseMismatch(
                    "the release in " + where + " is not what the sources produce:\n  " + "\n  ".join(changed),
                    hint="run `policy-toolkit build` and commit the result",
                )
            return release
        if changed:
            with stage("swap"):
                atomic.swap_in(staging, target)
        return release
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
