"""`query` and `serve` stay local and stoppable: no SERVICE requests, no updates, time limits, Ctrl-C, no leftovers.

The "network" is a listener on 127.0.0.1 started here that counts every request it gets; a
federated query that slipped through would reach it. Each refusal is paired with the same
query under ``--allow-service`` reaching it, so the listener is known to see what is sent.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import REPO
from rdflib.plugins.sparql.parser import parseQuery
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.errors import LoadError
from toolkit.query.guard import uses_service
from toolkit.query.server import MARKER, OxigraphServer, child_env, first_line, remove_stale_databases

runner = CliRunner()
CLI = Path(sys.executable).parent / "policy-toolkit"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n"
SNEAKY = 'SELECT * WHERE {{ BIND("a\\u0022 #" AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} }} # \\u000A AS ?x) }}'
EMPTY_RESULT = b'{"head":{"vars":["o"]},"results":{"bindings":[{"o":{"type":"literal","value":"from far away"}}]}}'


@pytest.fixture(scope="module")
def release_dir(real_release_dir: Path) -> Path:
    return real_release_dir


class Listener:
    """An HTTP server on 127.0.0.1 that records every request and answers like a SPARQL endpoint."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(EMPTY_RESULT)))
                self.end_headers()
                self.wfile.write(EMPTY_RESULT)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    far = Listener()
    yield far
    far.close()


