import json
import os
import subprocess
import sys
from pathlib import Path
from socket import gethostname

from oracle import replace_tree

from toolkit.publish import atomic
from toolkit.publish.atomic import read_tree, recover


def ended_pid() -> int:
    """The process id of a process that has ended (what a killed build's staging marker names)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


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
    replace_tree(target, {"a.txt": b"old"})
    os.rename(target, tmp_path / ".release-old-abcd1234")  # killed between the fallback's two renames
    new = tmp_path / ".release-new-efgh5678"
    new.mkdir()
    (new / "a.txt").write_bytes(b"half")
    (new / atomic.STAGING_MARKER).write_text(json.dumps({"pid": ended_pid(), "host": gethostname()}))
    recover(target)
    assert read_tree(target) == {"a.txt": b"old"}
    assert atomic.leftovers(target) == []
    assert sorted(os.listdir(tmp_path)) == ["release"]


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
