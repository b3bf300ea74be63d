"""Long commands draw a progress bar when standard error is a terminal, and nothing in a pipe.

The commands run as a user runs them: the installed entry point in a child process, its
standard error on a pseudo-terminal (or a pipe), standard output always a pipe.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO

CLI = str(Path(sys.executable).with_name("policy-toolkit"))
SOURCES = 8


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "POLICY_TOOLKIT_NO_PROGRESS")}
    return {**env, "POLICY_TOOLKIT_ROOT": str(REPO), "POLICY_TOOLKIT_CACHE": str(tmp_path / "cache"), **extra}


def run(args: list[str], env: dict[str, str], *, terminal: bool) -> tuple[str, bytes]:
    """Standard output (a pipe) and what reached standard error (a terminal or a pipe)."""
    if not terminal:
        proc = subprocess.run([CLI, *args], capture_output=True, env=env, timeout=300, check=True)
        return proc.stdout.decode(), proc.stderr
    master, slave = pty.openpty()
    seen: list[bytes] = []

    def drain() -> None:  # keep reading, or the child blocks on a full terminal buffer
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed its end
                return
            if not data:
                return
            seen.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        proc = subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=slave, env=env, timeout=300, check=True)
    finally:
        os.close(slave)
        reader.join(10)
        os.close(master)
    return proc.stdout.decode(), b"".join(seen)


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_corpus_generate_and_build_show_progress_only_on_a_terminal(tmp_path: Path, terminal: bool) -> None:
    env = _env(tmp_path)
    corpus = tmp_path / "corpus"
    out, err = run(["corpus", "generate", str(corpus), "--sources", str(SOURCES)], env, terminal=terminal)
    assert f"wrote {SOURCES} sources" in out and "\x1b" not in out
    bar = f"{SOURCES}/{SOURCES}".encode()
    if terminal:
        assert b"sources" in err and bar in err, err[-500:]
    else:
        assert err == b""
    release = tmp_path / "release"
    out, err = run(["build", "--sources", str(corpus), "--release", str(release), "-j", "1"], env, terminal=terminal)
    assert f"wrote 30 files to {release}" in out and "\x1b" not in out
    if terminal:
        assert b"sources" in err and bar in err, err[-500:]
    else:
        assert err == b""


def test_ci_keeps_a_terminal_quiet(tmp_path: Path) -> None:
    out, err = run(
        ["corpus", "generate", str(tmp_path / "c"), "--sources", "3"], _env(tmp_path, CI="true"), terminal=True
    )
    assert "wrote 3 sources" in out and err == b""
