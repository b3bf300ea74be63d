"""Run the Oxigraph SPARQL server (the ``oxigraph`` binary from PyPI) over a release.

Why the real server and not a Python HTTP handler: it speaks the whole SPARQL 1.1 Protocol
and Graph Store Protocol (content negotiation, every result format, errors) as any client
expects, and it is the same engine as the embedded one, so answers agree.

``serve`` loads the release's ``policy.nq`` into a fresh database folder with ``oxigraph
load`` and opens it with ``oxigraph serve-read-only`` on a private port of 127.0.0.1, behind
:class:`~toolkit.query.proxy.SparqlGate` on the user's port, which refuses federated queries
(SERVICE) and updates: nothing can be written through the endpoint, and no query reaches
another host. The tests use :class:`OxigraphServer` alone to run a read-write server to
publish to.

Nothing is left behind. The folder is deleted when the server stops; the ``oxigraph`` child
is killed by the kernel if ``serve`` itself is killed (``PR_SET_PDEATHSIG``, see
:mod:`toolkit.query.child`); and as SIGKILL runs no clean-up, each ``serve`` first deletes
the folders of earlier ``serve`` processes that are gone, recognised by the marker file each
writes into its folder (its own and its child's process id and start time).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from toolkit.config import Settings
from toolkit.errors import LoadError, UsageError
from toolkit.export.nquads import RELEASE_FILE
from toolkit.query.child import dies_with_us
from toolkit.query.proxy import SparqlGate

HOST = "127.0.0.1"
#: temporary database folders of ``serve`` are named so, and hold the marker file
FOLDER_PREFIX = "policy-toolkit-sparql-"
MARKER = "policy-toolkit-serve.json"
MADE_BY = "policy-toolkit serve"
#: Rust prints a backtrace after an error when these are set; the user wants the one line
RUST_ENV = ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")


def child_env() -> dict[str, str]:
    """The environment for an ``oxigraph`` child: ours, without the Rust backtrace switches."""
    return {k: v for k, v in os.environ.items() if k not in RUST_ENV}


def first_line(output: str) -> str:
    """The message of a failed ``oxigraph`` command: its first non-empty line, whole."""
    for line in output.splitlines():
        if line.strip():
            return line.strip()
    return "no output"


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
        env=child_env(),
        preexec_fn=dies_with_us(),  # only a prctl call
    )
    if proc.returncode != 0:
        raise LoadError(f"oxigraph load failed: {first_line(proc.stderr)}", file=dataset)


class OxigraphLayout:
    """Oxigraph's endpoint layout under a server's root ``url``: ``/query`` and ``/store``."""

    url: str

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def store_url(self) -> str:
        return self.url + "/store"


class OxigraphServer(OxigraphLayout):
    """An ``oxigraph serve`` (or ``serve-read-only``) process on 127.0.0.1; a context manager.

    ``location`` None gives an in-memory read-write store. ``port`` 0 picks a free port.
    ``timeout``: seconds after which Oxigraph cancels a query (None: no limit). Started from
    the main thread, the process dies with this one (``PR_SET_PDEATHSIG``).
    """

    def __init__(
        self,
        location: Path | None = None,
        *,
        port: int = 0,
        read_only: bool = False,
        union_default_graph: bool = True,
        timeout: int | None = None,
    ) -> None:
        if read_only and location is None:
            raise ValueError("a read-only server needs a database location")
        self.location = location
        self.requested_port = port
        self.port = port
        self.read_only = read_only
        self.union_default_graph = union_default_graph
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _command(self) -> list[str]:
        cmd = [oxigraph_binary(), "serve-read-only" if self.read_only else "serve", "--bind", f"{HOST}:{self.port}"]
        if self.location is not None:
            cmd += ["--location", str(self.location)]
        if self.union_default_graph:
            cmd.append("--union-default-graph")
        if self.timeout is not None:
            cmd += ["--timeout-s", str(self.timeout)]
        return cmd

    def start(self, timeout: float = 15.0) -> OxigraphServer:
        """Start and wait until it answers HTTP; LoadError with its output if it cannot."""
        tries = 3 if self.requested_port == 0 else 1
        for attempt in range(tries):
            self.port = self.requested_port or free_port()
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the process; closed in stop()
            self.process = subprocess.Popen(
                self._command(),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=child_env(),
                preexec_fn=dies_with_us(),  # only a prctl call
            )
            if self._wait_ready(timeout):
                return self
            output = self._output()
            self.stop()
            if attempt == tries - 1 or "in use" not in output.lower():
                raise LoadError(f"the Oxigraph server did not start on {self.url}: {first_line(output)}")
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


def _process_start(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a process from /proc, or None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _alive(pid: Any, started: Any) -> bool:
    """Is the process that had ``pid`` (and ``started`` at that tick) still running? Unsure: yes."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _process_start(pid)
    if now is None:
        return True
    state, start = now
    if state == "Z":  # killed, not yet reaped by its parent
        return False
    return not isinstance(started, int) or start == started


