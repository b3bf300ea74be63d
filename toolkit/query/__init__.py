"""Query the release with SPARQL: embedded (pyoxigraph), saved queries, and a local endpoint.

Library first; the CLI commands in :mod:`toolkit.cli_query` are a few lines over these::

    from toolkit.config import load_settings
    from toolkit.query import find_query, load_store, run_query

    settings = load_settings()
    store = load_store(settings)
    q = find_query("policies-in-force", settings.root / "queries")
    result = run_query(store, q.text, {"date": "2025-12-31"}, declared=q.params, base_iri=settings.base_iri)
    for row in result.records():
        print(row["document_zh"], row["in_force_from"], row["in_force_until"])
"""

from __future__ import annotations

from pathlib import Path

from toolkit.config import Settings
from toolkit.query.engine import PARAM_TYPES, Param, Result, bind, check_syntax, run_query, to_term
from toolkit.query.formats import OutputFormat, default_format, serialize, table
from toolkit.query.saved import SavedQuery, find_query, read_query, saved_queries
from toolkit.query.store import load_store, release_base_iri, release_prefixes

QUERIES_DIR = "queries"


def queries_dir(settings: Settings) -> Path:
    """The project's folder of saved queries."""
    return settings.root / QUERIES_DIR


__all__ = [
    "PARAM_TYPES",
    "QUERIES_DIR",
    "OutputFormat",
    "Param",
    "Result",
    "SavedQuery",
    "bind",
    "check_syntax",
    "default_format",
    "find_query",
    "load_store",
    "queries_dir",
    "read_query",
    "release_base_iri",
    "release_prefixes",
    "run_query",
    "saved_queries",
    "serialize",
    "table",
    "to_term",
]
