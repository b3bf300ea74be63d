"""What differs between the release on disk and a staged one, by sizes and SHA-256, streaming.

Its own module because both the full fast build (:mod:`toolkit.build.release`) and the
incremental rebuild (:mod:`toolkit.build.incremental`, which the full build calls) compare
releases this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.publish import atomic
from toolkit.publish.assemble import StagedFiles


def diff_release(target: Path, files: StagedFiles) -> list[str]:
    """The lines ``build --check`` prints for the release on disk, by sizes and checksums, streaming."""
    old = {str(p.relative_to(target)): p for p in atomic.release_files(target)}
    return _diff(old, files, lambda rel: (old[rel].stat().st_size, atomic.file_sha256(old[rel])))


def diff_against(recorded: dict[str, tuple[int, Any, int, str]], files: StagedFiles) -> list[str]:
    """:func:`diff_release` against the sizes and checksums a build recorded for the release on disk
    (only where the disk was found unchanged since, by size, modification time and inode; never
    for ``build --check``)."""
    return _diff(recorded, files, lambda rel: (recorded[rel][0], recorded[rel][3]))


MISSING, EXTRA, DIFFERS = "missing from the release", "not produced by the sources", "differs"
#: the words of a difference said after a build wrote it (new, removed, changed), not before
_AS_WRITTEN = {MISSING: "new", EXTRA: "removed", DIFFERS: "changed"}


def new_release(changes: list[str], files: int) -> bool:
    """Whether the lines of :func:`diff_release` say that no file of the release was there before."""
    return len(changes) == files and all(line.startswith(MISSING + ": ") for line in changes)


def as_written(changes: list[str]) -> list[str]:
    """The lines of :func:`diff_release` as what a build just did to the folder.

    ``build --check`` says what the release on disk lacks ("missing from the release: x");
    after a build wrote x the same fact reads "new: x"."""
    out = []
    for line in changes:
        kind, _, rel = line.partition(": ")
        out.append(f"{_AS_WRITTEN.get(kind, kind)}: {rel}")
    return out


def _diff(old: Any, files: StagedFiles, size_and_sha: Any) -> list[str]:
    lines = []
    for rel in sorted(set(old) | set(files.sizes)):
        if rel not in old:
            lines.append(f"{MISSING}: {rel}")
        elif rel not in files.sizes:
            lines.append(f"{EXTRA}: {rel}")
        elif size_and_sha(rel) != (files.sizes[rel], files.sha256[rel]):
            lines.append(f"{DIFFERS}: {rel}")
    return lines
