"""Replace a release folder atomically, and only a folder that the toolkit made.

A reader sees wholly the old or wholly the new release: on Linux ``renameat2(RENAME_EXCHANGE)``
swaps two directories in one step; where that is not available, two renames are used and the
next run restores the old folder if it was interrupted between them.

Because the swap throws the previous folder away whole, :func:`refusal` first decides whether
the folder may be replaced at all: a missing or empty folder, or a release the toolkit wrote
(it holds :data:`MARKER`, listing the files it wrote, and nothing else), or a release written
before the marker existed (its ``manifest.json`` lists exactly the files present, with their
sizes and SHA-256). Anything else (a user's folder, a home folder, ``/``, a file) is refused
before anything is walked, moved or deleted.

Staging folders are named ``.<release>-new-XXXXXXXX`` (``-old-`` for the fallback's previous
release) and hold :data:`STAGING_MARKER` (the owner's process id and host) from the moment
they exist. Only folders with that name *and* a marker of the toolkit (or nothing at all in
them) are ever removed as leftovers, so a user's ``.release-backup/`` beside the release is
never touched. :func:`exclusive_lock` serialises builds of one release (and of one cache).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2

#: written into every release folder the toolkit makes: the files it wrote (not a release file)
MARKER = ".policy-toolkit-release"
#: written into every staging folder the moment it is made: owner process id and host
STAGING_MARKER = ".policy-toolkit-staging"
#: the manifest a release written before :data:`MARKER` existed is recognised by
MANIFEST = "manifest.json"
#: files of the toolkit's own in a release folder that are not release files
BOOKKEEPING = frozenset({MARKER, STAGING_MARKER})
_MARKER_NOTE = (
    "This folder is written whole by `policy-toolkit build`, which replaces it on the next build. "
    "It refuses to replace the folder when it holds any file not listed here: keep nothing else in it."
)
_STAGING_NAME = re.compile(r"-(new|old)-[a-z0-9_]{8}\Z")


# ------------------------------------------------------------------------- the folder's owner


def refusal(target: Path, *, writing: bool = True) -> str | None:
    """None when ``build`` may replace (``writing``) or compare with ``target``; else why not.

    Nothing is walked unless the folder names itself a release (a marker or a manifest), and
    then only until the first few unknown entries are found."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is a file, not a folder"
    try:
        with os.scandir(target) as it:
            if next(it, None) is None:
                return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    known = marked_files(target)
    if known is None:
        listed = manifest_files(target)
        if listed is None:
            return f"it is not empty and is not a release made by policy-toolkit (it has no {MARKER} and no {MANIFEST})"
        if not writing:
            return None
        problem = _manifest_mismatch(target, listed)
        if problem is not None:
            return (
                f"it has no {MARKER}, and its {MANIFEST} does not describe it whole ({problem}), "
                "so it cannot be recognised as a release made by policy-toolkit"
            )
        return None
    unknown = unknown_entries(target, known)
    if unknown:
        more = ", ..." if len(unknown) > 4 else ""
        return f"it holds files policy-toolkit did not write: {', '.join(unknown[:4])}{more}"
    return None


def marked_files(folder: Path) -> set[str] | None:
    """The files :data:`MARKER` says the toolkit wrote into ``folder`` (None: no valid marker)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("policy-toolkit") != "release" or not isinstance(data.get("files"), list):
        return None
    return {str(f) for f in data["files"]} | BOOKKEEPING


def manifest_files(folder: Path) -> dict[str, tuple[int, str]] | None:
    """path -> (bytes, sha256) that ``folder``'s manifest.json lists (None: not a toolkit manifest)."""
    path = folder / MANIFEST
    try:
        if not path.is_file() or path.stat().st_size > 64 << 20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "toolkit_version" not in data or not isinstance(data.get("files"), list):
        return None
    out = {}
    for entry in data["files"]:
        if not isinstance(entry, dict):
            return None
        try:
            out[str(entry["path"])] = (int(entry["bytes"]), str(entry["sha256"]))
        except (KeyError, TypeError, ValueError):
            return None
    return out


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a release file may be large)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _manifest_mismatch(folder: Path, listed: dict[str, tuple[int, str]]) -> str | None:
    unknown = unknown_entries(folder, set(listed) | {MANIFEST})
    if unknown:
        return f"{unknown[0]} is not listed in it"
    for rel, (size, digest) in sorted(listed.items()):
        path = folder / rel
        if not path.is_file() or path.is_symlink():
            return f"{rel} is missing"
        if path.stat().st_size != size or file_sha256(path) != digest:
            return f"{rel} differs from its checksum"
    return None


def unknown_entries(folder: Path, known: set[str], limit: int = 5) -> list[str]:
    """Entries of ``folder`` that are neither a ``known`` file nor a folder on the way to one."""
    parents = {str(p) for k in known for p in Path(k).parents}
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath).relative_to(folder)
        for name in sorted(dirnames):
            rel = str(base / name)
            if rel not in parents or os.path.islink(os.path.join(dirpath, name)):
                out.append(rel + "/")
                dirnames.remove(name)
        for name in sorted(filenames):
            rel = str(base / name)
            if rel not in known:
                out.append(rel)
        if len(out) >= limit:
            break
    return out[:limit]


