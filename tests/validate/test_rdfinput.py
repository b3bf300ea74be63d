"""Hostile RDF inputs: nothing may reach the network or the local file system."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import REPO

from toolkit.config import Settings
from toolkit.errors import DataError, LoadError, UsageError
from toolkit.report import Severity
from toolkit.validate import validate_rdf
from toolkit.validate.rdfinput import CONTEXT_IRI, read_rdf_file, read_rdf_input


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
    with pytest.raises(LoadError, match="turtle syntax error at line 2, column 11") as info:
        read_rdf_file(bad, repo_settings)
    assert info.value.line == 2
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(UsageError, match="unknown RDF file type"):
        read_rdf_file(other, repo_settings)
    with pytest.raises(LoadError, match="cannot read the RDF file"):
        read_rdf_file(tmp_path / "missing.ttl", repo_settings)


def test_size_limit(tmp_path: Path, repo_settings: Settings) -> None:
    f = tmp_path / "big.nt"
    f.write_text("<http://x/a> <http://x/b> <http://x/c> .\n" * 100)
    with pytest.raises(LoadError, match="over the limit"):
        read_rdf_file(f, repo_settings, max_bytes=1000)


# ------------------------------------------------------------------ issue 10 / 16: hostile and broken inputs

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#: a DTD whose entities expand to 10^6 characters: rdflib + expat took minutes on it
LAUGHS = (
    '<?xml version="1.0" encoding="{enc}"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcde", "bcdef", strict=True))
    + f']>\n<rdf:RDF xmlns:rdf="{RDF_NS}"><rdf:Description rdf:about="http://x/a">'
    "<rdf:value>&f;</rdf:value></rdf:Description></rdf:RDF>\n"
)
NO_DECLARATION = LAUGHS.split("\n", 1)[1]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf-8", LAUGHS.format(enc="UTF-8").encode("utf-8")),
        ("utf-8 with BOM", b"\xef\xbb\xbf" + LAUGHS.format(enc="UTF-8").encode("utf-8")),
        ("utf-8 without declaration", NO_DECLARATION.encode("utf-8")),
        ("utf-16 LE with BOM", b"\xff\xfe" + LAUGHS.format(enc="UTF-16").encode("utf-16-le")),
        ("utf-16 BE with BOM", b"\xfe\xff" + LAUGHS.format(enc="UTF-16").encode("utf-16-be")),
        ("utf-16 LE without BOM", LAUGHS.format(enc="UTF-16").encode("utf-16-le")),
        ("utf-16 BE without BOM", LAUGHS.format(enc="UTF-16").encode("utf-16-be")),
        ("utf-16 LE, no BOM, no declaration", NO_DECLARATION.encode("utf-16-le")),
        ("utf-32 LE with BOM", LAUGHS.format(enc="UTF-32").encode("utf-32")),
        ("utf-32 BE without BOM", LAUGHS.format(enc="UTF-32").encode("utf-32-be")),
        ("utf-32 LE without BOM", LAUGHS.format(enc="UTF-32").encode("utf-32-le")),
        ("latin-1", LAUGHS.format(enc="ISO-8859-1").encode("latin-1")),
    ],
)
def test_rdfxml_dtd_refused_in_any_encoding(tmp_path: Path, repo_settings: Settings, name: str, data: bytes) -> None:
    f = tmp_path / "laughs.rdf"
    f.write_bytes(data)
    with pytest.raises(LoadError, match="DTD or entity declaration is refused"):
        read_rdf_file(f, repo_settings)


def test_utf16_billion_laughs_exits_2_at_once(tmp_path: Path) -> None:
    """The issue's case through the command, in a child with a time limit: a hang fails the test."""
    f = tmp_path / "laughs.rdf"
    f.write_bytes(LAUGHS.format(enc="UTF-16").encode("utf-16-le"))
    started = time.monotonic()
    done = run_cli(["validate", str(f)], timeout=60)
    assert done.returncode == 2, done.stderr
    assert "DTD or entity declaration is refused" in done.stderr
    assert time.monotonic() - started < 30


def run_cli(args: list[str], timeout: float, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TOOLKIT_")}
    base["POLICY_TOOLKIT_ROOT"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **env},
        check=False,
    )


def test_fifo_and_dev_zero_fail_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.nt"
    zero.symlink_to("/dev/zero")
    for path, kind in ((fifo, "a FIFO (named pipe)"), (zero, "a character device")):
        done = run_cli(["validate", str(path)], timeout=60)
        assert done.returncode == 2, done.stderr
        assert f"the RDF file is {kind}, not a regular file" in done.stderr
        assert str(path) in done.stderr


def test_a_folder_is_not_an_rdf_file(tmp_path: Path, repo_settings: Settings) -> None:
    folder = tmp_path / "folder.ttl"
    folder.mkdir()
    with pytest.raises(LoadError, match="the RDF file is a folder, not a regular file"):
        read_rdf_file(folder, repo_settings)


