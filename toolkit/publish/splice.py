"""Block files, written once and then rewritten by splicing byte ranges of their previous version.

A block file is a header, then blocks in ascending key order with a separator between two
consecutive blocks (and ``last`` after the final one), then a footer; a file with no blocks may
instead be one fixed text (``Spec.empty``). N-Triples lines, JSON arrays of nodes and CSV rows
all have this shape, and each block belongs to one source (its *owner*) or to none (``GLOBAL``).

After one source changed, a rebuild only has to drop that source's blocks and add their
replacements. :func:`splice` does this without re-serialising anything: every run of kept
blocks that were consecutive in the old file is one slice of the (memory mapped) old file,
written and hashed as it is, so a 700 MB release is rebuilt in about the time it takes to hash
and write its bytes. The output is byte for byte the file :func:`write_blocks` would write for
the merged blocks; the tests check exactly this.

The :class:`Layout` of a written file (keys, owners, offsets and lengths of the block bodies) is
what a later splice needs; :meth:`Layout.dumps` stores it compactly next to the release.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import mmap
import os
import struct
import sys
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from queue import SimpleQueue
from threading import Thread
from typing import BinaryIO

from toolkit.export.blocks import Block, Spec

_CHUNK = 1 << 20
"""Small pieces (header, separators, added blocks, short runs) are gathered up to this size
before one hash update and one write, so per-piece Python overhead stays negligible."""

_MAGIC = b"TKLAYOUT"
_VERSION = 2  # 2: the arrays and keys after the header are zlib-compressed
_HEAD = struct.Struct("<8sBBxxxxxxQQ")  # magic, version, key kind, padding, number of blocks, bytes of keys text
_STR_KEYS = 0
_TUPLE_KEYS = 1


def _q(values: Iterable[int] = ()) -> array.array:
    """A signed 64-bit array: offsets of files over 2 GiB and negative owner ids both fit."""
    return array.array("q", values)


@dataclass
class Layout:
    """Blocks of a written file in file order: sort key, owner id, byte offset and length of the block body.

    Offsets and lengths are those of the bodies alone (without separators); keys ascend.
    """

    keys: list = field(default_factory=list)
    owners: array.array = field(default_factory=_q)
    offsets: array.array = field(default_factory=_q)
    lengths: array.array = field(default_factory=_q)

    def __len__(self) -> int:
        return len(self.keys)

    def dumps(self) -> bytes:
        """The layout as bytes that load fast: the three arrays raw, the keys' strings joined by NUL.

        Tuple keys store their ints as a fourth array. Arrays are little-endian whatever the
        machine, so a dump can be read anywhere. What follows the header is zlib-compressed (level
        1): a full build keeps every file's dump until the end (~100 MB at a million triples,
        mostly IRIs sharing their prefixes), a fraction of that compressed.
        """
        n = len(self.keys)
        if not (len(self.owners) == len(self.offsets) == len(self.lengths) == n):
            raise ValueError("layout arrays and keys differ in length")
        if n and all(type(k) is str for k in self.keys):
            kind, texts, ints = _STR_KEYS, self.keys, None
        elif n and all(type(k) is tuple and len(k) == 2 for k in self.keys):
            kind = _TUPLE_KEYS
            ints = _q(k[0] for k in self.keys)
            texts = [k[1] for k in self.keys]
        elif n:
            raise ValueError("layout keys must be all str or all (int, str) tuples")
        else:
            kind, texts, ints = _STR_KEYS, [], None
        text = "\0".join(texts)
        if text.count("\0") != max(n - 1, 0):
            raise ValueError("a layout key contains NUL")
        encoded = text.encode("utf-8")
        body = zlib.compressobj(1)
        parts = [_HEAD.pack(_MAGIC, _VERSION, kind, n, len(encoded))]
        for arr in (self.owners, self.offsets, self.lengths, ints):
            if arr is not None:
                parts.append(body.compress(_le(arr)))
        parts.append(body.compress(encoded))
        del encoded
        parts.append(body.flush())
        return b"".join(parts)

    @classmethod
    def loads(cls, data: bytes) -> Layout:
        """The layout :meth:`dumps` wrote (ValueError for anything else, e.g. a truncated file)."""
        view = memoryview(data)
        if len(view) < _HEAD.size:
            raise ValueError("not a layout dump: too short")
        magic, version, kind, n, n_text = _HEAD.unpack_from(view)
        if magic != _MAGIC or version != _VERSION or kind not in (_STR_KEYS, _TUPLE_KEYS):
            raise ValueError("not a layout dump (or another version)")
        n_arrays = 4 if kind == _TUPLE_KEYS else 3
        try:
            inflate = zlib.decompressobj()
            view = memoryview(inflate.decompress(view[_HEAD.size :]))
        except zlib.error as exc:
            raise ValueError(f"layout dump is damaged: {exc}") from None
        if not inflate.eof or inflate.unused_data:
            raise ValueError("layout dump is truncated or has trailing bytes")
        if len(view) != 8 * n * n_arrays + n_text:
            raise ValueError("layout dump is truncated or has trailing bytes")
        at = 0
        arrays = []
        for _ in range(n_arrays):
            arrays.append(_from_le(view[at : at + 8 * n]))
            at += 8 * n
        texts = str(view[at:], "utf-8").split("\0") if n else []
        if len(texts) != n:
            raise ValueError("layout dump keys do not match its block count")
        keys: list = texts if kind == _STR_KEYS else list(zip(arrays[3], texts, strict=True))
        return cls(keys, arrays[0], arrays[1], arrays[2])

    def indices_of_owners(self, owners: set[int]) -> list[int]:
        """Indices of the blocks owned by any of `owners`: what a rebuild drops for changed sources."""
        if not owners:
            return []
        return [i for i, owner in enumerate(self.owners) if owner in owners]


def _le(arr: array.array) -> bytes:
    if sys.byteorder == "little":
        return arr.tobytes()
    swapped = array.array(arr.typecode, arr)
    swapped.byteswap()
    return swapped.tobytes()


def _from_le(data: memoryview) -> array.array:
    arr = array.array("q")
    arr.frombytes(data)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr


@dataclass
class Written:
    """What was written: the file's size and SHA-256 (hex), taken while writing, and its layout."""

    size: int
    sha256: str
    layout: Layout


