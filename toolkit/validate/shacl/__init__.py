"""SHACL validation behind one engine interface: a fast default, pyshacl as the reference.

``ENGINES`` holds the engines by name: ``shacl`` (the default, :mod:`.rust_engine`) and
``pyshacl`` (:mod:`.pyshacl_engine`, the reference and the tests' oracle). Everything that
validates with SHACL (the build, the incremental rebuild, ``validate``, the DCAT-AP check, the
W3C suite) calls :func:`validate_data`; the report it returns is the same whichever engine
ran (:mod:`.results`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pyparsing import ParseException
from pyshacl.errors import ReportableRuntimeError
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from toolkit.errors import LoadError, UsageError
from toolkit.filememo import while_unchanged
from toolkit.query.guard import names_dataset, uses_service
from toolkit.report import ValidationReport, ValidationResult
from toolkit.schema.model import Model
from toolkit.validate.base import ValidationContext
from toolkit.validate.rdfinput import read_rdf_file
from toolkit.validate.shacl.engine import Data, Engine, as_graph, as_ntriples, exact_literals
from toolkit.validate.shacl.literals import mark_graph, mark_ntriples, mark_ntriples_file, unmark
from toolkit.validate.shacl.pyshacl_engine import PyshaclEngine
from toolkit.validate.shacl.results import label_of, normalise, report_turtle, short, to_results
from toolkit.validate.shacl.rust_engine import EngineError, RustEngine

ENGINES: dict[str, Callable[[], Engine]] = {"shacl": RustEngine, "pyshacl": PyshaclEngine}
DEFAULT_ENGINE = "shacl"
#: the environment variable that chooses the engine when the caller does not
ENGINE_ENV = "POLICY_TOOLKIT_SHACL_ENGINE"
_made: dict[str, Engine] = {}


def get_engine(name: str | None = None) -> Engine:
    """The engine called ``name`` (default: $POLICY_TOOLKIT_SHACL_ENGINE, else ``shacl``)."""
    name = name or os.environ.get(ENGINE_ENV) or DEFAULT_ENGINE
    if name not in ENGINES:
        raise UsageError(f"unknown SHACL engine {name!r}", hint=f"use one of {', '.join(sorted(ENGINES))}")
    if name not in _made:
        _made[name] = ENGINES[name]()
    return _made[name]


def load_schema_graph(path: Path) -> Graph:
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}", file=path) from None
    except Exception as exc:  # rdflib raises many parser-specific types for bad syntax
        raise LoadError(f"cannot parse: {exc}", file=path) from None
    return g


def schema_graph(path: Path) -> Graph:
    """A schema file's graph (shapes, ontology), parsed once per process while the file is
    unchanged (:func:`toolkit.filememo.while_unchanged`): a full build reads the shapes for the
    validation and again for the locality check of its state, and a process that validates
    again (the library, ``serve``, the draft loop) would parse them each time. Read-only."""
    return while_unchanged(path, load_schema_graph, path)


_LABEL = f"> <{RDFS.label}> ".encode()


def _labels_from(data: Data) -> Callable[[object], str | None]:
    if isinstance(data, Graph):
        return lambda node: label_of(data, node)
    source = data
    index: dict[bytes, list[bytes]] = {}

    def labels(node: object) -> str | None:
        if not isinstance(node, URIRef):
            return None
        if not index:  # the label lines by subject, once a result asks; only the asked are parsed
            index[b""] = []
            data = as_ntriples(source)  # a file is read only if a result asks
            at = data.find(_LABEL)
            while at != -1:
                start = data.rfind(b"\n", 0, at) + 1
                end = data.find(b"\n", at)
                end = len(data) if end == -1 else end
                index.setdefault(data[start : at + 1], []).append(data[start:end])
                at = data.find(_LABEL, end)
        lines = index.get(f"<{node}>".encode(), [])
        g = Graph()
        if lines:
            with exact_literals():
                g.parse(data=b"\n".join(lines) + b"\n", format="nt")
        return label_of(g, node)

    return labels


def validate_data(
    data: Data,
    shapes: Graph,
    ontology: Graph | None = None,
    *,
    engine: str | Engine | None = None,
    data_namespaces: Graph | None = None,
    locate: dict[str, tuple[str, int]] | None = None,
    validator: str = "shacl",
) -> tuple[list[ValidationResult], Graph]:
    """Validate ``data`` (mixed with ``ontology``) against ``shapes``: the results and the report.

    ``data_namespaces`` carries the prefixes messages use (default: the data graph's). If the
    default engine cannot map its report back onto the data, pyshacl validates instead.
    """
    chosen = engine if engine is not None and not isinstance(engine, str) else get_engine(engine)
    with exact_literals():
        if isinstance(data, Graph):
            marked: Data = mark_graph(data)
        else:
            marked = mark_ntriples_file(data) if isinstance(data, Path) else mark_ntriples(data)
        try:
            try:
                raw = chosen.validate(marked, shapes, ontology)
            except EngineError:
                raw = get_engine("pyshacl").validate(marked, shapes, ontology)
        except (
            ValueError,
            ReportableRuntimeError,
            ParseException,
        ) as exc:  # the engines' word for shapes they cannot run
            raise LoadError(f"the shapes cannot be evaluated: {' '.join(str(exc).split())[:300]}") from None
        finally:
            if isinstance(marked, Path) and marked != data:  # the marked copy beside a file
                marked.unlink(missing_ok=True)
        unmark(raw)
    if data_namespaces is None:
        data_namespaces = data if isinstance(data, Graph) else Graph()
    report = normalise(raw, shapes, data_namespaces)
    return to_results(report, shapes, _labels_from(data), locate, validator), report


#: the SHACL-SPARQL properties whose values are SPARQL text an engine runs
SPARQL_TEXT = (SH.select, SH.ask, SH.construct, SH.update)


def refuse_network_sparql(shapes: Graph, path: Path) -> None:
    """LoadError (exit 2) when a shapes file's SPARQL would reach the network.

    Why: both engines evaluate SHACL-SPARQL, and a ``SERVICE <http://...>`` in a constraint
    makes them send a request to any host it names (pyshacl through rdflib's SPARQL, which also
    loads ``FROM <iri>`` graphs). A file a user points the toolkit at must not reach the
    network, so such shapes are refused before any engine runs, with the same parse that
    guards ``query`` (:func:`toolkit.query.guard.uses_service`).
    """
    for prop in SPARQL_TEXT:
        for node, text in shapes.subject_objects(prop):
            if not isinstance(text, Literal):
                continue
            body = str(text)
            if uses_service(body) or names_dataset(body):
                owner = next(shapes.subjects(SH.sparql, node), node)
                raise LoadError(
                    f"a SPARQL constraint of {owner.n3()} uses SERVICE or FROM, which would reach the network",
                    file=path,
                    hint="validation runs offline: remove the SERVICE/FROM clause from the shapes",
                )


def shacl_results(
    data: Graph,
    shapes: Graph,
    ontology: Graph,
    locate: dict[str, tuple[str, int]] | None = None,
    engine: str | Engine | None = None,
) -> tuple[list[ValidationResult], Graph]:
    """:func:`validate_data` on an rdflib graph (the naive path's and ``validate``'s call)."""
    return validate_data(data, shapes, ontology, engine=engine, locate=locate)


class ShaclValidator:
    """The project's shapes (or ``shapes``/``ontology`` files given) on the context's graph."""

    name = "shacl"

    def __init__(self, engine: str | None = None, shapes: Path | None = None, ontology: Path | None = None) -> None:
        self.engine = engine
        self.shapes = shapes
        self.ontology = ontology

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        if ctx.graph is None:
            return
        schema = ctx.settings.schema_dir
        # a user's files are read as any RDF input is (formats, size caps, no DTDs)
        with exact_literals():
            shapes = read_rdf_file(self.shapes, ctx.settings) if self.shapes else None
            ontology = read_rdf_file(self.ontology, ctx.settings) if self.ontology else None
        if shapes is not None and self.shapes is not None:
            refuse_network_sparql(shapes, self.shapes)
        if shapes is None:
            shapes = schema_graph(schema / "shapes.ttl")
            ontology = ontology if ontology is not None else schema_graph(schema / "ontology.ttl")
        locate: dict[str, tuple[str, int]] = {}
        if ctx.corpus is not None:
            root = ctx.settings.root
            for ent in ctx.corpus.entities.values():
                try:
                    rel = str(ent.file.relative_to(root))
                except ValueError:
                    rel = str(ent.file)
                node = ctx.settings.base_iri + ent.id
                locate[node] = (rel, ent.line)
                locate.update(property_lines(node, rel, ent.lines, ctx.model))
        try:
            results, raw = shacl_results(ctx.graph, shapes, ontology, locate, engine=self.engine)
        except LoadError as exc:
            raise LoadError(exc.message, file=self.shapes or exc.file, hint=exc.hint) from None
        report.extend(results)
        report.raw_graphs[self.name] = raw


def property_lines(node: str, rel: str, lines: dict[str, int], model: Model) -> dict[str, tuple[str, int]]:
    """``"<node> <property IRI>"`` -> (file, line) for each property a facts file wrote: a shape's
    problem with a property is shown on that property's line, not on the entity's ``- id:``."""
    return {f"{node} {model.properties[k].iri}": (rel, n) for k, n in lines.items() if k in model.properties}


__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_ENV",
    "Data",
    "Engine",
    "ShaclValidator",
    "as_graph",
    "get_engine",
    "label_of",
    "load_schema_graph",
    "property_lines",
    "report_turtle",
    "schema_graph",
    "shacl_results",
    "short",
    "validate_data",
]
