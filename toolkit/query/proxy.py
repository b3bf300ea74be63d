"""A read-only HTTP front for the Oxigraph server that checks every SPARQL query before it runs.

Why a front at all: ``oxigraph serve-read-only`` answers ``SERVICE <http://...>`` by sending
the query to that host, and has no option to stop it (see :mod:`toolkit.query.guard`). The
front listens on the port the user asked for; Oxigraph listens on a port of its own on
127.0.0.1 and only the front talks to it.

What the front forwards is rebuilt from what it checked, never passed through as it came: a
query (from ``?query=``, a form field, or an ``application/sparql-query`` body, whatever the
method and path) is parsed, refused with HTTP 400 if it uses SERVICE, and otherwise sent to
Oxigraph as ``POST /query`` with exactly that text as the body, with only the protocol's
dataset parameters (``default-graph-uri``, ``named-graph-uri``, ``union-default-graph``)
beside it. So no difference between how the front and Oxigraph read a request (a second
``query`` field, an odd content type, a parameter's case) can smuggle in an unchecked query.
With a site (``serve`` builds one), GET and HEAD of any other path are answered from the
site folder, with content negotiation on resource IRIs (:mod:`toolkit.query.sitefiles`).
Updates are refused (403); GET and HEAD for the rest (the query page, the service
description, the Graph Store's ``GET /store``) are forwarded; any other write is refused (403).
"""

from __future__ import annotations

import errno
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from toolkit.errors import UsageError
from toolkit.query.guard import SERVICE_HINT, SERVICE_REFUSED, UPDATES_REFUSED, uses_service
from toolkit.query.sitefiles import Answer, SiteFiles

HOST = "127.0.0.1"
MAX_BODY = 16 * 1024 * 1024
#: seconds the gate waits beyond the time limit before it cuts an answer off itself
GRACE = 2.0
#: SPARQL Protocol parameters that are forwarded with a checked query (the dataset to query)
DATASET_PARAMS = frozenset({"default-graph-uri", "named-graph-uri", "union-default-graph"})
FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
#: paths where Oxigraph evaluates a query given in the URL
QUERY_PATHS = frozenset({"/query", "/sparql", "/update"})
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding"}
)


def _sparql_path(path: str) -> bool:
    """Paths that stay Oxigraph's when a site is served: the query endpoints and the graph store."""
    return path in QUERY_PATHS or path == "/store" or path.startswith("/store/")


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gate: SparqlGate