class _Out:
    """A file being written and hashed at once; small pieces are gathered, large ones pass through.

    Large pieces (memoryview slices of the old file's mapping in a splice) are hashed and
    written as they are, never copied into Python bytes. Small ones are copied into a buffer
    of about :data:`_CHUNK` bytes, so a caller may drop a small slice right after handing it over.

    Once a file outgrows one buffer, hashing moves to a thread that is fed the same pieces in
    the same order: SHA-256 and the writes (and the final fsync) both release the GIL, so they
    overlap and a large splice costs about the larger of the two instead of their sum. Pieces
    handed to the thread are never modified afterwards (a full buffer is replaced, not reused).
    """

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.hash = hashlib.sha256()
        self.pending = bytearray()
        self.size = 0
        self._queue: SimpleQueue[bytes | bytearray | memoryview | None] | None = None
        self._thread: Thread | None = None
        self._error: BaseException | None = None

    def put(self, data: bytes | memoryview) -> None:
        n = len(data)
        if n >= _CHUNK:
            self.flush()
            self._hash(data)
            self.file.write(data)
        elif n:
            self.pending += data
            if len(self.pending) >= _CHUNK:
                self.flush()
        self.size += n

    def flush(self) -> None:
        """Hand the buffer to the hasher and the file, and start a new one."""
        if self.pending:
            data, self.pending = self.pending, bytearray()
            self._hash(data)
            self.file.write(data)

    def _hash(self, data: bytes | bytearray | memoryview) -> None:
        if self._queue is None:
            self._queue = SimpleQueue()
            self._thread = Thread(target=self._run, args=(self._queue,), name="sha256", daemon=True)
            self._thread.start()
        self._queue.put(data)

    def _run(self, queue: SimpleQueue[bytes | bytearray | memoryview | None]) -> None:
        update = self.hash.update
        try:
            while (data := queue.get()) is not None:
                update(data)
        except BaseException as error:  # reported by finish(); keep draining so stop() returns
            self._error = error
            while queue.get() is not None:
                pass

    def finish(self) -> str:
        """Write what is pending, flush and fsync (the caller may swap the file in right away); the hex digest."""
        if self._queue is None:
            self.hash.update(self.pending)
            self.file.write(self.pending)
            self.pending = bytearray()
        else:
            self.flush()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.stop()
        if self._error is not None:
            raise self._error
        return self.hash.hexdigest()

    def stop(self) -> None:
        """End the hashing thread (idempotent); after this it holds no piece of the old file."""
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


