"""The W3C SHACL suite (core and SPARQL) through the fast build's call: data as N-Triples bytes.

The build hands the default engine the sources' N-Triples lines, not an rdflib graph; blank
nodes then come back through the engine's relabelling (``toolkit/validate/shacl/rust_engine.py``).
Every test must give the same verdict this way as through the graph path
(``tests/hardening/test_w3c_shacl.py``), and pass except where that module names the reason.
"""

from __future__ import annotations

import pytest
from conftest import SHARED

from toolkit.validate.w3c import SUITE_MISSING, W3CTest, load_suite, run_test, verdict

SUITE = SHARED / "external" / "shacl-test-suite" / "tests"
pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=SUITE_MISSING)

TESTS: list[W3CTest] = load_suite(SUITE / "manifest.ttl", SUITE) if SUITE.is_dir() else []
KNOWN = {"sparql/pre-binding/unsupported-sparql-004"}  # named with its reason in tests/hardening


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_test_as_ntriples_gives_the_graph_paths_verdict() -> None:
    failed = []
    blank = 0
    for t in TESTS:
        as_lines = verdict(t, run_test(t, ntriples=True))
        assert as_lines == verdict(t, run_test(t)), t.name
        failed += [t.name] if as_lines else []
        blank += "_:" in t.data.read_text(encoding="utf-8") or "[" in t.data.read_text(encoding="utf-8")
    assert set(failed) == KNOWN
    assert len(TESTS) == 120 and blank > 10  # blank nodes in the data were exercised
