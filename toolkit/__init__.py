"""policy-toolkit: publish the facts of policy news as validated linked open data.

The pipeline runs sources -> graph -> validate -> export -> publish; each stage is a
subpackage and never imports a later one (``tests/test_import_rules.py`` checks it). Python
users call the functions re-exported here; the Typer CLI in :mod:`toolkit.cli` is a thin
layer over them::

    import toolkit

    settings = toolkit.load_settings()
    release = toolkit.build_release(settings)        # raises toolkit.DataError when invalid
    store = toolkit.load_store(settings)
    query = toolkit.find_query("policies-in-force", settings.root / "queries")
    result = toolkit.run_query(store, query.text, {"date": "2025-12-31"}, declared=query.params,
                               base_iri=settings.base_iri)

The error classes are imported at once (they cost nothing). Everything else is imported on
first use (PEP 562 ``__getattr__``): importing the pipeline eagerly takes about 1.3-2.3 s
(rdflib, pyshacl, pyld, pyoxigraph, pandas), measured with ``python -X importtime``, and every
``import toolkit.<anything>`` (the CLI's ``--version`` included) imports this package first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from toolkit.errors import (
    DataError,
    Interrupted,
    LoadError,
    NoSpace,
    PortalError,
    PortalUnavailable,
    PublishError,
    ReleaseMismatch,
    ReleaseRefused,
    ToolkitError,
    UsageError,
)

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ imports these
    from toolkit.build import build_release
    from toolkit.config import Settings, load_settings
    from toolkit.publish import Release, release_info
    from toolkit.query import Result, SavedQuery, find_query, load_store, run_query, saved_queries
    from toolkit.tables import read_table
    from toolkit.validate import Outcome, validate_rdf, validate_sources

__version__ = "0.1.0"

#: name -> the public module that defines it, imported on first access
_LAZY = {
    "Settings": "toolkit.config",
    "load_settings": "toolkit.config",
    "Outcome": "toolkit.validate",
    "validate_sources": "toolkit.validate",
    "validate_rdf": "toolkit.validate",
    "Release": "toolkit.publish",
    "build_release": "toolkit.build",
    "release_info": "toolkit.publish",
    "Result": "toolkit.query",
    "SavedQuery": "toolkit.query",
    "find_query": "toolkit.query",
    "load_store": "toolkit.query",
    "run_query": "toolkit.query",
    "saved_queries": "toolkit.query",
    "read_table": "toolkit.tables",
}

__all__ = [
    "DataError",
    "Interrupted",
    "LoadError",
    "NoSpace",
    "Outcome",
    "PortalError",
    "PortalUnavailable",
    "PublishError",
    "Release",
    "ReleaseMismatch",
    "ReleaseRefused",
    "Result",
    "SavedQuery",
    "Settings",
    "ToolkitError",
    "UsageError",
    "__version__",
    "build_release",
    "find_query",
    "load_settings",
    "load_store",
    "read_table",
    "release_info",
    "run_query",
    "saved_queries",
    "validate_rdf",
    "validate_sources",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