def _write_marker(folder: Path, child: subprocess.Popen[bytes] | None = None) -> None:
    pid = os.getpid()
    mark: dict[str, Any] = {"made_by": MADE_BY, "pid": pid, "started": (_process_start(pid) or ("", None))[1]}
    if child is not None:
        mark |= {"child": child.pid, "child_started": (_process_start(child.pid) or ("", None))[1]}
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps(mark), encoding="utf-8")
    tmp.replace(folder / MARKER)


def remove_stale_databases(parent: Path | None = None) -> list[Path]:
    """Delete the database folders of earlier ``serve`` processes that are gone; return them.

    A folder is removed only when all of these hold: it is in the temporary folder, named
    ``policy-toolkit-sparql-*``, a real folder (not a link) owned by this user, its marker
    file says ``policy-toolkit serve`` made it, and neither the process that made it nor its
    ``oxigraph`` child is running (a process id reused since is told apart by its start time).
    Anything else, however similar, is left alone.
    """
    removed = []
    where = parent or Path(tempfile.gettempdir())
    try:
        candidates = sorted(where.glob(FOLDER_PREFIX + "*"))
    except OSError:
        return []
    for folder in candidates:
        try:
            info = folder.lstat()
            marker = folder / MARKER
            if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid() or marker.is_symlink():
                continue
            mark = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(mark, dict) or mark.get("made_by") != MADE_BY:
            continue
        if _alive(mark.get("pid"), mark.get("started")) or _alive(mark.get("child"), mark.get("child_started")):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


@dataclass
class Endpoint(OxigraphLayout):
    """A running ``serve``: the checking front on the user's port and the Oxigraph server behind it."""

    gate: SparqlGate
    backend: OxigraphServer
    location: Path
    removed: list[Path]

    @property
    def url(self) -> str:
        return self.gate.url

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.backend.process


#: seconds a query may run on ``serve`` unless --timeout says otherwise
DEFAULT_TIMEOUT = 30


@contextmanager
def serve_release(
    settings: Settings,
    *,
    port: int = 7878,
    release_dir: Path | None = None,
    timeout: int | None = DEFAULT_TIMEOUT,
    allow_service: bool = False,
    site: Path | dict[str, bytes] | None = None,
) -> Iterator[Endpoint]:
    """A read-only SPARQL endpoint over the release, for as long as the ``with`` block runs.

    ``timeout`` seconds per query (None: no limit); SERVICE is refused unless ``allow_service``.
    ``site``: a built site (its folder, or its files in memory) served on the same port, with
    content negotiation on resource IRIs (:mod:`toolkit.query.sitefiles`).
    """
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (0-65535; 0 picks a free one)")
    if timeout is not None and timeout < 1:
        raise UsageError(f"--timeout {timeout}: give a whole number of seconds, 1 or more (0: no limit)")
    removed = remove_stale_databases()
    # the front first: a busy port fails at once, before anything is loaded
    with SparqlGate("http://unset", port=port, allow_service=allow_service, timeout=timeout, site=site) as gate:
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        try:
            _write_marker(folder)
            load_location(release_dir or settings.release_dir, folder / "db")
            with OxigraphServer(folder / "db", read_only=True, timeout=timeout) as backend:
                gate.upstream = backend.url
                _write_marker(folder, backend.process)
                yield Endpoint(gate=gate, backend=backend, location=folder / "db", removed=removed)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
