"""The release folder: which folders `build` may replace or compare with, and what a release
on disk holds (``info``). The release itself is written by :mod:`toolkit.build` from the files
:mod:`toolkit.publish.assemble` stages.
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.config import Settings
from toolkit.errors import LoadError, ReleaseRefused
from toolkit.publish import atomic
from toolkit.publish.manifest import MANIFEST, Release, sha256, where

__all__ = ["MANIFEST", "Release", "check_release_folder", "release_info", "sha256"]


def check_release_folder(settings: Settings, *, check: bool = False) -> None:
    """Raise ReleaseRefused unless the release folder is one `build` may replace (or, with
    ``check``, compare with): missing, empty, or a release the toolkit made."""
    target = settings.release_dir
    reason = atomic.refusal(target, writing=not check)
    if reason is None:
        return
    at = where(target, settings)
    todo = "Give --release a new or empty folder"
    todo += "." if target.is_file() or target.is_symlink() else f", or move the files out of {at} first."
    action = "compares the release folder with what the sources give" if check else "replaces the release folder whole"
    raise ReleaseRefused(
        f"refusing to use {at} as the release folder: {reason}. `build` {action}, so it only takes a "
        f"folder that is missing, empty, or holds a release it made itself ({atomic.MARKER}, or a "
        f"{MANIFEST} that lists exactly its files with their SHA-256); nothing was changed. {todo}"
    )


def release_info(settings: Settings) -> dict[str, Any]:
    """The manifest of the release on disk, with each file's checksum verified."""
    path = settings.release_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError("no release here yet", file=settings.release_dir, hint="run `policy-toolkit build`") from None
    except (OSError, ValueError) as exc:
        raise LoadError(f"unreadable manifest: {exc}", file=path) from None
    for entry in manifest["files"]:
        f = settings.release_dir / entry["path"]
        entry["verified"] = f.is_file() and sha256(f.read_bytes()) == entry["sha256"]
    return manifest