class _Handler(BaseHTTPRequestHandler):
    # one request per connection: a streamed answer ends when the connection closes
    protocol_version = "HTTP/1.0"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # the base class names it so
        """Quiet: the server is not a web log (Oxigraph logs nothing per request either)."""

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_QUERY(self) -> None:  # the HTTP QUERY method, which Oxigraph accepts for queries
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            self._route()
        except _Refusal as exc:
            self._refuse(exc.status, exc.message)
        except httpx.TransportError as exc:
            self._refuse(502, f"the SPARQL engine did not answer: {exc}")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise _Refusal(411, "send the request body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _Refusal(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            raise _Refusal(413, f"the request body is over {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    def _route(self) -> None:
        gate = self.server.gate
        url = urlsplit(self.path)
        params = parse_qsl(url.query, keep_blank_values=True, errors="replace")
        body = self._body()
        media = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if body and media == FORM:
            params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
        # any case of the name counts: what is forwarded is rebuilt, so no variant slips through unchecked
        operations = [(k.lower(), v) for k, v in params if k.lower() in ("query", "update")]
        if body and media == QUERY_BODY:
            operations.append(("query", body.decode("utf-8", "replace")))
        elif body and media == UPDATE_BODY:
            operations.append(("update", body.decode("utf-8", "replace")))
        if any(kind == "update" for kind, _ in operations) or (self.command != "GET" and url.path == "/update"):
            raise _Refusal(403, UPDATES_REFUSED)
        if operations:
            if len(operations) > 1:
                raise _Refusal(400, "give exactly one query")
            self._query(operations[0][1], [(k, v) for k, v in params if k in DATASET_PARAMS], gate)
        elif self.command in ("GET", "HEAD") and gate.site is not None and not _sparql_path(url.path):
            self._send(gate.site.answer(url.path, self.headers.get("Accept")))
        elif self.command in ("GET", "HEAD"):
            target = url.path if url.path in QUERY_PATHS else self.path
            self._forward(self.command, target, None, {})
        elif self.command in ("POST", "QUERY") and url.path in QUERY_PATHS:
            raise _Refusal(400, f"no query: send ?query=..., a form field query=..., or a body of type {QUERY_BODY}")
        else:
            raise _Refusal(403, "this endpoint is read-only: only queries are answered")

    def _query(self, text: str, dataset: list[tuple[str, str]], gate: SparqlGate) -> None:
        if not gate.allow_service and uses_service(text):
            raise _Refusal(400, f"{SERVICE_REFUSED}\n  fix: {SERVICE_HINT}")
        target = "/query" + ("?" + urlencode(dataset) if dataset else "")
        self._forward("POST", target, text.encode("utf-8"), {"Content-Type": QUERY_BODY})

    def _forward(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> None:
        """Send the request to Oxigraph and stream its answer back, for at most the gate's time limit.

        Oxigraph's own ``--timeout-s`` cancels the evaluation before the first result, but a
        result that is being streamed goes on; so the gate stops copying at the deadline and
        closes both connections (Oxigraph stops when it can no longer write).
        """
        gate = self.server.gate
        deadline = None if gate.timeout is None else time.monotonic() + gate.timeout + GRACE
        sent = {"Host": self.headers.get("Host") or f"{HOST}:{gate.port}", **headers}
        if self.headers.get("Accept"):
            sent["Accept"] = self.headers["Accept"]
        started = False
        try:
            with gate.client.stream(method, gate.upstream + target, content=body, headers=sent) as resp:
                self.send_response(resp.status_code)
                for name, value in resp.headers.multi_items():
                    if name.lower() not in HOP_BY_HOP and name.lower() not in ("server", "date"):
                        self.send_header(name, value)
                self.end_headers()
                started = True
                if method == "HEAD":
                    return
                for chunk in resp.iter_raw():
                    self.wfile.write(chunk)
                    if deadline is not None and time.monotonic() > deadline:
                        self.wfile.write(f"\n{gate.timeout_message()}\n".encode())
                        self.close_connection = True
                        return
        except httpx.TimeoutException:
            if not started:
                raise _Refusal(503, gate.timeout_message()) from None
            self.wfile.write(f"\n{gate.timeout_message()}\n".encode())
            self.close_connection = True

    def _send(self, answer: Answer) -> None:
        if answer.status >= 400 and not answer.body:
            self._refuse(answer.status, "not found" if answer.status == 404 else "refused")
            return
        self.send_response(answer.status)
        for name, value in sorted(answer.headers.items()):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _refuse(self, status: int, message: str) -> None:
        data = (message.rstrip("\n") + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class SparqlGate:
    """The front: listens on ``HOST:port`` and forwards checked requests to ``upstream``; a context manager.

    ``timeout``: seconds an answer may take, streaming included (None: no limit): the same
    limit as Oxigraph's own ``--timeout-s``, which the gate enforces :data:`GRACE` seconds
    later, so that Oxigraph's error is the one the client sees when Oxigraph cancels the
    query before the first result.
    """

    def __init__(
        self,
        upstream: str,
        *,
        port: int = 0,
        allow_service: bool = False,
        timeout: float | None = None,
        site: Path | dict[str, bytes] | None = None,
    ):
        self.upstream = upstream.rstrip("/")
        #: a built site served on the same port (GET/HEAD of any other path than the SPARQL ones)
        self.site: SiteFiles | None = None
        self.mount_site(site)
        self.requested_port = port
        self.port = port
        self.allow_service = allow_service
        self.timeout = timeout
        wait = None if timeout is None else timeout + GRACE
        self.client = httpx.Client(timeout=httpx.Timeout(wait, connect=10.0))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def mount_site(self, site: Path | dict[str, bytes] | None) -> None:
        """Serve ``site`` (a built site's folder, or its files in memory) from now on; None: no site."""
        if isinstance(site, Path):
            self.site = SiteFiles(root=site)
        elif site is not None:
            self.site = SiteFiles(files=site)
        else:
            self.site = None

    def timeout_message(self) -> str:
        return f"the query did not finish within {self.timeout:g} s and was stopped (serve --timeout)"

    def start(self) -> SparqlGate:
        try:
            server = _Server((HOST, self.requested_port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {self.requested_port} on {HOST} is in use",
                    hint="stop what uses it, or choose another port with --port (0 picks a free one)",
                ) from None
            raise UsageError(f"cannot listen on {HOST}:{self.requested_port}: {exc.strerror or exc}") from None
        server.gate = self
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="sparql-gate", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.client.close()

    def __enter__(self) -> SparqlGate:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