def write_blocks(path: Path, spec: Spec, blocks: Iterable[Block]) -> Written:
    """Write header, blocks, separators and footer to `path`, hashing while writing; flush and fsync.

    `blocks` must be in strictly ascending key order (checked: one comparison per block), since
    that order is what lets :func:`splice` find where added blocks go and keys identify blocks.
    With no blocks and ``spec.empty`` set, the whole file is ``spec.empty``. It is a splice of
    no old file: every block is an added one, taken as it comes (a stream is never held whole).
    """
    return _write(path, spec, _ascending(blocks), Path(), Layout())


def _ascending(blocks: Iterable[Block]) -> Iterator[Block]:
    prev = None
    for i, block in enumerate(blocks):
        if i and not prev < block[0]:  # type: ignore[operator]
            raise ValueError(f"block keys not strictly ascending: {prev!r} then {block[0]!r}")
        prev = block[0]
        yield block


def read_block(path: Path, layout: Layout, index: int) -> bytes:
    """One block's body read from the file `layout` describes (for a caller that moves a block to a new key)."""
    offset, length = layout.offsets[index], layout.lengths[index]
    with open(path, "rb") as file:
        file.seek(offset)
        data = file.read(length)
    if len(data) != length:
        raise ValueError(f"{path} is shorter than its layout says (block {index})")
    return data


def _plan(old: Layout, drop: Iterable[int], add: Iterable[Block]) -> list[tuple[int, int] | Block]:
    """The new file's blocks as segments: (first, last) inclusive runs of kept old blocks, and added blocks.

    A run ends at a dropped block and before an insertion point, so each run is contiguous in
    the old file. Added blocks go where bisect puts them among the old keys.
    """
    n = len(old)
    keys = old.keys
    dropped = set(drop)
    for i in dropped:
        if not 0 <= i < n:
            raise IndexError(f"dropped block index {i} out of range (layout has {n} blocks)")
    adds = sorted(add, key=lambda block: block[0])
    events: list[tuple[int, int, int]] = []  # (old index, 0 insert before / 1 drop, index into adds)
    for j, block in enumerate(adds):
        key = block[0]
        if j and adds[j - 1][0] == key:
            raise ValueError(f"two added blocks have the key {key!r}")
        p = bisect_left(keys, key)
        if p < n and keys[p] == key and p not in dropped:
            raise ValueError(f"added block key {key!r} is the key of a kept block ({p})")
        events.append((p, 0, j))
    events.extend((i, 1, 0) for i in dropped)
    events.sort()
    segments: list[tuple[int, int] | Block] = []
    pos = 0
    for at, kind, j in events:
        if at > pos:
            segments.append((pos, at - 1))
        if kind == 0:
            segments.append(adds[j])
            pos = at
        else:
            pos = at + 1
    if pos < n:
        segments.append((pos, n - 1))
    return segments


def splice(
    old_path: Path,
    old: Layout,
    path: Path,
    spec: Spec,
    *,
    drop: Iterable[int],
    add: Iterable[Block],
) -> Written:
    """Write to `path` the file :func:`write_blocks` would write for the old blocks minus `drop` plus `add`.

    Old blocks are identified by their index in `old`, the layout of `old_path`; their bodies
    are taken from `old_path` (which is only read), everything else (header, last, footer) comes
    from `spec`, so a changed header is fine. The old file's separator must be ``spec.sep`` (a
    format's separator never changes): a run of consecutive kept blocks is then one slice of the
    old file, which is what makes a splice cost little more than hashing and writing its bytes.
    Keys of kept and added blocks must be distinct (ValueError);
    `add` may come in any order. On an error `path` may hold part of a file: it is meant to be
    in a staging folder that is discarded then.
    """
    if path.exists() and old_path.exists() and path.samefile(old_path):
        raise ValueError(f"splice cannot write over the file it reads: {path}")
    segments = _plan(old, drop, add)
    return _write(path, spec, segments, old_path, old, needed=any(type(s[0]) is int for s in segments))


