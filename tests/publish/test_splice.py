"""Block files: a splice gives exactly the bytes, hash and layout of writing the merged blocks from scratch.

Every file written here is also checked against a plain reference (the pieces joined in
memory), so write_blocks and splice are not only compared with each other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.export.blocks import GLOBAL, Spec
from toolkit.publish import splice as S
from toolkit.publish.splice import Layout, Written, read_block, splice, write_blocks

JSON = Spec(header=b'{"@graph": [\n', footer=b"]}\n", sep=b",\n", last=b"\n", empty=b'{"@graph": []}\n')
LINES = Spec(header=b"", footer=b"")
CSV = Spec(header="id,名前\n".encode(), footer=b"", sep=b"\n", last=b"\n")
FRAMED = Spec(header=b"<rdf>", footer=b"</rdf>", sep=b"|", empty=None)
SPECS = [JSON, LINES, CSV, FRAMED, Spec(header=b"H2-longer-header\n", footer=b"--end--", sep=b";;", empty=b"")]


def reference(spec: Spec, blocks: list[tuple[object, int, bytes]]) -> tuple[bytes, Layout]:
    """The file and layout write_blocks must give, built the obvious way."""
    if not blocks and spec.empty is not None:
        return spec.empty, Layout()
    out = bytearray(spec.header)
    layout = Layout()
    for i, (key, owner, body) in enumerate(blocks):
        if i:
            out += spec.sep
        layout.keys.append(key)
        layout.owners.append(owner)
        layout.offsets.append(len(out))
        layout.lengths.append(len(body))
        out += body
    if blocks:
        out += spec.last
    out += spec.footer
    return bytes(out), layout


def check_written(path: Path, written: Written, spec: Spec, blocks: list[tuple[object, int, bytes]]) -> None:
    data = path.read_bytes()
    expected, layout = reference(spec, blocks)
    assert data == expected
    assert written.size == len(data)
    assert written.sha256 == hashlib.sha256(data).hexdigest()
    assert written.layout == layout


# -- property: splice == write_blocks of the merged blocks ------------------------------------

TEXT = st.text(alphabet=st.sampled_from("ab/#:é中文\U0001f600 "), max_size=6)
BODY = st.one_of(st.binary(max_size=12), st.sampled_from([b"", b",\n", b"\n", b";;", "é中".encode()]))


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    tuple_keys = draw(st.booleans())
    key = st.tuples(st.integers(-3, 3), TEXT) if tuple_keys else TEXT
    old_keys = sorted(draw(st.sets(key, max_size=12)))
    old_blocks = [(k, draw(st.sampled_from([GLOBAL, 0, 1, 2])), draw(BODY)) for k in old_keys]
    drop = draw(st.sets(st.sampled_from(range(len(old_keys))), max_size=len(old_keys))) if old_keys else set()
    kept = {old_keys[i] for i in range(len(old_keys)) if i not in drop}
    # Added keys: new ones and the keys of dropped blocks (a replaced block), never a kept key.
    add_keys = draw(st.sets(key, max_size=6)) - kept
    if drop:
        add_keys |= {old_keys[i] for i in draw(st.sets(st.sampled_from(sorted(drop)), max_size=3))}
    add = [(k, draw(st.sampled_from([GLOBAL, 5])), draw(BODY)) for k in add_keys]
    draw(st.randoms()).shuffle(add)  # splice must not rely on the order of `add`
    old_spec = draw(st.sampled_from(SPECS))
    # a new header, last and footer; the separator is the old file's (a format's never changes)
    new_spec = dataclasses.replace(draw(st.sampled_from(SPECS)), sep=old_spec.sep)
    chunk = draw(st.sampled_from([1 << 20, 1, 4, 9]))  # small buffers: the hashing thread and pass-through
    return old_blocks, drop, add, old_spec, new_spec, chunk


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_splice_equals_write_from_scratch(tmp_path: Path, case: tuple) -> None:
    old_blocks, drop, add, old_spec, new_spec, chunk = case
    old_path, new_path, ref_path = tmp_path / "old", tmp_path / "new", tmp_path / "ref"
    with mock.patch.object(S, "_CHUNK", chunk):
        old_w = write_blocks(old_path, old_spec, iter(old_blocks))
        check_written(old_path, old_w, old_spec, old_blocks)
        old_bytes = old_path.read_bytes()
        old_layout = Layout.loads(old_w.layout.dumps())

        merged = sorted([b for i, b in enumerate(old_blocks) if i not in drop] + add, key=lambda b: b[0])
        got = splice(old_path, old_layout, new_path, new_spec, drop=iter(drop), add=iter(add))
        want = write_blocks(ref_path, new_spec, merged)

    assert new_path.read_bytes() == ref_path.read_bytes()
    assert (got.size, got.sha256) == (want.size, want.sha256)
    assert got.layout == want.layout
    check_written(new_path, got, new_spec, merged)
    assert old_path.read_bytes() == old_bytes
    for i, (_, _, body) in enumerate(merged):
        assert read_block(new_path, got.layout, i) == body


# -- separators and headers ------------------------------------------------------------------

BLOCKS = [(f"k{i:03d}", i % 3, f"<block {i} é>".encode()) for i in range(20)]


def test_header_change(tmp_path: Path) -> None:
    old_spec = Spec(header=b"v1\n", footer=b"end\n", sep=b";", last=b".")
    new_spec = Spec(header="version 2 — 中文\n".encode(), footer=b"END\n", sep=b";", last=b"\n")
    old = write_blocks(tmp_path / "old", old_spec, BLOCKS)
    add = [("k005x", 9, b"added"), ("a-first", 9, b"first"), ("z-last", 9, b"")]
    got = splice(tmp_path / "old", old.layout, tmp_path / "new", new_spec, drop=[0, 7, 19], add=add)
    merged = sorted([b for i, b in enumerate(BLOCKS) if i not in {0, 7, 19}] + add)
    check_written(tmp_path / "new", got, new_spec, merged)

    # New header only: runs are copied as they are.
    same = Spec(header=b"a much longer header than before\n", footer=b"", sep=b";", last=b".")
    got = splice(tmp_path / "old", old.layout, tmp_path / "same", same, drop=[3], add=[])
    check_written(tmp_path / "same", got, same, [b for i, b in enumerate(BLOCKS) if i != 3])


@pytest.mark.parametrize("new_sep", [b",", b",\n"])
def test_wrong_old_separator_is_refused(tmp_path: Path, new_sep: bytes) -> None:
    """A run would carry the old separators: the length/first-gap guard refuses it."""
    old = write_blocks(tmp_path / "old", Spec(header=b"", footer=b"", sep=b";"), BLOCKS)
    with pytest.raises(ValueError, match="not separated by"):
        splice(
            tmp_path / "old", old.layout, tmp_path / "new", Spec(header=b"", footer=b"", sep=new_sep), drop=[4], add=[]
        )


# -- edge cases ------------------------------------------------------------------------------


def test_empty_results_and_empty_old(tmp_path: Path) -> None:
    old = write_blocks(tmp_path / "old", JSON, BLOCKS)
    got = splice(tmp_path / "old", old.layout, tmp_path / "none", JSON, drop=range(len(BLOCKS)), add=[])
    check_written(tmp_path / "none", got, JSON, [])
    assert (tmp_path / "none").read_bytes() == b'{"@graph": []}\n'

    got = splice(tmp_path / "old", old.layout, tmp_path / "framed", FRAMED, drop=range(len(BLOCKS)), add=[])
    assert (tmp_path / "framed").read_bytes() == b"<rdf></rdf>"
    got = splice(tmp_path / "old", old.layout, tmp_path / "csv", CSV, drop=range(len(BLOCKS)), add=[])
    assert (tmp_path / "csv").read_bytes() == CSV.header  # no `last` without blocks

    empty = write_blocks(tmp_path / "empty", Spec(header=b"", footer=b"", empty=b""), [])
    assert (tmp_path / "empty").read_bytes() == b"" and len(empty.layout) == 0
    add = [("b", 1, b""), ("a", GLOBAL, "ü".encode())]
    got = splice(tmp_path / "empty", empty.layout, tmp_path / "grown", JSON, drop=[], add=add)
    check_written(tmp_path / "grown", got, JSON, sorted(add))


def test_zero_length_old_file_with_blocks(tmp_path: Path) -> None:
    """All bodies empty and no texts: the old file is empty, which cannot be memory mapped."""
    blocks = [("a", 0, b""), ("b", 0, b"")]
    old = write_blocks(tmp_path / "old", LINES, blocks)
    assert (tmp_path / "old").stat().st_size == 0
    got = splice(tmp_path / "old", old.layout, tmp_path / "new", CSV, drop=[0], add=[("c", 1, b"x")])
    check_written(tmp_path / "new", got, CSV, [("b", 0, b""), ("c", 1, b"x")])


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    old = write_blocks(tmp_path / "old", LINES, BLOCKS)
    with pytest.raises(ValueError, match="kept block"):
        splice(tmp_path / "old", old.layout, tmp_path / "new", LINES, drop=[1], add=[("k002", 0, b"again")])
    with pytest.raises(ValueError, match="two added"):
        splice(tmp_path / "old", old.layout, tmp_path / "new", LINES, drop=[], add=[("x", 0, b"1"), ("x", 1, b"2")])
    # The key of a dropped block may come back (a changed block).
    got = splice(tmp_path / "old", old.layout, tmp_path / "new", LINES, drop=[2], add=[("k002", 0, b"changed")])
    assert read_block(tmp_path / "new", got.layout, 2) == b"changed"
    with pytest.raises(IndexError):
        splice(tmp_path / "old", old.layout, tmp_path / "new", LINES, drop=[len(BLOCKS)], add=[])
    with pytest.raises(ValueError, match="ascending"):
        write_blocks(tmp_path / "bad", LINES, [("b", 0, b""), ("a", 0, b"")])
    with pytest.raises(ValueError, match="ascending"):
        write_blocks(tmp_path / "bad", LINES, [("a", 0, b""), ("a", 0, b"")])


def test_splice_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    old = write_blocks(tmp_path / "old", LINES, BLOCKS)
    before = (tmp_path / "old").read_bytes()
    with pytest.raises(ValueError, match="over the file"):
        splice(tmp_path / "old", old.layout, tmp_path / "old", LINES, drop=[0], add=[])
    assert (tmp_path / "old").read_bytes() == before


def test_large_bodies_pass_through_the_hashing_thread(tmp_path: Path) -> None:
    """Bodies of a MiB and more are written and hashed without the buffer (real chunk size)."""
    rng = random.Random(3)
    big = [rng.randbytes(n) for n in (3 << 20, 1 << 20, (1 << 20) - 1, 5)]
    blocks = [(f"b{i}", i, body) for i, body in enumerate(big + big)]
    old = write_blocks(tmp_path / "old", JSON, blocks)
    check_written(tmp_path / "old", old, JSON, blocks)
    add = [("b0x", 1, big[1]), ("b3", 2, big[0])]
    got = splice(tmp_path / "old", old.layout, tmp_path / "new", JSON, drop=[3, 5], add=add)
    merged = sorted([b for i, b in enumerate(blocks) if i not in {3, 5}] + add, key=lambda b: b[0])
    check_written(tmp_path / "new", got, JSON, merged)


def test_tuple_keys_order_as_tuples(tmp_path: Path) -> None:
    blocks = [((-1, "z"), 0, b"a"), ((2, "a"), 0, b"b"), ((10, "a"), 1, b"c"), ((10, "b"), 1, b"d")]
    old = write_blocks(tmp_path / "old", CSV, blocks)
    add = [((3, ""), 4, b"new"), ((10, "aa"), 4, "中".encode()), ((-5, "ü"), 4, b"first")]
    got = splice(tmp_path / "old", old.layout, tmp_path / "new", CSV, drop=[1], add=add)
    assert got.layout.keys == [(-5, "ü"), (-1, "z"), (3, ""), (10, "a"), (10, "aa"), (10, "b")]
    check_written(tmp_path / "new", got, CSV, sorted([b for i, b in enumerate(blocks) if i != 1] + add))


# -- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys",
    [
        [],
        [""],
        ["", "a", "b/é", "中文", "\U0001f600"],
        [(-(2**63), ""), (-1, "é"), (0, "a"), (0, "中"), (2**63 - 1, "z")],
    ],
)
def test_layout_round_trip(keys: list) -> None:
    n = len(keys)
    layout = Layout()
    layout.keys.extend(keys)
    layout.owners.extend([GLOBAL, *range(n - 1)][:n])
    layout.offsets.extend(range(3, 3 + 7 * n, 7))
    layout.lengths.extend(range(n))
    data = layout.dumps()
    loaded = Layout.loads(data)
    assert loaded == layout
    assert [type(k) for k in loaded.keys] == [type(k) for k in keys]
    assert loaded.owners.typecode == loaded.offsets.typecode == loaded.lengths.typecode == "q"
    with pytest.raises(ValueError):
        Layout.loads(data[:-1] if n else data[:5])


def test_layout_refuses_what_it_cannot_store() -> None:
    with pytest.raises(ValueError, match="NUL"):
        Layout(["a\0b"], S._q([0]), S._q([0]), S._q([0])).dumps()
    with pytest.raises(ValueError, match="all str"):
        Layout(["a", (1, "b")], S._q([0, 0]), S._q([0, 1]), S._q([1, 1])).dumps()
    with pytest.raises(ValueError):
        Layout.loads(b"not a layout at all, but long enough")


def test_layout_lookups(tmp_path: Path) -> None:
    w = write_blocks(tmp_path / "f", JSON, BLOCKS)
    assert w.layout.indices_of_owners({1, 2}) == [i for i in range(20) if i % 3 in (1, 2)]
    assert w.layout.indices_of_owners(set()) == []
    assert [read_block(tmp_path / "f", w.layout, i) for i in range(20)] == [b[2] for b in BLOCKS]


# -- a large file: few slices ----------------------------------------------------------------


def test_large_splice_copies_runs_as_single_slices(tmp_path: Path) -> None:
    rng = random.Random(7)
    n = 200_000
    keys = sorted({f"https://example.org/id/{rng.getrandbits(40):010x}" for _ in range(n + 1000)})[:n]
    blocks = [(k, i % 1000, f'<{k}> <p> "{i}" .'.encode()[:50]) for i, k in enumerate(keys)]
    nt = Spec(header=b"", footer=b"", sep=b"\n", last=b"\n", empty=b"")
    old = write_blocks(tmp_path / "old", nt, blocks)
    layout = Layout.loads(old.layout.dumps())

    drop = set(rng.sample(range(n), 60)) | set(layout.indices_of_owners({999}))
    add = [(f"https://example.org/id/new/{i:03d}", 999, f'<new{i}> <p> "é" .'.encode()) for i in range(60)]
    pieces: list[int] = []
    real_put = S._Out.put

    def put(self: S._Out, data: bytes | memoryview) -> None:
        if isinstance(data, memoryview):
            pieces.append(len(data))
        real_put(self, data)

    t = time.perf_counter()
    with mock.patch.object(S._Out, "put", put):
        got = splice(tmp_path / "old", layout, tmp_path / "new", nt, drop=drop, add=add)
    print(f"splice of {old.size / 1e6:.1f} MB, {n} blocks, {len(drop)} dropped: {time.perf_counter() - t:.3f} s")

    merged = sorted([b for i, b in enumerate(blocks) if i not in drop] + add, key=lambda b: b[0])
    check_written(tmp_path / "new", got, nt, merged)
    # One slice per run of kept blocks: at most one more than the number of cuts.
    assert len(pieces) <= len(drop) + len(add) + 1
    assert sum(pieces) > 0.9 * old.size


def test_a_layout_dump_is_compressed() -> None:
    """A full build keeps every file's dump until its end: IRIs sharing their prefixes, stored
    compressed (a fraction of the keys' text), and read back the same."""
    n = 5000
    layout = Layout()
    layout.keys.extend(f"<https://w3id.org/policy-toolkit/id/source/src-{i:06d}/entity/{i % 7}>" for i in range(n))
    layout.owners.extend(range(n))
    layout.offsets.extend(range(0, 90 * n, 90))
    layout.lengths.extend([88] * n)
    data = layout.dumps()
    assert len(data) < sum(len(k) for k in layout.keys) / 3
    assert Layout.loads(data) == layout
