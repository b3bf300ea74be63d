"""No secret in what the publishers print, and messages that say what to do when a portal is unreachable.

The servers are real HTTP servers on 127.0.0.1 started by the tests: one that echoes every
request header (``Authorization`` included) in its error body, as a careless proxy or a
debugging endpoint does; one that accepts connections and never answers. The commands run in
a child process, so what is checked is the real standard output and standard error.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import Project

from toolkit.errors import ToolkitError
from toolkit.publish.ckan import RetryPolicy, publish_ckan
from toolkit.publish.credentials import basic_auth_value, has_userinfo, redact, url_for_display
from toolkit.publish.release import Release
from toolkit.publish.sparql import ENV_PASSWORD, ENV_TOKEN, ENV_USER
from toolkit.query.server import free_port

SECRET = "Tok3n-never-PRINT-me-0123456789"
PASSWORD = "pa55-w0rd-never-shown"


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with an error whose body repeats the request's headers.

    ``mode`` "text": HTTP ``status`` with a plain-text body; "ckan-json": HTTP 409 with CKAN's
    JSON for a validation error, the headers inside the error dict (ckanapi turns that into
    a ValidationError, which the CKAN publisher prints).
    """

    mode = "text"
    status = 403

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        echoed = "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        if self.mode == "ckan-json":
            payload = {"success": False, "error": {"__type": "Validation Error", "headers": echoed}}
            body, status, ctype = json.dumps(payload).encode(), 409, "application/json"
        else:
            body, status, ctype = f"request refused; you sent:\n{echoed}".encode(), self.status, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(EchoHandler):
        def _answer(self) -> None:
            seen.append(self.headers.get("Authorization") or "")
            super()._answer()

        do_GET = do_PUT = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        EchoHandler.mode, EchoHandler.status = "text", 403


@pytest.fixture
def released(project: Project, real_release: Release) -> Project:
    project.seed_release(real_release)
    return project


def run_cli(args: list[str], root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CKAN_", "POLICY_TOOLKIT_SPARQL_")) and k.lower() not in ("http_proxy", "https_proxy")
    }
    full = {**base, "POLICY_TOOLKIT_ROOT": str(root), **env}
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], env=full, capture_output=True, text=True, timeout=120
    )


# ---------------------------------------------------------------- the redaction itself


def test_redact_masks_known_secrets_in_every_quoted_form() -> None:
    text = f'raw {SECRET}, url-encoded {SECRET.replace("-", "%2D")}, json "{SECRET}"'
    out = redact(text, [SECRET, None, ""])
    assert SECRET not in out and "***" in out
    assert redact("k=%21%40secret", ["!@secret"]) == "k=***"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def.ghi",
        "authorization: abc.def.ghi",
        '{"Authorization": "abc.def.ghi", "x": 1}',
        "{'X-CKAN-API-Key': 'abc.def.ghi'}",
        "Cookie: session=abc.def.ghi; other=1",
        "Set-Cookie: ckan=abc.def.ghi; Path=/",
        "Proxy-Authorization: Basic abc.def.ghi",
        "the header was Bearer abc.def.ghi here",
        "see http://user:abc.def.ghi@host.example/x",
        "token=abc.def.ghi&x=1",
    ],
)
def test_redact_masks_credentials_it_was_not_told_about(text: str) -> None:
    out = redact(text)
    assert "abc.def.ghi" not in out and "***" in out


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "uploading graph <http://example.org/g>: HTTP 403 Forbidden (set POLICY_TOOLKIT_SPARQL_TOKEN)"
    assert redact(text, ["abc"]) == text  # a secret shorter than 4 characters is not a substring mask


def test_urls() -> None:
    assert has_userinfo("http://u:pw@host/x") and has_userinfo("https://token@host")
    assert not has_userinfo("http://host:8080/x")
    assert url_for_display("http://u:pw@host:8080/p?q=1#f") == "http://host:8080/p"


