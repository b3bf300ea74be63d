"""Shapes a user points `validate FILE --shapes` at never reach the network.

Both engines evaluate SHACL-SPARQL; a ``SERVICE`` (or, for rdflib, a ``FROM <iri>``) in a
constraint would send a request. A real HTTP server on 127.0.0.1 counts the requests it gets:
it must see none, and the command exits 2 with a message naming the shapes file. Shapes whose
SPARQL cannot be parsed are an unreadable input too (exit 2), never a traceback.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app

runner = CliRunner()
DATA = "@prefix ex: <http://example.org/> .\nex:a ex:p ex:b .\n"
SHAPE = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select \"\"\"{query}\"\"\" ] .
"""


class Listener(http.server.HTTPServer):
    requests: list[str]


@pytest.fixture
def listener() -> Iterator[Listener]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.server.requests.append(self.path)  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b'{"head":{"vars":["s"]},"results":{"bindings":[]}}')

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            return None

    server = Listener(("127.0.0.1", 0), Handler)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def queries(url: str) -> dict[str, str]:
    return {
        "service": f"SELECT $this WHERE {{ $this ?p ?o . FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?q ?v }} }} }}",
        "service-lowercase": f"select $this where {{ $this ?p ?o . optional {{ service <{url}> {{ ?s ?q ?v }} }} }}",
        "from": f"SELECT $this FROM <{url}> WHERE {{ $this ?p ?o }}",
    }


@pytest.mark.parametrize("engine", ["shacl", "pyshacl"])
@pytest.mark.parametrize("kind", ["service", "service-lowercase", "from"])
def test_sparql_in_user_shapes_sends_no_request(tmp_path: Path, listener: Listener, engine: str, kind: str) -> None:
    url = f"http://127.0.0.1:{listener.server_address[1]}/sparql"
    (tmp_path / "data.ttl").write_text(DATA, encoding="utf-8")
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPE.replace("{query}", queries(url)[kind]), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "data.ttl"), "--shapes", str(shapes), "--engine", engine])
    assert listener.requests == []
    assert result.exit_code == 2, result.output
    assert str(shapes) in result.output and "would reach the network" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("engine", ["shacl", "pyshacl"])
def test_shapes_with_broken_sparql_are_an_unreadable_input(tmp_path: Path, engine: str) -> None:
    (tmp_path / "data.ttl").write_text(DATA, encoding="utf-8")
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPE.replace("{query}", "SELECT $this WHERE { $this ?? }"), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "data.ttl"), "--shapes", str(shapes), "--engine", engine])
    assert result.exit_code == 2, result.output
    assert f"{shapes}: the shapes cannot be evaluated" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