def _write(
    path: Path,
    spec: Spec,
    segments: Iterable[tuple[int, int] | Block],
    old_path: Path,
    old: Layout,
    *,
    needed: bool = False,
) -> Written:
    """Write `path` from `segments`: added blocks, and (first, last) runs of the blocks of
    `old_path` (read only when `needed`), as :func:`splice` describes."""
    sep, n_sep = spec.sep, len(spec.sep)
    o_keys, o_owners, o_offsets, o_lengths = old.keys, old.owners, old.offsets, old.lengths
    layout = Layout()
    keys, owners, offsets, lengths = layout.keys, layout.owners, layout.offsets, layout.lengths
    it = iter(segments)
    head = next(it, None)
    with open(path, "wb") as file, _old_file(old_path, needed) as view:
        out = _Out(file)
        try:
            if head is None and spec.empty is not None:
                out.put(spec.empty)
            else:
                out.put(spec.header)
                pending = out.pending
                for n, segment in enumerate(chain((head,), it) if head is not None else ()):
                    if type(segment[0]) is not int:  # an added block, gathered here: a full build's millions
                        key, owner, body = segment  # type: ignore[misc]
                        if n:
                            pending += sep
                            out.size += n_sep
                        size = len(body)
                        keys.append(key)
                        owners.append(owner)
                        offsets.append(out.size)
                        lengths.append(size)
                        if size >= _CHUNK:
                            out.put(body)  # flushes, so the buffer is a new one afterwards
                            pending = out.pending
                            continue
                        pending += body
                        out.size += size
                        if len(pending) >= _CHUNK:
                            out.flush()
                            pending = out.pending
                        continue
                    if n:
                        out.put(sep)
                    start = out.size
                    i, j = segment  # type: ignore[misc]
                    keys.extend(o_keys[i : j + 1])
                    owners.extend(o_owners[i : j + 1])
                    lengths.extend(o_lengths[i : j + 1])
                    begin, end = o_offsets[i], o_offsets[j] + o_lengths[j]
                    if end > len(view):
                        raise ValueError(f"{old_path} is shorter than its layout says")
                    # Cheap guards against an old file of another separator: the run's length, its first separator.
                    if end - begin != sum(o_lengths[i : j + 1]) + (j - i) * n_sep or (
                        j > i and n_sep and view[o_offsets[i] + o_lengths[i] : o_offsets[i + 1]] != sep
                    ):
                        raise ValueError(f"old blocks {i}..{j} are not separated by {sep!r}")
                    delta = start - begin
                    if delta:
                        offsets.extend(map(delta.__add__, o_offsets[i : j + 1]))
                    else:
                        offsets.extend(o_offsets[i : j + 1])
                    out.put(view[begin:end])  # the whole run: one slice, no copy
                    pending = out.pending  # the runs were put through ``out``: its buffer may be a new one
                if head is not None:
                    out.put(spec.last)
                out.put(spec.footer)
            digest = out.finish()
        finally:
            out.stop()  # before the old file is unmapped: the hasher may still hold slices of it
    return Written(out.size, digest, layout)


@contextlib.contextmanager
def _old_file(path: Path, needed: bool) -> Iterator[memoryview]:
    """The old file memory mapped read-only, as a memoryview (or an empty view if nothing is read)."""
    if not needed:
        yield memoryview(b"")
        return
    with open(path, "rb") as file:
        if not os.fstat(file.fileno()).st_size:  # an empty file cannot be mapped
            yield memoryview(b"")
            return
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mapped)
        try:
            yield view
        finally:
            view.release()
            # BufferError: a slice is still alive (a traceback holds one); it is unmapped when collected.
            with contextlib.suppress(BufferError):
                mapped.close()
