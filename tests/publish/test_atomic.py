import os
from pathlib import Path

from toolkit.publish import atomic
from toolkit.publish.atomic import read_tree, recover, replace_tree


def test_replace_creates_then_swaps(tmp_path: Path) -> None:
    target = tmp_path / "release"
    replace_tree(target, {"a.txt": b"1", "csv/b.csv": b"2"})
    assert read_tree(target) == {"a.txt": b"1", "csv/b.csv": b"2"}
    replace_tree(target, {"a.txt": b"3"})
    assert read_tree(target) == {"a.txt": b"3"}
    assert atomic.leftovers(target) == []


def test_fallback_without_renameat2(tmp_path: Path, monkeypatch) -> None:
    """Where the kernel has no RENAME_EXCHANGE (simulated: the only stand-in in this module), two renames are used."""
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "release"
    replace_tree(target, {"a.txt": b"1"})
    replace_tree(target, {"a.txt": b"2"})
    assert read_tree(target) == {"a.txt": b"2"}
    assert atomic.leftovers(target) == []


def test_recover_restores_an_interrupted_fallback_swap(tmp_path: Path) -> None:
    target = tmp_path / "release"
    old = tmp_path / ".release-old-abc"
    old.mkdir()
    (old / "a.txt").write_bytes(b"old")
    new = tmp_path / ".release-new-def"
    new.mkdir()
    (new / "a.txt").write_bytes(b"half")
    recover(target)
    assert read_tree(target) == {"a.txt": b"old"}
    assert atomic.leftovers(target) == []


def test_failure_while_writing_leaves_the_old_tree(tmp_path: Path) -> None:
    target = tmp_path / "release"
    replace_tree(target, {"a.txt": b"old"})
    # a file and a folder of the same name cannot both be written: a real OSError mid-write
    try:
        replace_tree(target, {"a.txt": b"new", "a.txt/b.txt": b"x"})
    except OSError:
        pass
    else:
        raise AssertionError("expected the write to fail")
    assert read_tree(target) == {"a.txt": b"old"}
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []
