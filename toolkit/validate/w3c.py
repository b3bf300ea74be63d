"""Run the W3C SHACL test suite against the toolkit's own SHACL entry point.

The suite (https://github.com/w3c/data-shapes, ``data-shapes-test-suite/tests``) is a tree of
``mf:Manifest`` files: ``mf:include`` links manifests, ``mf:entries`` lists the tests. Each
``sht:Validate`` test names a data graph and a shapes graph in ``mf:action`` (mostly ``<>``, the
test file itself) and the expected ``sh:ValidationReport`` in ``mf:result``, or ``sht:Failure``
when a conforming processor must refuse the shapes.

Like the W3C harnesses, a report is compared on ``sh:conforms`` and on the multiset of results,
each reduced to (focusNode, resultPath, sourceConstraintComponent, resultSeverity, value);
messages and ``sh:sourceShape`` are not compared. Blank nodes cannot be compared by label
across graphs, so a blank node is replaced by its description: the set of its (predicate,
object) pairs, objects described the same way, in the graph that holds it (the data graph for
focus nodes and values; the report, or the test file for the expected report, for paths). That
compares blank-node paths structurally (lists included) and blank focus nodes up to their
outgoing neighbourhood.

The graphs are validated with :func:`toolkit.validate.shacl.validate_data`, exactly as the
toolkit validates its data, with the default engine or the one named.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDFS, SH

from toolkit.validate.shacl import Data, Engine, validate_data
from toolkit.validate.shacl.engine import as_ntriples, exact_literals

#: why the suite's tests skip where it is absent (one reason, for every test module that runs it)
SUITE_MISSING = (
    "the W3C SHACL test suite is external data, expected in ../shared/external/shacl-test-suite "
    "(from https://github.com/w3c/data-shapes, see ../shared/external/README.md); CI has it"
)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")

#: a reduced validation result: (focusNode, resultPath, sourceConstraintComponent, severity, value)
ResultKey = tuple[Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class W3CTest:
    name: str  # the test file's path below the suite folder, without .ttl, and the test's local name
    iri: URIRef
    label: str
    status: str
    file: Path
    data: Path
    shapes: Path
    expects_failure: bool
    expected_conforms: bool | None
    expected: Counter[ResultKey]


@dataclass(frozen=True)
class W3CRun:
    conforms: bool | None
    results: Counter[ResultKey]
    error: BaseException | None = None


def _path(uri: object) -> Path:
    return Path(unquote(urlparse(str(uri)).path))


def parse_graph(path: Path, cache: dict[Path, Graph]) -> Graph:
    if path not in cache:
        g = Graph()
        with exact_literals():
            g.parse(path, format="turtle", publicID=path.resolve().as_uri())
        cache[path] = g
    return cache[path]


def describe(term: Any, graph: Graph, depth: int = 8) -> Any:
    """A label-free stand-in for a blank node: its outgoing arcs, recursively (depth-limited)."""
    if not isinstance(term, BNode):
        return term
    if depth == 0:
        return ("_:", "...")
    return ("_:", frozenset((p, describe(o, graph, depth - 1)) for p, o in graph.predicate_objects(term)))


def result_keys(report: Graph, data: Graph) -> Counter[ResultKey]:
    """The reduced results of a report graph; blank nodes described in ``data`` or ``report``."""
    out: Counter[ResultKey] = Counter()
    # only the report's own sh:result values: nested sh:detail results are not compared
    for res in report.objects(next(report.subjects(RDF.type, SH.ValidationReport), None), SH.result):

        def one(prop: URIRef, where: Graph, res: Any = res) -> Any:
            return describe(report.value(res, prop), where)

        out[
            (
                one(SH.focusNode, data),
                one(SH.resultPath, report),
                one(SH.sourceConstraintComponent, report),
                one(SH.resultSeverity, report),
                one(SH.value, data),
            )
        ] += 1
    return out


def _manifest_files(manifest: Path, seen: set[Path]) -> list[Path]:
    manifest = manifest.resolve()
    if manifest in seen:
        return []
    seen.add(manifest)
    g = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    out = [manifest]
    for inc in sorted(g.objects(None, MF.include), key=str):
        out += _manifest_files(_path(inc), seen)
    return out


def load_suite(manifest: Path, root: Path | None = None) -> list[W3CTest]:
    """Every ``sht:Validate`` test reachable from ``manifest`` through ``mf:include``."""
    root = (root or manifest.parent).resolve()
    cache: dict[Path, Graph] = {}
    tests: list[W3CTest] = []
    for file in _manifest_files(manifest, set()):
        g = parse_graph(file, cache)
        for entries in g.objects(None, MF.entries):
            for test in Collection(g, entries):
                if (test, RDF.type, SHT.Validate) not in g:
                    continue
                action = g.value(test, MF.action)
                result = g.value(test, MF.result)
                data, shapes = _path(g.value(action, SHT.dataGraph)), _path(g.value(action, SHT.shapesGraph))
                rel = file.relative_to(root).with_suffix("").as_posix()
                local = str(test).rsplit("/", 1)[-1].rsplit("#", 1)[-1]
                expected: Counter[ResultKey] = Counter()
                conforms = None
                if result != SHT.Failure:
                    conforms = _boolean(g.value(result, SH.conforms))
                    expected = _expected_keys(g, result, parse_graph(data, cache))
                tests.append(
                    W3CTest(
                        name=rel if local == Path(rel).name else f"{rel}#{local}",
                        iri=URIRef(test),
                        label=str(g.value(test, RDFS.label) or ""),
                        status=str(g.value(test, MF.status) or "").rsplit("#", 1)[-1],
                        file=file,
                        data=data,
                        shapes=shapes,
                        expects_failure=result == SHT.Failure,
                        expected_conforms=conforms,
                        expected=expected,
                    )
                )
    return sorted(tests, key=lambda t: t.name)


def _boolean(lit: object) -> bool | None:
    return bool(lit.toPython()) if isinstance(lit, Literal) else None


def _expected_keys(test_graph: Graph, result: Any, data: Graph) -> Counter[ResultKey]:
    """The expected report's results: its own blank nodes (paths) are described in the test file."""
    out: Counter[ResultKey] = Counter()
    for res in test_graph.objects(result, SH.result):
        out[
            (
                describe(test_graph.value(res, SH.focusNode), data),
                describe(test_graph.value(res, SH.resultPath), test_graph),
                describe(test_graph.value(res, SH.sourceConstraintComponent), test_graph),
                describe(test_graph.value(res, SH.resultSeverity), test_graph),
                describe(test_graph.value(res, SH.value), data),
            )
        ] += 1
    return out