def federated(url: str) -> list[str]:
    """Ways of writing a federated query; each must be refused."""
    base, _, last = url.rpartition("/")
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ sErViCe <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE# a comment\n<{url}>{{?s ?p ?o}} }}",
        f"PREFIX far: <{base}/>\nSELECT * WHERE {{ SERVICE far:{last} {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT\t<{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"ASK {{ FILTER EXISTS {{ OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT ?o WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        SNEAKY.format(url=url),
    ]


def test_the_guard_reads_the_query_not_its_strings_or_comments() -> None:
    assert not uses_service('SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:1/> { }" }')
    assert not uses_service("SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:1/> { }")
    assert not uses_service("PREFIX service: <http://x/>\nSELECT * WHERE { ?s service:p ?o }")
    # rdflib replaces \u escapes everywhere before parsing, Oxigraph only inside strings: for
    # rdflib this is BIND("a" AS ?x) with a comment, for Oxigraph a SERVICE call
    sneaky = SNEAKY.format(url="http://127.0.0.1:1/")
    assert "ServiceGraphPattern" not in str(parseQuery(sneaky))
    assert uses_service(sneaky)


# ---------------------------------------------------------------- query: SERVICE


def test_query_sends_no_service_request(release_dir: Path, tmp_path: Path, listener: Listener) -> None:
    for i, text in enumerate(federated(listener.url)):
        rq = tmp_path / f"far{i}.rq"
        rq.write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["query", str(rq), "--format", "json", "--release", str(release_dir)])
        assert result.exit_code == 2, (text, result.output)
        assert "federation is off" in result.output and "--allow-service" in result.output, result.output
        assert "from far away" not in result.output
    assert listener.hits == []
    # the control: opted in, the same query does reach the listener (so it would have seen one)
    rq = tmp_path / "far0.rq"
    result = runner.invoke(
        app, ["query", str(rq), "--allow-service", "--format", "json", "--release", str(release_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "from far away" in result.output and len(listener.hits) == 1


# ---------------------------------------------------------------- query: updates, formats


@pytest.mark.parametrize(
    "update",
    ["INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", "CLEAR ALL", "LOAD <http://127.0.0.1:9/d.ttl>"],
)
def test_an_update_is_refused_by_name(release_dir: Path, tmp_path: Path, update: str) -> None:
    rq = tmp_path / "u.rq"
    rq.write_text(update, encoding="utf-8")
    result = runner.invoke(app, ["query", str(rq), "--release", str(release_dir)])
    assert result.exit_code == 2
    assert "update requests are not run" in result.output and "expected CONSTRUCT" not in result.output


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_result_formats_end_with_a_newline(release_dir: Path, fmt: str) -> None:
    result = runner.invoke(app, ["query", "g60-cities", "--format", fmt, "--release", str(release_dir)])
    assert result.exit_code == 0 and result.output.endswith("\n") and not result.output.endswith("\n\n")
    ask = runner.invoke(
        app,
        [
            *("query", "in-force-on", "-p", "document=yrd-st-coordination-decision", "-p", "date=2025-09-01"),
            *("--format", fmt, "--release", str(release_dir)),
        ],
    )
    assert ask.exit_code == 0 and ask.output.endswith("\n"), ask.output


# ---------------------------------------------------------------- query: time limit and Ctrl-C


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "POLICY_TOOLKIT_ROOT": str(REPO), **extra}


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_timeout_stops_a_runaway_query(release_dir: Path, tmp_path: Path) -> None:
    rq = tmp_path / "runaway.rq"
    rq.write_text(RUNAWAY, encoding="utf-8")
    started = time.monotonic()
    proc = subprocess.run(
        [str(CLI), "query", str(rq), "--timeout", "1", "--release", str(release_dir)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    took = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr
    assert "did not finish within 1 s" in proc.stderr and "--timeout" in proc.stderr and proc.stdout == ""
    assert took < 15
    # in process too: the evaluating child is killed, not left running
    result = runner.invoke(app, ["query", str(rq), "--timeout", "0.5", "--release", str(release_dir)])
    assert result.exit_code == 2 and "did not finish within 0.5 s" in result.output
    assert children(os.getpid()) == []


def test_ctrl_c_ends_a_runaway_query_at_once(release_dir: Path, tmp_path: Path) -> None:
    rq = tmp_path / "runaway.rq"
    rq.write_text(RUNAWAY, encoding="utf-8")
    proc = subprocess.Popen(
        [str(CLI), "query", str(rq), "--release", str(release_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    try:
        assert wait_for(lambda: children(proc.pid) != [] or proc.poll() is not None), "no query child started"
        worker = children(proc.pid)
        assert worker, proc.communicate()
        time.sleep(0.5)  # the query is running
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert proc.returncode == 130 and err == "interrupted\n" and out == "", (proc.returncode, err)
    assert took < 2, took
    assert wait_for(lambda: not any(alive(pid) for pid in worker), 2)


# ---------------------------------------------------------------- serve


class Serve:
    """`policy-toolkit serve` as a process, with its temporary folder under ``tmp``."""

    def __init__(self, release_dir: Path, tmp: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(CLI), "serve", "--port", "0", "--no-site", "--release", str(release_dir), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(TMPDIR=str(tmp)),
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("SPARQL endpoint: "):
            self.proc.kill()
            raise AssertionError(first + self.proc.communicate()[1])
        self.query_url = first.split()[2]
        self.location = Path(self.proc.stdout.readline().split(" from ")[1].split(";")[0])

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.communicate(timeout=20)


@pytest.fixture
def serve(release_dir: Path, tmp_path: Path) -> Iterator[Serve]:
    server = Serve(release_dir, tmp_path)
    yield server
    server.stop()


JSON = {"Accept": "application/sparql-results+json"}


def test_serve_sends_no_service_request(serve: Serve, listener: Listener, release_dir: Path, tmp_path: Path) -> None:
    url = serve.query_url
    ok = httpx.post(url, data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}, headers=JSON, timeout=30)
    assert ok.status_code == 200 and int(ok.json()["results"]["bindings"][0]["n"]["value"]) > 1000
    root = url.rsplit("/", 1)[0]
    for text in federated(listener.url):
        attempts = [
            httpx.get(url, params={"query": text}, headers=JSON, timeout=30),
            httpx.post(url, data={"query": text}, headers=JSON, timeout=30),
            httpx.post(root + "/sparql", content=text, headers={**JSON, "Content-Type": "Application/SPARQL-Query"}),
            httpx.request("QUERY", url, content=text, headers={**JSON, "Content-Type": "application/sparql-query"}),
            httpx.get(url, params={"QUERY": text}, headers=JSON, timeout=30),
        ]
        for resp in attempts:
            assert resp.status_code == 400, (text, resp.status_code, resp.text)
            assert "federation is off" in resp.text and "from far away" not in resp.text
    # one checked query and one unchecked one beside it: refused, not half run
    two = httpx.post(url, params={"query": "ASK {}"}, data={"query": federated(listener.url)[0]}, headers=JSON)
    assert two.status_code == 400
    assert listener.hits == []
    # updates and writes are refused by the front
    update = httpx.post(url.replace("/query", "/update"), data={"update": "CLEAR ALL"})
    assert update.status_code == 403 and "update requests are not run" in update.text
    load = httpx.post(url, data={"update": f"LOAD <{listener.url}>"})
    assert load.status_code == 403 and listener.hits == []
    # the control: a server started with --allow-service does reach the listener
    opted = Serve(release_dir, tmp_path / "opted", "--allow-service") if (tmp_path / "opted").mkdir() is None else None
    assert opted is not None
    try:
        resp = httpx.post(opted.query_url, data={"query": federated(listener.url)[0]}, headers=JSON, timeout=30)
        assert resp.status_code == 200 and "from far away" in resp.text and listener.hits
    finally:
        opted.stop()


def test_serve_timeout_ends_a_runaway_query(release_dir: Path, tmp_path: Path) -> None:
    server = Serve(release_dir, tmp_path, "--timeout", "1")
    try:
        for text in (RUNAWAY, RUNAWAY.replace("(COUNT(*) AS ?n)", "*")):  # cancelled, and cut while streaming
            started, tail = time.monotonic(), b""
            with httpx.stream("POST", server.query_url, data={"query": text}, headers=JSON, timeout=30) as resp:
                for chunk in resp.iter_bytes():
                    tail = (tail + chunk)[-500:]
                    assert time.monotonic() - started < 10, "still streaming after 10 s"
            assert time.monotonic() - started < 10
            assert b"cancelled" in tail or b"did not finish within 1 s" in tail, tail
        ok = httpx.post(server.query_url, data={"query": "ASK { ?s ?p ?o }"}, headers=JSON, timeout=30)
        assert ok.json()["boolean"] is True  # and the server still answers
    finally:
        server.stop()


def test_sigkill_of_serve_leaves_nothing_behind(release_dir: Path, tmp_path: Path) -> None:
    # look-alikes that are not a dead serve's: no marker, a marker of a live process, a link
    decoys = [tmp_path / "policy-toolkit-sparql-mine", tmp_path / "policy-toolkit-sparql-live"]
    for d in decoys:
        d.mkdir()
        (d / "data.txt").write_text("keep me", encoding="utf-8")
    (decoys[1] / MARKER).write_text(json.dumps({"made_by": "policy-toolkit serve", "pid": os.getpid()}))
    gone = subprocess.Popen(["true"])
    gone.wait()
    other = tmp_path / "policy-toolkit-sparql-other"
    other.mkdir()
    (other / "data.txt").write_text("keep me", encoding="utf-8")
    (other / MARKER).write_text(json.dumps({"made_by": "another tool", "pid": gone.pid}))
    decoys.append(other)
    (tmp_path / "policy-toolkit-sparql-link").symlink_to(decoys[0])

    first = Serve(release_dir, tmp_path)
    (backend,) = children(first.proc.pid)
    first.proc.kill()  # SIGKILL: no clean-up code runs
    first.proc.wait(timeout=10)
    if not wait_for(lambda: not alive(backend), 5):
        os.kill(backend, signal.SIGKILL)  # leave no orphan behind when this fails
        raise AssertionError("the oxigraph child outlived serve")
    folder = first.location.parent
    assert folder.is_dir()  # left behind by the kill...

    second = Serve(release_dir, tmp_path)
    try:
        assert not folder.exists()  # ...and removed by the next serve
        assert second.location.is_dir()
    finally:
        _out, err = second.stop()
    assert f"removed {folder}" in err
    assert not second.location.exists()
    for d in decoys:
        assert (d / "data.txt").read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "policy-toolkit-sparql-link").is_symlink()
    assert remove_stale_databases(tmp_path) == []


def test_serve_on_a_busy_port_prints_one_line(release_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [str(CLI), "serve", "--port", str(port), "--no-site", "--release", str(release_dir)],
            capture_output=True,
            text=True,
            env=cli_env(TMPDIR=str(tmp_path), RUST_BACKTRACE="1", RUST_LIB_BACKTRACE="1"),
            timeout=60,
        )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[0] == f"error: port {port} on 127.0.0.1 is in use", proc.stderr
    assert len([x for x in lines if not x.startswith("  fix:")]) == 1 and "backtrace" not in proc.stderr.lower()
    assert list(tmp_path.iterdir()) == []


def test_an_oxigraph_error_is_one_whole_line_without_a_backtrace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUST_BACKTRACE", "1")
    monkeypatch.setenv("RUST_LIB_BACKTRACE", "1")
    assert "RUST_BACKTRACE" not in child_env() and "RUST_LIB_BACKTRACE" not in child_env()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(LoadError) as info:
            OxigraphServer(port=busy.getsockname()[1]).start()
    message = str(info.value)
    assert "\n" not in message and message.endswith("Address already in use (os error 98)"), message
    # were a backtrace printed all the same, only the message line is kept, whole
    assert first_line("\nError: a long message\n\nStack backtrace:\n   0: main\n") == "Error: a long message"
