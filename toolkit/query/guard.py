"""Refuse what a local query must not do: reach the network (SERVICE) or change data (updates).

Why a guard in front of the engines: neither pyoxigraph nor the ``oxigraph`` server can switch
off federation. Both are built with Oxigraph's HTTP client, and ``SERVICE <http://...>`` makes
them send a request to any host the query names; the Rust library has
``without_default_http_service_handler`` but neither the Python binding nor the server's
command line exposes it. So every query is parsed before it runs, and one that uses SERVICE
is refused unless the user opted in (``--allow-service``).

The check is made on a parse, never on a pattern: rdflib's SPARQL 1.1 parser builds the
query's syntax tree, and a ``ServiceGraphPattern`` anywhere in it (nested in OPTIONAL,
EXISTS, a sub-select...) refuses the query. Case, comments, prefixed names, a variable as
the endpoint, whitespace: the parser resolves them all as the engine does. Two more checks
close the gaps between two parsers:

- rdflib replaces ``\\u`` escapes in the whole text before parsing (SPARQL 1.1, 19.2) while
  Oxigraph does so only inside strings and IRIs, so a crafted escape could hide a SERVICE
  inside what rdflib takes for a string. Every query is therefore also lexed the way
  Oxigraph reads it (strings, IRIs and comments skipped, :mod:`toolkit.query.sparqltext`),
  and the keyword SERVICE outside them refuses it as well.
- A query Oxigraph accepts but rdflib cannot parse (an Oxigraph extension such as SPARQL 1.2
  triple terms) is refused if the word "service" appears anywhere in it: fail closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from toolkit.errors import UsageError
from toolkit.query.sparqltext import tokens

#: the keywords that open an update operation (SPARQL 1.1 Update)
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})
QUERY_KEYWORDS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})

SERVICE_REFUSED = (
    "the query uses SERVICE (a federated query to another endpoint): federation is off, "
    "so that a query never reaches the network"
)
SERVICE_HINT = "remove the SERVICE clause, or run with --allow-service to let queries contact other endpoints"
UPDATES_REFUSED = "update requests are not run: this is a read-only view of the release"
UPDATES_HINT = "use SELECT, ASK, CONSTRUCT or DESCRIBE"


def _names(node: Any) -> Iterable[str]:
    """Names of every rule in an rdflib parse tree (depth first, iteratively: trees can be deep)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item.name
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, ParseResults | list | tuple):
            stack.extend(item)


def _lexed_keyword(text: str, keywords: frozenset[str]) -> str | None:
    """The first of ``keywords`` as a bare word outside strings, IRIs and comments, read as Oxigraph does."""
    for t in tokens(text):
        if t.kind == "word" and t.upper in keywords:
            return t.upper
    return None


@lru_cache(maxsize=64)
def uses_service(text: str) -> bool:
    """True if the query may contact another endpoint (a SERVICE clause); see the module docstring."""
    if _lexed_keyword(text, frozenset({"SERVICE"})):
        return True
    try:
        tree = parseQuery(text)
    except (ParseException, RecursionError, ValueError, TypeError):
        return "service" in text.lower()
    return "ServiceGraphPattern" in set(_names(tree))


def is_update(text: str) -> bool:
    """True if ``text`` is a SPARQL Update request (INSERT, DELETE, LOAD, CLEAR, ...), parsed, never run."""
    try:
        parseUpdate(text)
    except (ParseException, RecursionError, ValueError, TypeError):
        # not an update rdflib can read: still one if its first operation keyword is an update's
        return _lexed_keyword(text, UPDATE_KEYWORDS | QUERY_KEYWORDS) in UPDATE_KEYWORDS
    return True


def refuse_updates(text: str, *, source: str | None = None) -> None:
    """UsageError (exit 2) if ``text`` is an update request."""
    if is_update(text):
        raise UsageError(UPDATES_REFUSED, file=source, hint=UPDATES_HINT)


def refuse_service(text: str, *, source: str | None = None) -> None:
    """UsageError (exit 2) if the query uses SERVICE."""
    if uses_service(text):
        raise UsageError(SERVICE_REFUSED, file=source, hint=SERVICE_HINT)
