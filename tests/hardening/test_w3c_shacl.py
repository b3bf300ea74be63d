"""The W3C SHACL test suite (core and SPARQL) against the toolkit's SHACL entry point (issues 5, 12).

Every ``sht:Validate`` test reachable from the suite's root manifest becomes one pytest case:
its data graph is validated against its shapes graph with
``toolkit.validate.shacl.validate_data`` and the default engine (the path the build takes) and the
report is compared with the expected one on ``sh:conforms`` and on the multiset of
(focusNode, resultPath, sourceConstraintComponent, resultSeverity, value); blank nodes are
compared by their description (see ``toolkit/validate/w3c.py``). Tests that must fail
(``sht:Failure``) pass when the entry point refuses the shapes.

Known failures are listed by name in EXPECTED_FAILURES with the reason and run as strict
xfails: a fix makes them fail loudly until the entry is removed. The suite is third-party data
in ``../shared/external/shacl-test-suite`` (read-only, see its README).
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SHARED
from rdflib import Graph, URIRef

from toolkit.validate.w3c import SHT, SUITE_MISSING, W3CRun, W3CTest, load_suite, run_test, verdict

SUITE = SHARED / "external" / "shacl-test-suite" / "tests"
pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=SUITE_MISSING)

#: the default engine (`shacl` 0.3.4): 119 of 120
EXPECTED_FAILURES = {
    "sparql/pre-binding/unsupported-sparql-004": (
        "shacl 0.3.4: a SELECT whose sub-query does not project the pre-bound $this must be refused "
        "(sht:Failure); the engine runs it instead"
    ),
}

#: test files in the suite folder that no manifest includes: W3C harnesses do not run them either
NOT_IN_MANIFESTS = {
    "sparql/component/nodeValidator-001": "upstream sparql/component/manifest.ttl does not include this file",
}


@contextmanager
def quiet() -> Iterator[None]:
    """rdflib warns about, and logs, every ill-typed literal the suite contains on purpose."""
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Parsing weird boolean", UserWarning)
            yield
    finally:
        logging.disable(logging.NOTSET)


with quiet():
    TESTS: list[W3CTest] = load_suite(SUITE / "manifest.ttl", SUITE) if SUITE.is_dir() else []
_RUNS: dict[str, W3CRun] = {}


def run_of(test: W3CTest, engine: str | None = None) -> W3CRun:
    key = f"{engine}:{test.name}"
    if key not in _RUNS:
        with quiet():
            _RUNS[key] = run_test(test, engine)
    return _RUNS[key]


def test_the_suite_is_there_and_every_test_is_reached() -> None:
    """Each test declared in any file of the suite is reached through the manifests, once."""
    assert SUITE.is_dir(), f"W3C SHACL test suite missing at {SUITE}"
    declared: dict[URIRef, str] = {}
    for ttl in SUITE.rglob("*.ttl"):
        with quiet():
            g = Graph().parse(ttl, format="turtle", publicID=ttl.resolve().as_uri())
        name = ttl.relative_to(SUITE).with_suffix("").as_posix()
        declared |= {URIRef(t): name for t in g.subjects(None, SHT.Validate)}
    reached = {t.iri for t in TESTS}
    assert reached <= set(declared)
    assert {declared[iri] for iri in set(declared) - reached} == set(NOT_IN_MANIFESTS)
    assert len({t.name for t in TESTS}) == len(TESTS)
    assert set(EXPECTED_FAILURES) <= {t.name for t in TESTS}, "an expected failure names no test"
    # the expected reports were read: a non-conforming report has results, a conforming one none
    for t in TESTS:
        assert t.expects_failure or (t.expected_conforms is not None and bool(t.expected) != t.expected_conforms), (
            t.name
        )


@pytest.mark.parametrize(
    "test",
    [
        pytest.param(
            t,
            id=t.name,
            marks=[pytest.mark.xfail(strict=True, reason=EXPECTED_FAILURES[t.name])]
            if t.name in EXPECTED_FAILURES
            else [],
        )
        for t in TESTS
    ],
)
def test_w3c_shacl(test: W3CTest) -> None:
    problems = verdict(test, run_of(test))
    assert not problems, f"{test.name} ({test.label}):\n  " + "\n  ".join(problems)


def test_the_comparison_notices_a_wrong_report() -> None:
    """The harness is not vacuous: a report compared with another test's expectation fails."""
    with_results = [t for t in TESTS if t.expected and t.name not in EXPECTED_FAILURES]
    assert with_results
    a, b = with_results[0], with_results[1]
    assert verdict(a, run_of(a)) == []
    assert verdict(b, run_of(a)), "a's report passed as b's"
    dropped = W3CTest(**{**a.__dict__, "expected": a.expected - Counter({next(iter(a.expected)): 1})})
    assert any(p.startswith("unexpected result") for p in verdict(dropped, run_of(a)))
    flipped = W3CTest(**{**a.__dict__, "expected_conforms": not a.expected_conforms})
    assert any(p.startswith("sh:conforms") for p in verdict(flipped, run_of(a)))


def test_w3c_totals() -> None:
    totals: Counter[str] = Counter()
    for t in TESTS:
        failed = bool(verdict(t, run_of(t)))
        expected = t.name in EXPECTED_FAILURES
        totals[
            {(False, False): "passed", (True, True): "xfail", (True, False): "FAILED", (False, True): "XPASS"}[
                (failed, expected)
            ]
        ] += 1
        totals[f"{Path(t.name).parts[0]} tests"] += 1
    summary = f"W3C SHACL suite: {len(TESTS)} tests; {dict(sorted(totals.items()))}; expected failures: " + ", ".join(
        sorted(EXPECTED_FAILURES)
    )
    print(summary)
    assert totals["passed"] + totals["xfail"] == len(TESTS), summary
    assert totals["passed"] >= 118, summary


#: the reference engine, pyshacl, through the same entry point: 118 of 120
PYSHACL_FAILURES = {
    "core/property/uniqueLang-002": (
        'pyshacl: sh:uniqueLang "1"^^xsd:boolean is treated as true; the specification only activates the '
        "constraint for the value true, so the data must conform"
    ),
    "sparql/pre-binding/shapesGraph-001": (
        "pyshacl: the pre-bound variable $shapesGraph is not supported (NotImplementedError)"
    ),
}


@pytest.mark.parametrize(
    "test", [t for t in TESTS if t.name in PYSHACL_FAILURES or t.name in EXPECTED_FAILURES], ids=str
)
def test_the_engines_differ_only_where_named(test: W3CTest) -> None:
    """Where one engine fails a test, the other passes it (so the reference stays a reference)."""
    default, reference = verdict(test, run_of(test)), verdict(test, run_of(test, "pyshacl"))
    assert bool(default) == (test.name in EXPECTED_FAILURES)
    assert bool(reference) == (test.name in PYSHACL_FAILURES)