# ---------------------------------------------------------------- servers that echo the credentials


def test_sparql_token_is_not_printed_when_the_store_echoes_it(echo: tuple[str, list[str]], released: Project) -> None:
    url, seen = echo
    result = run_cli(["publish", "sparql", "--store", url, "--retries", "1"], released.root, **{ENV_TOKEN: SECRET})
    assert result.returncode == 1, result.stdout + result.stderr
    assert seen == [f"Bearer {SECRET}"]  # the server did get the token, and echoed it
    assert "HTTP 403" in result.stderr and "request refused; you sent" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_sparql_basic_password_is_not_printed_when_the_store_echoes_it(
    echo: tuple[str, list[str]], released: Project
) -> None:
    url, seen = echo
    EchoHandler.status = 401
    env = {ENV_USER: "publisher", ENV_PASSWORD: PASSWORD}
    result = run_cli(["publish", "sparql", "--store", url, "--retries", "1"], released.root, **env)
    assert result.returncode == 1 and "HTTP 401" in result.stderr
    assert seen == ["Basic " + basic_auth_value("publisher", PASSWORD)]
    out = result.stdout + result.stderr
    assert PASSWORD not in out and basic_auth_value("publisher", PASSWORD) not in out


@pytest.mark.parametrize(("mode", "shown"), [("text", "HTTP 403"), ("ckan-json", "rejected the metadata")])
def test_ckan_token_is_not_printed_when_the_portal_echoes_it(
    echo: tuple[str, list[str]], released: Project, mode: str, shown: str
) -> None:
    url, seen = echo
    EchoHandler.mode = mode
    result = run_cli(["publish", "ckan", "--url", url, "--org", "o"], released.root, CKAN_API_TOKEN=SECRET)
    assert result.returncode == 1, result.stdout + result.stderr
    assert seen and set(seen) == {SECRET}
    assert shown in result.stderr and "Authorization" in result.stderr  # the body was printed ...
    assert SECRET not in result.stdout + result.stderr  # ... without the token


def test_ckan_url_with_credentials_is_refused_without_echoing_them(released: Project) -> None:
    result = run_cli(
        ["publish", "ckan", "--url", f"http://me:{PASSWORD}@127.0.0.1:9", "--org", "o", "--dry-run"], released.root
    )
    assert result.returncode == 2 and "--url must not contain credentials" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- unreachable portals


def test_a_refused_connection_names_the_url_and_says_check_it(released: Project) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    policy = RetryPolicy(attempts=2, first_delay=0.01)
    with pytest.raises(ToolkitError) as info:
        publish_ckan(released.settings, url, "o", dry_run=True, retry=policy)
    text = str(info.value)
    assert f"cannot reach the portal at {url}" in text and "connection was refused (2 attempts)" in text
    assert "check the URL" in text and "run the command again" not in text


def test_a_host_that_does_not_resolve_says_check_the_url(released: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS beyond 127.0.0.1 in tests: the resolver's answer for an unknown name is given by hand."""

    def no_such_host(host: str, *args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    policy = RetryPolicy(attempts=2, first_delay=0.01)
    with pytest.raises(ToolkitError) as info:
        publish_ckan(released.settings, "https://portal.example.invalid", "o", dry_run=True, retry=policy)
    text = str(info.value)
    assert "cannot reach the portal at https://portal.example.invalid" in text
    assert "'portal.example.invalid' does not resolve" in text and "check the URL" in text


def test_a_timeout_says_run_the_command_again(released: Project) -> None:
    """A server that accepts the connection and never answers: retry advice, not 'check the URL'."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(ToolkitError) as info:
            publish_ckan(
                released.settings, url, "o", dry_run=True, retry=RetryPolicy(attempts=2, first_delay=0.01), timeout=0.3
            )
    finally:
        listener.close()
    text = str(info.value)
    assert f"cannot reach the portal at {url} (timed out), 2 attempts" in text
    assert "run the command again" in text and "check the URL" not in text