def is_release(folder: Path) -> bool:
    """``folder`` holds a release the toolkit made (see :func:`refusal`) and nothing else."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    if marked_files(folder) is None and manifest_files(folder) is None:
        return False
    return refusal(folder) is None


def write_marker(folder: Path, files: list[str] | None = None) -> None:
    """Name ``folder`` a release of the toolkit: :data:`MARKER` listing every file in it (or ``files``,
    when the caller knows them: the site's tens of thousands of files are not walked again)."""
    if files is None:
        files = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name not in BOOKKEEPING]
    files = sorted(files)
    text = json.dumps({"policy-toolkit": "release", "note": _MARKER_NOTE, "files": files}, indent=2) + "\n"
    with open(folder / MARKER, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------------- the lock


@contextlib.contextmanager
def exclusive_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (made if missing); wait, saying so once, while
    another process holds it. The kernel drops the lock when its holder dies, so a killed build
    never leaves a stale lock; the file itself stays (removing it would race with a waiter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            message = f"waiting: {what} is in use by another build ({holder}); it goes on when that one ends"
            print(message, file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def lock_path(target: Path) -> Path:
    """The lock file of a release folder: beside it, ``.<name>.lock``."""
    return target.parent / f".{target.name}.lock"


# ------------------------------------------------------------------------------- the swap


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
    """Folders beside ``target`` that an earlier run of the toolkit left, recognised beyond doubt:
    the staging name *and* (a marker of the toolkit, a release it made, or nothing inside)."""
    parent = target.parent
    if not parent.is_dir():
        return []
    prefix = f".{target.name}"
    out = []
    for p in sorted(parent.iterdir()):
        name = p.name
        if not name.startswith(prefix) or not _STAGING_NAME.fullmatch(name[len(prefix) :]):
            continue
        if p.is_symlink() or not p.is_dir():
            continue
        if _owned_staging(p) or is_release(p):
            out.append(p)
    return out


def _owned_staging(folder: Path) -> bool:
    """A staging folder of a run that is over: empty, or its :data:`STAGING_MARKER` names a
    process that is not running on this host (the build lock makes that the usual case)."""
    try:
        with os.scandir(folder) as it:
            if next(it, None) is None:
                return True
        text = (folder / STAGING_MARKER).read_text(encoding="utf-8")
    except OSError:
        return False
    try:
        owner = json.loads(text)
        pid, host = int(owner["pid"]), str(owner["host"])
    except (ValueError, KeyError, TypeError):
        return True  # our marker, cut short by a kill while it was written
    if host != socket.gethostname() or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover(target: Path) -> None:
    """Undo an interrupted fallback swap, then delete the toolkit's temporary folders of earlier runs."""
    found = leftovers(target)
    olds = [p for p in found if "-old-" in p.name[len(target.name) + 1 :] and is_release(p)]
    if not target.exists() and olds:
        os.rename(olds[-1], target)
    for p in leftovers(target):
        shutil.rmtree(p, ignore_errors=True)


def new_staging(target: Path) -> Path:
    """An empty folder beside ``target`` for the next release, marked as the toolkit's
    (leftovers of earlier runs removed). Call it holding :func:`exclusive_lock` on the release."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "target": str(target)}
    with open(folder / STAGING_MARKER, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(owner) + "\n")
    return folder


@contextlib.contextmanager
def _no_sigint() -> Iterator[None]:
    """Hold back Ctrl-C for the few system calls of the swap (delivered right after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def swap_in(staging: Path, target: Path, *, durable: bool = True, files: list[str] | None = None) -> None:
    """Make a fully written staging folder the content of ``target``, in one atomic step.

    The staging folder is named a release first (:func:`write_marker`), so the previous
    release, which the exchange leaves in it, and the new one are both recognised.
    ``durable=False`` skips the fsync of every folder inside (the site: tens of thousands of
    folders, remade from the release at will); the swap itself stays atomic. ``files``: the
    files in ``staging`` when the caller knows them (see :func:`write_marker`)."""
    write_marker(staging, files)
    (staging / STAGING_MARKER).unlink(missing_ok=True)
    folders = sorted({p for p in staging.rglob("*") if p.is_dir()} | {staging}, reverse=True) if durable else []
    for folder in folders:
        _fsync_dir(folder)
    os.chmod(staging, 0o755)
    with _no_sigint():
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


def release_files(target: Path) -> list[Path]:
    """The release files in ``target`` (the toolkit's own bookkeeping files left out)."""
    if not target.is_dir():
        return []
    return [p for p in sorted(target.rglob("*")) if p.is_file() and p.name not in BOOKKEEPING]


def read_tree(target: Path) -> dict[str, bytes]:
    return {str(p.relative_to(target)): p.read_bytes() for p in release_files(target)}


def mount_point(path: Path) -> Path:
    """The mount point of the file system ``path`` (or its nearest existing folder) is on."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    dev = p.stat().st_dev
    while p != p.parent and p.parent.stat().st_dev == dev:
        p = p.parent
    return p
