"""Hostile RDF inputs: nothing may reach the network or the local file system."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from toolkit.config import Settings
from toolkit.errors import LoadError, UsageError
from toolkit.validate.rdfinput import CONTEXT_IRI, read_rdf_file


class Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = json.dumps({"@context": {"name": "http://schema.org/name"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_remote_jsonld_context_is_refused_and_never_fetched(
    tmp_path: Path, http_server: str, repo_settings: Settings
) -> None:
    f = tmp_path / "evil.jsonld"
    f.write_text(json.dumps({"@context": f"{http_server}/ctx.jsonld", "@id": "http://x/a", "name": "n"}))
    with pytest.raises(LoadError, match="refused to load the remote or local JSON-LD context") as info:
        read_rdf_file(f, repo_settings)
    assert info.value.file == str(f)
    assert Recorder.hits == []


def test_nested_and_file_contexts_are_refused(tmp_path: Path, http_server: str, repo_settings: Settings) -> None:
    secret = tmp_path / "secret.jsonld"
    secret.write_text(json.dumps({"@context": {"n": "http://x/n"}}))
    for ctx in (secret.as_uri(), [{"a": "http://x/a"}, f"{http_server}/nested"]):
        f = tmp_path / "evil.jsonld"
        f.write_text(json.dumps({"@context": ctx, "@id": "http://x/a", "n": "v"}))
        with pytest.raises(LoadError, match="refused"):
            read_rdf_file(f, repo_settings)
    assert Recorder.hits == []


def test_bundled_context_is_served_locally(tmp_path: Path, repo_settings: Settings) -> None:
    f = tmp_path / "ok.jsonld"
    f.write_text(
        json.dumps(
            {"@context": CONTEXT_IRI, "id": "http://x/a", "type": "City", "label": {"zh": "上海", "en": "Shanghai"}}
        )
    )
    g = read_rdf_file(f, repo_settings)
    assert len(g) == 3


def test_rdfxml_entities_and_dtds_are_refused(tmp_path: Path, http_server: str, repo_settings: Settings) -> None:
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY e SYSTEM "{http_server}/xxe"><!ENTITY f SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://x/">
  <rdf:Description rdf:about="http://x/a"><ex:p>&e;&f;</ex:p></rdf:Description>
</rdf:RDF>"""
    laughs = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>'
    for text in (xxe, laughs):
        f = tmp_path / "evil.rdf"
        f.write_text(text)
        with pytest.raises(LoadError, match="DTD or entity declaration is refused"):
            read_rdf_file(f, repo_settings)
    assert Recorder.hits == []


def test_syntax_errors_and_unknown_types(tmp_path: Path, repo_settings: Settings) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://x/> .\nex:a ex:b .\n")
    with pytest.raises(LoadError, match="cannot parse turtle"):
        read_rdf_file(bad, repo_settings)
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(UsageError, match="unknown RDF file type"):
        read_rdf_file(other, repo_settings)
    with pytest.raises(LoadError, match="cannot read file"):
        read_rdf_file(tmp_path / "missing.ttl", repo_settings)


def test_size_limit(tmp_path: Path, repo_settings: Settings) -> None:
    f = tmp_path / "big.nt"
    f.write_text("<http://x/a> <http://x/b> <http://x/c> .\n" * 100)
    with pytest.raises(LoadError, match="over the limit"):
        read_rdf_file(f, repo_settings, max_bytes=1000)
