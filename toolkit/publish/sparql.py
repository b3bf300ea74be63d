"""Upload the release to a SPARQL store with the Graph Store HTTP Protocol, then verify it.

Why one named graph per source, each PUT whole: PUT replaces a graph, so publishing the
same release twice leaves the store as publishing it once (nothing doubles), and replacing
one source's graph cannot touch another source's or anything else in the store. The graphs
come from the release's ``policy.nq`` (see :mod:`toolkit.export.nquads`): what is uploaded
is what was checked and checksummed, not a rebuild.

Why verify by querying: a 2xx answer says the store accepted the body, not that it holds
the triples; counting each graph afterwards (one SPARQL query) catches a store that
dropped, merged or half-wrote data.

Credentials come from the environment only and are never printed or logged:
``POLICY_TOOLKIT_SPARQL_TOKEN`` (bearer) or ``POLICY_TOOLKIT_SPARQL_USER`` with
``POLICY_TOOLKIT_SPARQL_PASSWORD`` (basic); a store's error body is printed only after
:func:`toolkit.publish.credentials.redact` (a store may echo the ``Authorization`` header).
Network errors and 5xx answers are retried with exponential backoff; 4xx answers are not
(sending the same request again cannot help).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from toolkit.config import Settings
from toolkit.errors import LoadError, PublishError, UsageError
from toolkit.export.nquads import ONTOLOGY, RELEASE_FILE
from toolkit.graph.iris import graph_prefix
from toolkit.progress import progress
from toolkit.publish.credentials import basic_auth_value, check_http_url, redact, url_for_display
from toolkit.publish.release import release_info

ENV_TOKEN = "POLICY_TOOLKIT_SPARQL_TOKEN"
ENV_USER = "POLICY_TOOLKIT_SPARQL_USER"
ENV_PASSWORD = "POLICY_TOOLKIT_SPARQL_PASSWORD"
NTRIPLES = "application/n-triples"
SPARQL_JSON = "application/sparql-results+json"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request that failed on the network or with a 5xx."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): 0.5, 1, 2, 4 ..."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


@dataclass
class GraphUpload:
    name: str  # source id, or "ontology"
    iri: str
    triples: int
    uploaded: bool = False
    http_status: int | None = None
    attempts: int = 0
    stored: int | None = None  # triple count the store reports after the upload

    @property
    def verified(self) -> bool:
        return self.stored == self.triples


@dataclass
class PublishReport:
    store_url: str
    query_url: str
    auth: str
    dry_run: bool
    graphs: list[GraphUpload] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(g.triples for g in self.graphs)

    @property
    def verified(self) -> bool:
        return not self.dry_run and all(g.verified for g in self.graphs)

    def to_text(self) -> str:
        width = max((len(g.iri) for g in self.graphs), default=0) + 2
        if self.dry_run:
            lines = [f"dry run: nothing was sent. Would publish to {self.store_url} (auth: {self.auth}):"]
            lines += [f"  would PUT {('<' + g.iri + '>').ljust(width)}  {g.triples:>6} triples" for g in self.graphs]
            lines.append(f"then would count the triples of each graph with {self.query_url}")
            lines.append("each PUT replaces its graph whole; other graphs in the store are not touched")
            return "\n".join(lines) + "\n"
        lines = [f"published to {self.store_url} (auth: {self.auth}), verified with {self.query_url}:"]
        for g in self.graphs:
            state = "ok" if g.verified else "MISMATCH"
            stored = "?" if g.stored is None else str(g.stored)
            lines.append(
                f"  PUT {('<' + g.iri + '>').ljust(width)}  {g.triples:>6} triples sent, {stored:>6} stored  {state}"
            )
        if self.verified:
            lines.append(
                f"verified: the store holds every graph as released ({len(self.graphs)} graphs, {self.triples} triples)"
            )
        else:
            lines.append("NOT verified: the store's triple counts differ from the release")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        data = {
            "store_url": self.store_url,
            "query_url": self.query_url,
            "auth": self.auth,
            "dry_run": self.dry_run,
            "verified": self.verified,
            "graphs": [asdict(g) for g in self.graphs],  # the fields, in their order
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------- endpoints and credentials


def endpoints(store_url: str, query_url: str | None = None) -> tuple[str, str]:
    """The Graph Store endpoint and the SPARQL query endpoint for ``--store`` (and ``--query-url``).

    A bare server URL (``http://host:7878``) means Oxigraph's layout, ``/store`` and ``/query``;
    a URL ending in ``/store`` or ``/data`` (Fuseki) gets ``/query`` beside it. Anything else
    needs ``--query-url``.
    """
    for option, url in (("--store", store_url), ("--query-url", query_url)):
        if url is None:
            continue
        check_http_url(
            url,
            option,
            credentials_hint=f"set {ENV_TOKEN}, or {ENV_USER} and {ENV_PASSWORD}, in the environment instead",
            example="http://127.0.0.1:7878",
        )
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise UsageError(f"{option} must not have a query string or fragment")
    base = store_url.rstrip("/")
    path = urlsplit(base).path
    if path == "":
        gsp, derived = base + "/store", base + "/query"
    elif path.endswith(("/store", "/data")):
        gsp, derived = base, base.rpartition("/")[0] + "/query"
    else:
        gsp, derived = base, None
    if query_url is None and derived is None:
        raise UsageError(
            "cannot tell the store's SPARQL query endpoint from --store",
            hint="pass it with --query-url (it is used to verify the upload)",
        )
    return gsp, query_url or str(derived)


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer ...``; the token is kept out of ``repr`` so it cannot leak into logs."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def auth_from_env(env: Mapping[str, str] | None = None) -> tuple[httpx.Auth | None, str]:
    """The credentials the environment gives, and a description of them that holds no secret."""
    env = os.environ if env is None else env
    token, user, password = env.get(ENV_TOKEN), env.get(ENV_USER), env.get(ENV_PASSWORD)
    if token and (user or password):
        raise UsageError(f"set either {ENV_TOKEN} or {ENV_USER}/{ENV_PASSWORD}, not both")
    if token:
        return BearerAuth(token), f"bearer token from {ENV_TOKEN}"
    if user or password:
        if not (user and password):
            raise UsageError(f"basic auth needs both {ENV_USER} and {ENV_PASSWORD}")
        return httpx.BasicAuth(user, password), f"basic, from {ENV_USER}/{ENV_PASSWORD}"
    return None, "none"


def secrets_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every secret the environment gives, in the forms a store could echo: for :func:`redact`."""
    env = os.environ if env is None else env
    token, user, password = env.get(ENV_TOKEN), env.get(ENV_USER), env.get(ENV_PASSWORD)
    out = [s for s in (token, password) if s]
    if user and password:
        out.append(basic_auth_value(user, password))
    return tuple(out)


# ---------------------------------------------------------------- the release's graphs


@dataclass(frozen=True)
class ReleaseGraph:
    name: str
    iri: str
    triples: list[ox.Triple]

    def ntriples(self) -> bytes:
        return ox.serialize(self.triples, format=ox.RdfFormat.N_TRIPLES)


def release_graphs(settings: Settings, prefix: str | None = None) -> list[ReleaseGraph]:
    """The named graphs of the release in ``settings.release_dir``: ontology first, then sources.

    The release must be intact (every file matches the manifest's checksum), so that what is
    published is what was validated. ``prefix`` renames the graphs: ``<prefix><name>``.
    """
    manifest = release_info(settings)
    bad = [f["path"] for f in manifest["files"] if not f["verified"]]
    if bad:
        raise PublishError(
            f"the release does not match its manifest: {', '.join(bad)}",
            hint="run `policy-toolkit build` (and `info`) before publishing",
        )
    if RELEASE_FILE not in {f["path"] for f in manifest["files"]}:
        raise LoadError(
            f"the release has no {RELEASE_FILE}", file=settings.release_dir, hint="run `policy-toolkit build`"
        )
    released_prefix = graph_prefix(str(manifest["base_iri"]))
    if prefix is not None:
        _check_prefix(prefix)
    path = settings.release_dir / RELEASE_FILE
    groups: dict[str, list[ox.Triple]] = {}
    try:
        for quad in ox.parse(path=path, format=ox.RdfFormat.N_QUADS):
            g = quad.graph_name
            if not isinstance(g, ox.NamedNode) or not g.value.startswith(released_prefix):
                raise LoadError(f"a triple outside the release's named graphs: {quad}", file=path)
            groups.setdefault(g.value[len(released_prefix) :], []).append(quad.triple)
    except SyntaxError as exc:
        raise LoadError(f"not valid N-Quads: {exc}", file=path) from None
    names = sorted(groups, key=lambda n: (n != ONTOLOGY, n))
    target = prefix if prefix is not None else released_prefix
    return [ReleaseGraph(name=n, iri=target + n, triples=groups[n]) for n in names]


def _check_prefix(prefix: str) -> None:
    try:
        ox.NamedNode(prefix + "x")
    except ValueError:
        raise UsageError(f"--graph {prefix!r} is not a valid IRI prefix") from None
    if not _SCHEME.match(prefix) or not prefix.endswith(("/", "#", ":")):
        raise UsageError(
            f"--graph {prefix!r} must be an absolute IRI ending in '/', '#' or ':'",
            hint="graph names are the prefix followed by the source id, e.g. https://example.org/graph/",
        )


# ---------------------------------------------------------------- HTTP with retries


def _request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    retry: RetryPolicy,
    secrets: Sequence[str] = (),
    **kwargs: object,
) -> tuple[httpx.Response, int]:
    """Send with retries on network errors and 5xx; a 4xx (or 3xx) fails at once.

    The body of a refusal is printed, redacted: ``secrets`` are the credentials sent.
    """
    last = ""
    for attempt in range(1, retry.attempts + 1):
        try:
            resp = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {redact(str(exc) or type(exc).__name__, secrets)}"
        else:
            if 200 <= resp.status_code < 300:
                return resp, attempt
            reason = f"HTTP {resp.status_code} {resp.reason_phrase}".rstrip()
            if resp.status_code < 500:
                body = redact(" ".join(resp.text.split()), secrets)[:300]
                hint = None
                if resp.status_code in (401, 403):
                    hint = f"check the store's permissions and {ENV_TOKEN} or {ENV_USER}/{ENV_PASSWORD}"
                raise PublishError(
                    f"{what}: the store refused it with {reason}"
                    + (f": {body}" if body else "")
                    + " (not retried: the same request would fail again)",
                    attempts=attempt,
                    hint=hint,
                )
            last = reason
        if attempt < retry.attempts:
            time.sleep(retry.delay(attempt))
    tries = f"{retry.attempts} attempt" + ("s" if retry.attempts != 1 else "")
    raise PublishError(f"{what}: gave up after {tries}; last error: {last}", attempts=retry.attempts)