def test_size_limit_can_be_set_in_the_environment(
    tmp_path: Path, repo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "data.nt"
    f.write_text("<http://x/a> <http://x/b> <http://x/c> .\n" * 10)
    assert len(read_rdf_file(f, repo_settings)) == 1
    monkeypatch.setenv("POLICY_TOOLKIT_MAX_RDF_BYTES", "100")
    with pytest.raises(LoadError, match="over the limit of 100"):
        read_rdf_file(f, repo_settings)
    monkeypatch.setenv("POLICY_TOOLKIT_MAX_RDF_BYTES", "lots")
    with pytest.raises(UsageError, match="not a positive number"):
        read_rdf_file(f, repo_settings)


#: characters an IRI cannot hold, written raw and as \\u escapes ('>' and '\\' cannot be written raw
#: inside <...>: that is a syntax error, see test_turtle_syntax_errors_name_line_and_column)
BAD_IRI_CHARS = [" ", "{", "}", "|", "^", "`", "<", ">", '"', "\\"]
WRITTEN = [c for c in BAD_IRI_CHARS if c not in "\\>"] + [f"\\u{ord(c):04X}" for c in BAD_IRI_CHARS]


@pytest.mark.parametrize("written", WRITTEN)
@pytest.mark.parametrize("suffix", [".ttl", ".nt"])
def test_invalid_iris_are_violations_with_their_line(
    tmp_path: Path, repo_settings: Settings, written: str, suffix: str
) -> None:
    f = tmp_path / f"data{suffix}"
    f.write_text(
        "<http://x/s> <http://x/p> <http://x/ok> .\n"
        f"<http://x/s> <http://x/p> <http://x/a{written}b> .\n"
        "<http://x/s> <http://x/q> <http://x/ok> .\n",
        encoding="utf-8",
    )
    loaded = read_rdf_input(f, repo_settings)
    [bad] = loaded.results
    assert (bad.severity, bad.line, bad.source_file) == (Severity.VIOLATION, 2, str(f))
    assert f"a{written}b" in (bad.value or "") and "not a valid IRI" in bad.message and "column 27" in bad.message
    assert len(loaded.graph) == 2  # the parser went on after the bad IRI


def test_invalid_iris_exit_1_through_the_cli(tmp_path: Path) -> None:
    f = tmp_path / "data.ttl"
    f.write_text("@prefix ex: <http://x/> .\nex:a ex:b <http://x/a b> .\nex:a ex:c <http://x/{c}> .\n")
    done = run_cli(["validate", str(f)], timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{f}:2: [Violation] rdf-input" in done.stdout and f"{f}:3: [Violation] rdf-input" in done.stdout
    assert "<http://x/a b>" in done.stdout and "<http://x/{c}>" in done.stdout


def test_invalid_iris_in_rdfxml_and_jsonld(tmp_path: Path, repo_settings: Settings) -> None:
    xml = tmp_path / "data.rdf"
    xml.write_text(
        f'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:ex="http://x/">\n'
        '<rdf:Description rdf:about="http://x/a|b"><ex:p>v</ex:p></rdf:Description>\n</rdf:RDF>\n'
    )
    ld = tmp_path / "data.jsonld"
    ld.write_text('{\n"@id": "http://x/a",\n"http://x/p": {"@id": "http://x/{c}"}\n}\n')
    for path, value, line in ((xml, "http://x/a|b", 3), (ld, "http://x/{c}", 3)):
        [bad] = [r for r in validate_rdf(repo_settings, path).report.results if r.validator == "rdf-input"]
        assert (bad.severity, bad.value, bad.line) == (Severity.VIOLATION, value, line)
    with pytest.raises(DataError, match="1 invalid IRI"):
        read_rdf_file(xml, repo_settings)


def test_an_empty_file_is_a_warning(tmp_path: Path, repo_settings: Settings) -> None:
    f = tmp_path / "empty.ttl"
    f.write_text("# nothing here\n")
    report = validate_rdf(repo_settings, f).report
    assert report.conforms
    [warning] = report.results
    assert (warning.severity, warning.validator) == (Severity.WARNING, "rdf-input")
    assert "holds no triples" in warning.message


@pytest.mark.parametrize(
    ("text", "line", "column", "shown"),
    [
        # a truncated file: rdflib said "string index out of range", with no line
        ('@prefix ex: <http://x/> .\nex:a ex:b "推动长三角', 2, 11, '"推动长三角'),
        # rdflib showed the Chinese as \xe6\x8e\xa8...
        ("@prefix ex: <http://x/> .\n\nex:a ex:b 推动 .\n", 3, 11, "推动"),
        ("@prefix ex: <http://x/> .\nex:a ex:b <http://x/a>b> .\n", 2, 23, "b"),
    ],
)
def test_turtle_syntax_errors_name_line_and_column(
    tmp_path: Path, repo_settings: Settings, text: str, line: int, column: int, shown: str
) -> None:
    f = tmp_path / "broken.ttl"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as info:
        read_rdf_file(f, repo_settings)
    assert info.value.line == line
    assert f"at line {line}, column {column}" in info.value.message
    assert shown in info.value.message and "\\x" not in info.value.message
