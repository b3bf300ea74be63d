"""`publish sparql` shows a progress bar graph by graph on a terminal, and nothing in a pipe or in CI.

The command runs in a child process whose standard error is a real pseudo-terminal (``pty``),
against a real Oxigraph server on 127.0.0.1; the CKAN counterpart is in test_ckan.py.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.query.server import OxigraphServer

TERMINAL_ENV = {"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user at a terminal: no CI, progress not switched off, no proxies."""
    drop = ("CI", "POLICY_TOOLKIT_NO_PROGRESS", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("POLICY_TOOLKIT_SPARQL_")}
    return {**env, **TERMINAL_ENV, **extra}


def run_in_terminal(cmd: list[str], env: dict[str, str], timeout: float = 300) -> tuple[int, str, str]:
    """Run ``cmd`` with standard error on a pseudo-terminal: exit code, stdout, what the terminal got."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=timeout), out, b"".join(chunks).decode(errors="replace")


def publish_cmd(url: str, release: Path) -> list[str]:
    return [sys.executable, "-m", "toolkit", "publish", "sparql", "--store", url, "--release", str(release)]


def test_sparql_progress_on_a_terminal_only(real_release_dir: Path, tmp_path: Path) -> None:
    with OxigraphServer(tmp_path / "db") as srv:
        code, out, terminal = run_in_terminal(publish_cmd(srv.url, real_release_dir), clean_env())
        assert code == 0, out + terminal
        assert "uploading graphs" in terminal  # the bar, drawn on standard error
        assert "uploading graphs" not in out and "verified" in out  # the report stays clean

        piped = subprocess.run(
            publish_cmd(srv.url, real_release_dir), env=clean_env(), capture_output=True, text=True, timeout=300
        )
        assert piped.returncode == 0 and piped.stderr == "", piped.stderr

        code, out, terminal = run_in_terminal(publish_cmd(srv.url, real_release_dir), clean_env(CI="true"))
        assert code == 0 and "uploading graphs" not in terminal


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
