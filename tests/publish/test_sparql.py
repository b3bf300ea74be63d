"""`publish sparql` against a real Oxigraph server on 127.0.0.1 (the binary from the PyPI package).

No mock of the store: each test starts the server on a free port and stops it. Where a test
needs a store that fails (5xx, lost data), a small fault-injecting proxy sits between the
client and the real server, as a flaky network or a broken gateway would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import FIXTURES, REPO, Project
from rdflib import Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import XSD
from typer.testing import CliRunner

from toolkit.build import build_release
from toolkit.cli import app
from toolkit.config import Settings
from toolkit.errors import PublishError, UsageError
from toolkit.graph.iris import named_graph as graph_iri
from toolkit.publish.sparql import (
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USER,
    BearerAuth,
    RetryPolicy,
    auth_from_env,
    endpoints,
    publish_sparql,
)
from toolkit.query.server import OxigraphServer, free_port

ARTICLE = "cls-2025-12-yrd-innovation-centre"
FAST = RetryPolicy(attempts=3, base_delay=0.02, max_delay=0.1)
SECRET = "s3cret-Token-value"
runner = CliRunner()


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def release_settings(real_release_dir: Path, repo_settings: Settings) -> Settings:
    """The real release, written to a folder of its own (the published form, manifest included)."""
    return repo_settings.with_overrides(release_dir=real_release_dir)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OxigraphServer]:
    with OxigraphServer(tmp_path / "db") as srv:
        yield srv


def released_counts(settings: Settings) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in ox.parse(path=settings.release_dir / "policy.nq", format=ox.RdfFormat.N_QUADS):
        counts[q.graph_name.value] = counts.get(q.graph_name.value, 0) + 1
    return counts


def store_counts(srv: OxigraphServer) -> dict[str, int]:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    resp = httpx.post(srv.query_url, data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    resp.raise_for_status()
    return {b["g"]["value"]: int(b["n"]["value"]) for b in resp.json()["results"]["bindings"]}


def store_graph(srv: OxigraphServer, iri: str) -> Graph:
    resp = httpx.get(srv.store_url, params={"graph": iri}, headers={"Accept": "application/n-triples"})
    resp.raise_for_status()
    return Graph().parse(data=resp.text, format="nt")


def release_graph(settings: Settings, iri: str) -> Graph:
    """A named graph of the release, with integer-derived datatypes as Oxigraph stores them
    (xsd:integer), and decimals in the shortest form it gives them ("24.0" -> "24")."""
    out = Graph()
    lines = []
    for q in ox.parse(path=settings.release_dir / "policy.nq", format=ox.RdfFormat.N_QUADS):
        if q.graph_name.value == iri:
            lines.append(f"{q.subject} {q.predicate} {q.object} .")
    for s, p, o in Graph().parse(data="\n".join(lines), format="nt"):
        if isinstance(o, Literal) and o.datatype in (XSD.nonNegativeInteger, XSD.positiveInteger, XSD.int):
            o = Literal(str(o), datatype=XSD.integer)
        elif isinstance(o, Literal) and o.datatype == XSD.decimal:
            o = Literal(format(Decimal(str(o)).normalize(), "f"), datatype=XSD.decimal, normalize=False)
        out.add((s, p, o))
    return out


def put_graph(srv: OxigraphServer, iri: str, data: str) -> None:
    resp = httpx.put(
        srv.store_url, params={"graph": iri}, content=data.encode(), headers={"Content-Type": "application/n-triples"}
    )
    assert resp.status_code in (200, 201, 204)


class FaultProxy(ThreadingHTTPServer):
    """Forwards to a real server; can answer 503 first, or lose half of each uploaded graph."""

    def __init__(self, upstream: str, *, fail_first: int = 0, lossy: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.fail_first = fail_first
        self.lossy = lossy
        self.seen: list[tuple[str, int, str | None]] = []  # method, status, Authorization
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: FaultProxy

    def _forward(self) -> None:
        proxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with proxy.lock:
            fail = proxy.fail_first > 0
            proxy.fail_first -= 1 if fail else 0
        if fail:
            status, payload, ctype = 503, b"temporarily unavailable", "text/plain"
        else:
            if proxy.lossy and self.command == "PUT":
                lines = body.splitlines()
                body = b"\n".join(lines[: len(lines) // 2]) + b"\n"
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
            resp = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
            status, payload, ctype = resp.status_code, resp.content, resp.headers.get("content-type", "text/plain")
        with proxy.lock:
            proxy.seen.append((self.command, status, self.headers.get("Authorization")))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
        pass


# ---------------------------------------------------------------- publishing and reading back


def test_publish_then_query_over_http(release_settings: Settings, server: OxigraphServer) -> None:
    s = release_settings
    report = publish_sparql(s, server.url, retry=FAST)
    assert report.verified and not report.dry_run
    assert [g.name for g in report.graphs] == ["ontology", ARTICLE]
    assert store_counts(server) == released_counts(s)
    for g in report.graphs:
        assert isomorphic(store_graph(server, g.iri), release_graph(s, g.iri)), g.name
    # the store answers the saved queries as the embedded engine does (its default graph is the union)
    text = (REPO / "queries" / "centres-and-regions.rq").read_text(encoding="utf-8")
    resp = httpx.post(server.query_url, data={"query": text}, headers={"Accept": "application/sparql-results+json"})
    regions = [b["region_zh"]["value"] for b in resp.json()["results"]["bindings"]]
    assert sorted(regions) == sorted(["京津冀", "长三角", "粤港澳大湾区"])
    assert "verified: the store holds every graph as released" in report.to_text()


def test_republishing_doubles_nothing(release_settings: Settings, server: OxigraphServer) -> None:
    publish_sparql(release_settings, server.url, retry=FAST)
    first = store_counts(server)
    for _ in range(2):
        assert publish_sparql(release_settings, server.url, retry=FAST).verified
    assert store_counts(server) == first == released_counts(release_settings)
    # a stray triple in one of our graphs (an earlier, different release) is gone after a republish:
    # each graph is replaced, not appended to
    article = graph_iri(release_settings.base_iri, ARTICLE)
    resp = httpx.post(
        server.store_url,
        params={"graph": article},
        content=b'<http://example.org/stale> <http://example.org/p> "from an older release" .\n',
        headers={"Content-Type": "application/n-triples"},
    )
    assert resp.status_code in (200, 204) and store_counts(server)[article] == first[article] + 1
    assert publish_sparql(release_settings, server.url, retry=FAST).verified
    assert store_counts(server) == first


def test_replacing_one_source_leaves_the_others_untouched(project: Project, tmp_path: Path) -> None:
    project.add_source(FIXTURES / "sources" / "second-source")
    build_release(project.settings)
    s = project.settings
    second = graph_iri(s.base_iri, "test-second-source")
    with OxigraphServer(tmp_path / "db") as srv:
        foreign = "http://example.org/someone-elses-graph"
        put_graph(srv, foreign, '<http://example.org/a> <http://example.org/b> "kept" .\n')
        assert publish_sparql(s, srv.url, retry=FAST).verified
        before = {iri: store_graph(srv, iri) for iri in store_counts(srv)}
        assert set(before) == {foreign, second, graph_iri(s.base_iri, ARTICLE), graph_iri(s.base_iri, "ontology")}

        facts = project.root / "datasets" / "sources" / "second-source" / "facts.yaml"
        facts.write_text(
            facts.read_text(encoding="utf-8").replace("en: Example Daily}", "en: Example Daily News}"), encoding="utf-8"
        )
        build_release(project.settings)
        report = publish_sparql(s, srv.url, only=["test-second-source"], retry=FAST)
        assert report.verified and [g.name for g in report.graphs] == ["test-second-source"]

        after = {iri: store_graph(srv, iri) for iri in store_counts(srv)}
        assert set(after) == set(before)
        for iri in before:
            if iri != second:
                assert isomorphic(after[iri], before[iri]), iri
        labels = {str(o) for o in after[second].objects() if isinstance(o, Literal) and o.language == "en"}
        assert "Example Daily News" in labels and "Example Daily" not in labels
        assert isomorphic(after[second], release_graph(s, second))


def test_killing_the_server_mid_publish_gives_a_clear_error_and_a_rerun_completes(
    release_settings: Settings, tmp_path: Path
) -> None:
    s = release_settings
    srv = OxigraphServer(tmp_path / "db").start()
    port = srv.port
    try:
        with pytest.raises(PublishError) as info:
            publish_sparql(s, srv.url, retry=FAST, on_upload=lambda up: srv.kill())
    finally:
        srv.stop()
    err = info.value
    text = str(err)
    assert err.exit_code == 1 and err.attempts == FAST.attempts
    assert f"uploading graph <{graph_iri(s.base_iri, ARTICLE)}>: gave up after 3 attempts" in text
    assert "ConnectError" in text
    assert f"uploaded before this: ontology; not uploaded: {ARTICLE}" in text
    assert "running the same command again completes the upload" in text
    with OxigraphServer(tmp_path / "db", port=port) as again:  # same data folder, same URL
        report = publish_sparql(s, again.url, retry=FAST)
        assert report.verified
        assert store_counts(again) == released_counts(s)  # the ontology graph stored before the crash is not doubled


def test_a_dead_store_exits_1_with_a_clear_message(release_settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(
        app, ["publish", "sparql", "--store", url, "--retries", "2", "--release", str(release_settings.release_dir)]
    )
    assert result.exit_code == 1
    assert "gave up after 2 attempts" in result.output and "ConnectError" in result.output
    assert "uploaded before this: none" in result.output


# ---------------------------------------------------------------- retries


def test_network_errors_are_retried_until_the_store_comes_up(release_settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    srv = OxigraphServer(tmp_path / "db", port=port)
    starter = threading.Timer(0.4, srv.start)
    starter.start()
    try:
        t0 = time.monotonic()
        report = publish_sparql(
            release_settings, f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=8, base_delay=0.1)
        )
        assert time.monotonic() - t0 >= 0.3
    finally:
        starter.join()
        srv.stop()
    assert report.verified
    assert report.graphs[0].attempts > 1 and report.graphs[1].attempts == 1


def test_5xx_is_retried_with_backoff(release_settings: Settings, server: OxigraphServer) -> None:
    with FaultProxy(server.url, fail_first=2) as proxy:
        report = publish_sparql(release_settings, proxy.url, retry=FAST)
    assert report.verified and report.graphs[0].attempts == 3
    assert [st for _, st, _ in proxy.seen[:2]] == [503, 503] and proxy.seen[2][1] in (201, 204)


def test_backoff_doubles_up_to_a_ceiling() -> None:
    assert [RetryPolicy().delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_5xx_that_persists_gives_up(release_settings: Settings, server: OxigraphServer) -> None:
    with FaultProxy(server.url, fail_first=100) as proxy, pytest.raises(PublishError) as info:
        publish_sparql(release_settings, proxy.url, retry=FAST)
    assert "gave up after 3 attempts; last error: HTTP 503" in str(info.value)
    assert len(proxy.seen) == 3
    assert store_counts(server) == {}


def test_4xx_is_not_retried(release_settings: Settings, tmp_path: Path) -> None:
    with OxigraphServer(tmp_path / "db") as rw:
        put_graph(
            rw, "http://example.org/g", "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"
        )
    with OxigraphServer(tmp_path / "db", read_only=True) as ro, pytest.raises(PublishError) as info:
        publish_sparql(release_settings, ro.url, retry=FAST)
    assert info.value.attempts == 1
    assert "refused it with HTTP 403" in str(info.value) and "not retried" in str(info.value)


def test_a_store_that_loses_data_fails_verification(release_settings: Settings, server: OxigraphServer) -> None:
    with FaultProxy(server.url, lossy=True) as proxy:
        result = runner.invoke(
            app, ["publish", "sparql", "--store", proxy.url, "--release", str(release_settings.release_dir)]
        )
    assert result.exit_code == 1
    assert "the store does not hold what was uploaded" in result.output and "MISMATCH" in result.output


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("env", "header"),
    [
        ({ENV_TOKEN: SECRET}, f"Bearer {SECRET}"),
        ({ENV_USER: "publisher", ENV_PASSWORD: SECRET}, httpx.BasicAuth("publisher", SECRET)._auth_header),
    ],
)
def test_credentials_are_sent_but_never_shown(
    release_settings: Settings,
    server: OxigraphServer,
    caplog: pytest.LogCaptureFixture,
    env: dict[str, str],
    header: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    with FaultProxy(server.url) as proxy:
        result = runner.invoke(
            app, ["publish", "sparql", "--store", proxy.url, "--release", str(release_settings.release_dir)], env=env
        )
    assert result.exit_code == 0, result.output
    assert proxy.seen and {auth for _, _, auth in proxy.seen} == {header}
    assert SECRET not in result.output and SECRET not in caplog.text
    assert header not in result.output
    assert "auth: " in result.output


def test_credentials_stay_hidden_when_the_store_refuses(release_settings: Settings, tmp_path: Path) -> None:
    with OxigraphServer(tmp_path / "db") as rw:
        put_graph(
            rw, "http://example.org/g", "<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n"
        )
    with OxigraphServer(tmp_path / "db", read_only=True) as ro:
        result = runner.invoke(
            app,
            ["publish", "sparql", "--store", ro.url, "--release", str(release_settings.release_dir)],
            env={ENV_TOKEN: SECRET},
        )
    assert result.exit_code == 1 and "HTTP 403" in result.output
    assert SECRET not in result.output


def test_credentials_in_the_url_are_refused_without_echoing_them(release_settings: Settings) -> None:
    result = runner.invoke(
        app,
        [
            "publish",
            "sparql",
            "--store",
            f"http://me:{SECRET}@127.0.0.1:1",
            "--release",
            str(release_settings.release_dir),
        ],
    )
    assert result.exit_code == 2 and "must not contain credentials" in result.output
    assert SECRET not in result.output


def test_auth_from_env() -> None:
    assert auth_from_env({}) == (None, "none")
    auth, text = auth_from_env({ENV_TOKEN: SECRET})
    assert isinstance(auth, BearerAuth) and SECRET not in text and SECRET not in repr(auth)
    request = httpx.Request("PUT", "http://127.0.0.1/")
    assert next(auth.auth_flow(request)).headers["Authorization"] == f"Bearer {SECRET}"
    with pytest.raises(UsageError, match="not both"):
        auth_from_env({ENV_TOKEN: SECRET, ENV_USER: "u"})
    with pytest.raises(UsageError, match="needs both"):
        auth_from_env({ENV_USER: "u"})


# ---------------------------------------------------------------- options


def test_dry_run_sends_nothing(release_settings: Settings, server: OxigraphServer) -> None:
    args = ["publish", "sparql", "--store", server.url, "--dry-run", "--release", str(release_settings.release_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was sent" in result.output
    for iri, n in released_counts(release_settings).items():
        assert f"would PUT <{iri}>" in result.output and f"{n} triples" in result.output
    assert store_counts(server) == {}
    dead = f"http://127.0.0.1:{free_port()}"
    assert (
        runner.invoke(
            app, ["publish", "sparql", "--store", dead, "--dry-run", "--release", str(release_settings.release_dir)]
        ).exit_code
        == 0
    )


def test_graph_prefix_and_only(release_settings: Settings, server: OxigraphServer) -> None:
    report = publish_sparql(
        release_settings, server.url, graph="https://example.org/graphs/", only=["ontology"], retry=FAST
    )
    assert report.verified
    assert store_counts(server) == {
        "https://example.org/graphs/ontology": released_counts(release_settings)[
            graph_iri(release_settings.base_iri, "ontology")
        ]
    }
    rel = str(release_settings.release_dir)
    result = runner.invoke(app, ["publish", "sparql", "--store", server.url, "--graph", "not an iri", "--release", rel])
    assert result.exit_code == 2 and "--graph" in result.output
    result = runner.invoke(app, ["publish", "sparql", "--store", server.url, "--only", "nope", "--release", rel])
    assert result.exit_code == 2 and f"its graphs: ontology, {ARTICLE}" in result.output


def test_endpoints() -> None:
    assert endpoints("http://127.0.0.1:7878") == ("http://127.0.0.1:7878/store", "http://127.0.0.1:7878/query")
    assert endpoints("http://h:7878/store") == ("http://h:7878/store", "http://h:7878/query")
    assert endpoints("http://h:3030/ds/data") == ("http://h:3030/ds/data", "http://h:3030/ds/query")
    assert endpoints("http://h/x/gsp", "http://h/x/sparql") == ("http://h/x/gsp", "http://h/x/sparql")
    with pytest.raises(UsageError, match="--query-url"):
        endpoints("http://h/x/gsp")
    with pytest.raises(UsageError, match="http"):
        endpoints("ftp://h/")


def test_a_tampered_release_is_not_published(
    release_settings: Settings, server: OxigraphServer, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "release"
    shutil.copytree(release_settings.release_dir, copy)
    nq = copy / "policy.nq"
    nq.write_bytes(nq.read_bytes().replace(b"\xe4\xb8\x8a\xe6\xb5\xb7", b"\xe5\x8c\x97\xe4\xba\xac", 1))  # 上海 -> 北京
    with pytest.raises(PublishError, match=r"does not match its manifest: policy\.nq"):
        publish_sparql(release_settings.with_overrides(release_dir=copy), server.url, retry=FAST)
    assert store_counts(server) == {}
