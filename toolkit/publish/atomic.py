"""Replace a whole folder atomically, so a reader sees wholly the old or wholly the new release.

On Linux, ``renameat2(RENAME_EXCHANGE)`` swaps two directories in one step. Where that is
not available, two renames are used and the next run restores the old folder if it was
interrupted between them. Leftover temporary folders are removed by the next run.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when the platform cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def leftovers(target: Path) -> list[Path]:
    parent = target.parent
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.name.startswith(f".{target.name}-"))


def recover(target: Path) -> None:
    """Undo an interrupted fallback swap, then delete temporary folders of earlier runs."""
    olds = [p for p in leftovers(target) if p.name.startswith(f".{target.name}-old-")]
    if not target.exists() and olds:
        os.rename(olds[-1], target)
    for p in leftovers(target):
        shutil.rmtree(p, ignore_errors=True)


def new_staging(target: Path) -> Path:
    """An empty folder beside ``target`` for the next release (leftovers of earlier runs removed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))


def swap_in(staging: Path, target: Path) -> None:
    """Make a fully written staging folder the content of ``target``, in one atomic step."""
    for folder in sorted({p for p in staging.rglob("*") if p.is_dir()} | {staging}, reverse=True):
        _fsync_dir(folder)
    os.chmod(staging, 0o755)
    if target.exists():
        if _exchange(staging, target):
            _fsync_dir(target.parent)
            shutil.rmtree(staging)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(staging, target)
        _fsync_dir(target.parent)
        shutil.rmtree(old)
    else:
        os.rename(staging, target)
        _fsync_dir(target.parent)


def replace_tree(target: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) as the new content of ``target``."""
    tmp = new_staging(target)
    try:
        for rel in sorted(files):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(files[rel])
                fh.flush()
                os.fsync(fh.fileno())
        swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_tree(target: Path) -> dict[str, bytes]:
    if not target.is_dir():
        return {}
    return {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}
