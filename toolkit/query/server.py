"""Run the Oxigraph SPARQL server (the ``oxigraph`` binary from PyPI) over a release.

Why the real server and not a Python HTTP handler: it speaks the whole SPARQL 1.1 Protocol
and Graph Store Protocol (content negotiation, every result format, errors) as any client
expects, and it is the same engine as the embedded one, so answers agree.

``serve`` loads the release's ``policy.nq`` into a fresh database folder with ``oxigraph
load`` and opens it with ``oxigraph serve-read-only`` on 127.0.0.1: nothing can be written
through the endpoint, and the folder is deleted when the server stops. The tests use the
same class to run a read-write server to publish to.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from toolkit.config import Settings
from toolkit.errors import LoadError, UsageError
from toolkit.export.nquads import RELEASE_FILE

HOST = "127.0.0.1"


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable: beside this Python's (the venv's bin), else on PATH."""
    here = Path(sys.executable).parent / "oxigraph"
    if here.is_file():
        return str(here)
    found = shutil.which("oxigraph")
    if found:
        return found
    raise LoadError(
        "the Oxigraph server binary was not found",
        hint="install it into this environment: pip install oxigraph",
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def load_location(release_dir: Path, location: Path) -> None:
    """Load the release's dataset (all named graphs) into an Oxigraph database folder."""
    dataset = release_dir / RELEASE_FILE
    if not dataset.is_file():
        raise LoadError(f"the release has no {RELEASE_FILE}", file=release_dir, hint="run `policy-toolkit build`")
    proc = subprocess.run(
        [oxigraph_binary(), "load", "--location", str(location), "--file", str(dataset)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise LoadError(f"oxigraph load failed: {proc.stderr.strip()[-500:]}", file=dataset)


class OxigraphServer:
    """An ``oxigraph serve`` (or ``serve-read-only``) process on 127.0.0.1; a context manager.

    ``location`` None gives an in-memory read-write store. ``port`` 0 picks a free port.
    """

    def __init__(
        self,
        location: Path | None = None,
        *,
        port: int = 0,
        read_only: bool = False,
        union_default_graph: bool = True,
    ) -> None:
        if read_only and location is None:
            raise ValueError("a read-only server needs a database location")
        self.location = location
        self.requested_port = port
        self.port = port
        self.read_only = read_only
        self.union_default_graph = union_default_graph
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def store_url(self) -> str:
        return self.url + "/store"

    def _command(self) -> list[str]:
        cmd = [oxigraph_binary(), "serve-read-only" if self.read_only else "serve", "--bind", f"{HOST}:{self.port}"]
        if self.location is not None:
            cmd += ["--location", str(self.location)]
        if self.union_default_graph:
            cmd.append("--union-default-graph")
        return cmd

    def start(self, timeout: float = 15.0) -> OxigraphServer:
        """Start and wait until it answers HTTP; LoadError with its output if it cannot."""
        tries = 3 if self.requested_port == 0 else 1
        for attempt in range(tries):
            self.port = self.requested_port or free_port()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the process; closed in stop()
            self.process = subprocess.Popen(self._command(), stdout=self._log, stderr=subprocess.STDOUT)
            if self._wait_ready(timeout):
                return self
            output = self._output()
            self.stop()
            if attempt == tries - 1 or "in use" not in output.lower():
                raise LoadError(f"the Oxigraph server did not start on {self.url}: {output.strip()[-500:]}")
        raise AssertionError("unreachable")

    def _wait_ready(self, timeout: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code < 500:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def kill(self) -> None:
        """Kill the process at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill if it does not exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> OxigraphServer:
        return self.start() if self.process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextmanager
def serve_release(settings: Settings, *, port: int = 7878, release_dir: Path | None = None) -> Iterator[OxigraphServer]:
    """A read-only SPARQL endpoint over the release, for as long as the ``with`` block runs."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (0-65535; 0 picks a free one)")
    folder = Path(tempfile.mkdtemp(prefix="policy-toolkit-sparql-"))
    try:
        load_location(release_dir or settings.release_dir, folder / "db")
        with OxigraphServer(folder / "db", port=port, read_only=True) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