def count_graphs(
    client: httpx.Client, query_url: str, iris: Sequence[str], retry: RetryPolicy, secrets: Sequence[str] = ()
) -> dict[str, int]:
    """Triples per named graph, as the store reports them (0 for a graph it does not have)."""
    values = " ".join(str(ox.NamedNode(iri)) for iri in iris)  # terms, serialised by pyoxigraph
    query = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    resp, _ = _request(
        client,
        "POST",
        query_url,
        what=f"counting the triples at {url_for_display(query_url)}",
        retry=retry,
        secrets=secrets,
        data={"query": query},
        headers={"Accept": SPARQL_JSON},
    )
    try:
        bindings = resp.json()["results"]["bindings"]
        counts = {b["g"]["value"]: int(b["n"]["value"]) for b in bindings}
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"the store's answer to the count query is not SPARQL JSON results: {exc}") from None
    return {iri: counts.get(iri, 0) for iri in iris}


# ---------------------------------------------------------------- publishing


def publish_sparql(
    settings: Settings,
    store_url: str,
    *,
    graph: str | None = None,
    query_url: str | None = None,
    only: Sequence[str] | None = None,
    dry_run: bool = False,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    on_upload: Callable[[GraphUpload], None] | None = None,
) -> PublishReport:
    """PUT each named graph of the release to ``store_url``, then verify the counts.

    ``graph`` is the prefix of the graph names (default ``<base IRI>graph/``); ``only``
    limits the upload to some graphs (source ids, or ``ontology``); ``on_upload`` is called
    after each graph is stored (a log line, or a test that stops the server mid-way); on a
    terminal a progress bar counts the graphs (see :mod:`toolkit.progress`).
    Raises PublishError (exit 1) when the store cannot be reached, refuses a graph, or does
    not hold what was sent; UsageError (exit 2) for bad options.
    """
    retry = retry or RetryPolicy()
    gsp, query = endpoints(store_url, query_url)
    auth, auth_text = auth_from_env(env)
    secrets = secrets_from_env(env)
    graphs = release_graphs(settings, graph)
    if only:
        names = [g.name for g in graphs]
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise UsageError(
                f"--only {', '.join(unknown)}: not a graph of this release; its graphs: {', '.join(names)}"
            )
        graphs = [g for g in graphs if g.name in set(only)]
    report = PublishReport(
        store_url=url_for_display(gsp),
        query_url=url_for_display(query),
        auth=auth_text,
        dry_run=dry_run,
        graphs=[GraphUpload(name=g.name, iri=g.iri, triples=len(g.triples)) for g in graphs],
    )
    if dry_run:
        return report
    with (
        httpx.Client(auth=auth, timeout=timeout, follow_redirects=False) as client,
        progress("uploading graphs", len(graphs)) as tick,
    ):
        for g, up in zip(graphs, report.graphs, strict=True):
            try:
                resp, attempts = _request(
                    client,
                    "PUT",
                    gsp,
                    what=f"uploading graph <{g.iri}>",
                    retry=retry,
                    secrets=secrets,
                    params={"graph": g.iri},
                    content=g.ntriples(),
                    headers={"Content-Type": NTRIPLES},
                )
            except PublishError as exc:
                done = [u.name for u in report.graphs if u.uploaded]
                todo = [u.name for u in report.graphs if not u.uploaded]
                raise PublishError(
                    f"{exc.message}\n  uploaded before this: {', '.join(done) or 'none'}; "
                    f"not uploaded: {', '.join(todo)}",
                    attempts=exc.attempts,
                    hint=(exc.hint + "; " if exc.hint else "")
                    + "each graph is replaced whole, so running the same command again completes the upload",
                ) from None
            up.uploaded, up.http_status, up.attempts = True, resp.status_code, attempts
            tick.advance()
            if on_upload is not None:
                on_upload(up)
        counts = count_graphs(client, query, [g.iri for g in graphs], retry, secrets)
    for up in report.graphs:
        up.stored = counts[up.iri]
    if not report.verified:
        raise PublishError(
            "the store does not hold what was uploaded:\n" + report.to_text().rstrip(),
            hint="check the store's logs; publishing again replaces each graph whole",
        )
    return report