def run_test(test: W3CTest, engine: str | Engine | None = None, *, ntriples: bool = False) -> W3CRun:
    """Validate the test's data graph against its shapes graph with the toolkit's entry point;
    ``ntriples``: hand the data over as N-Triples bytes, as the fast build does."""
    cache: dict[Path, Graph] = {}
    data = parse_graph(test.data, cache)
    shapes = parse_graph(test.shapes, cache)
    try:
        given: Data = as_ntriples(data) if ntriples else data
        _results, report = validate_data(given, shapes, engine=engine)
    except Exception as exc:  # a processor may refuse shapes it does not support (sht:Failure)
        return W3CRun(conforms=None, results=Counter(), error=exc)
    node = next(report.subjects(RDF.type, SH.ValidationReport), None)
    return W3CRun(conforms=_boolean(report.value(node, SH.conforms)), results=result_keys(report, data))


def verdict(test: W3CTest, run: W3CRun) -> list[str]:
    """What differs between the run and the expected report (empty when the test passes)."""
    if test.expects_failure:
        return [] if run.error is not None else ["expected the processor to refuse the shapes (sht:Failure)"]
    if run.error is not None:
        return [f"error: {type(run.error).__name__}: {run.error}"]
    problems = []
    if run.conforms != test.expected_conforms:
        problems.append(f"sh:conforms {run.conforms}, expected {test.expected_conforms}")
    missing = test.expected - run.results
    extra = run.results - test.expected
    problems += [f"missing result {k}" for k in sorted(map(repr, missing.elements()))]
    problems += [f"unexpected result {k}" for k in sorted(map(repr, extra.elements()))]
    return problems
