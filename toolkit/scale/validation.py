"""The fast SHACL validator as the toolkit uses it: N-Triples lines in, typed results out.

The data graph is the data mixed with the ontology (as pyshacl's ``ont_graph`` does), loaded
into a pyoxigraph store; :mod:`toolkit.scale.shacl` answers the shapes it compiles and pyshacl
the node shapes it cannot (each alone, on the same mixed graph). Results carry what the naive
validator's carry (focus and its label, path, value, message, component, shape, file and line),
and the raw report graph has the triples pyshacl would write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from toolkit.report import Severity, ValidationResult
from toolkit.scale.shacl import FastValidator, RawResult
from toolkit.validate.shacl import _label, _short, shacl_results

_PARAM = {
    "ClassConstraintComponent": SH["class"],
    "DatatypeConstraintComponent": SH.datatype,
    "NodeKindConstraintComponent": SH.nodeKind,
    "MinCountConstraintComponent": SH.minCount,
    "MaxCountConstraintComponent": SH.maxCount,
    "LanguageInConstraintComponent": SH.languageIn,
    "UniqueLangConstraintComponent": SH.uniqueLang,
    "OrConstraintComponent": SH["or"],
    "QualifiedMinCountConstraintComponent": SH.qualifiedValueShape,
    "QualifiedMaxCountConstraintComponent": SH.qualifiedValueShape,
}


class _Messages:
    """pyshacl's own message code, asked for one result at a time."""

    def __init__(self, shapes: Graph, data_namespaces: Graph) -> None:
        from pyshacl.shapes_graph import ShapesGraph

        self.sg = ShapesGraph(shapes)
        _ = self.sg.shapes  # builds pyshacl's node -> shape cache
        self.data = data_namespaces
        self._components: dict[tuple[Any, Any], Any] = {}

    def __call__(self, r: RawResult) -> list[str]:
        if r.messages is not None:
            return r.messages
        shape = self.sg.lookup_shape_from_node(r.shape)
        own = [str(m) for m in shape.message]
        if own:
            return own
        from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP

        param = _PARAM[r.component]
        key = (r.shape, param)
        if key not in self._components:
            self._components[key] = CONSTRAINT_PARAMETERS_MAP[param](shape)
        comp = self._components[key]
        focus = _to_rdflib(r.focus)
        value = _to_rdflib(r.value)
        return [str(m) for m in comp.make_generic_messages(self.data, focus, value)]


def _to_rdflib(term: Any) -> Any:
    from toolkit.scale.shacl import _to_rdflib as conv

    if term is None or isinstance(term, (URIRef, Literal, BNode)):
        return term
    return conv(term)


def store_of(ntriples: bytes, extra: Iterable[Graph] = ()) -> ox.Store:
    store = ox.Store()
    if ntriples:
        store.bulk_load(ntriples, ox.RdfFormat.N_TRIPLES)
    for g in extra:
        data = g.serialize(format="nt", encoding="utf-8")
        if data.strip():
            store.bulk_load(data, ox.RdfFormat.N_TRIPLES)
    return store


def _sub_shapes(shapes: Graph, roots: list[Any]) -> Graph:
    """The triples of ``roots`` and everything reachable from them (property shapes, lists)."""
    out = Graph()
    for prefix, ns in shapes.namespaces():
        out.bind(prefix, ns, override=True, replace=True)
    todo = list(roots)
    seen: set[Any] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in shapes.predicate_objects(node):
            out.add((node, p, o))
            if isinstance(o, (BNode, URIRef)) and p != RDF.type:
                todo.append(o)
    return out


def validate_lines(
    ntriples: bytes,
    shapes: Graph,
    ontology: Graph,
    data_namespaces: Graph,
    *,
    locate: dict[str, tuple[str, int]] | None = None,
    store: ox.Store | None = None,
    validator: str = "shacl",
    lines: Iterable[str] | None = None,
    fallback_data: Callable[[], Graph] | None = None,
) -> tuple[list[ValidationResult], Graph]:
    """Validate N-Triples data (mixed with ``ontology``) against ``shapes``.

    ``data_namespaces`` is a graph carrying the data graph's prefixes (pyshacl's messages and
    result paths use them). Returns the results and the SHACL report graph.
    """
    locate = locate or {}
    store = store if store is not None else store_of(ntriples, [ontology])
    blank_nodes = False
    if lines is None:
        lines = [ln for ln in ntriples.decode("utf-8").split("\n") if ln.strip()]
    if isinstance(lines, list):
        blank_nodes = any(ln.startswith("_:") or " _:" in ln for ln in lines)
    raw, fallback = FastValidator(shapes, lines=lines, blank_nodes=blank_nodes).run(store)
    messages = _Messages(shapes, data_namespaces)
    report = Graph()
    for prefix, ns in shapes.namespaces():
        report.bind(prefix, ns, override=False)
    out: list[ValidationResult] = []
    labels = _Labels(store)
    for r in raw:
        focus = _to_rdflib(r.focus)
        value = _to_rdflib(r.value)
        path = _to_rdflib(r.path)
        msgs = sorted(messages(r))
        severity = Severity.from_iri(r.severity)
        node = BNode()
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.sourceConstraintComponent, SH[r.component]))
        report.add((node, SH.sourceShape, r.shape))
        report.add((node, SH.resultSeverity, URIRef(r.severity)))
        report.add((node, SH.focusNode, focus))
        if value is not None:
            report.add((node, SH.value, value))
        if path is not None:
            report.add((node, SH.resultPath, path))
        if r.source_constraint is not None:
            report.add((node, SH.sourceConstraint, r.source_constraint))
        for m in msgs:
            report.add((node, SH.resultMessage, Literal(m)))
        file, line = locate.get(str(focus), (None, None))
        out.append(
            ValidationResult(
                validator=validator,
                message=msgs[0] if msgs else "constraint violated",
                severity=severity,
                severity_iri=None if r.severity == severity.iri else r.severity,
                focus_node=str(focus),
                focus_label=labels(focus),
                path=_short(shapes, path) if not isinstance(path, Literal) else str(path),
                value=None if value is None else str(value),
                source_file=file,
                line=line,
                constraint=_short(shapes, SH[r.component]),
                shape=_short(shapes, r.shape),
            )
        )
    if fallback:
        data = fallback_data() if fallback_data is not None else Graph()
        if fallback_data is None and ntriples:
            data.parse(data=ntriples, format="nt")
        for prefix, ns in data_namespaces.namespaces():
            data.bind(prefix, ns, override=True, replace=True)
        more, more_raw = shacl_results(data, _sub_shapes(shapes, fallback), ontology, locate)
        out.extend(ValidationResult(**{**r.to_dict(), "severity": r.severity, "validator": validator}) for r in more)
        for t in more_raw:
            if t[1] in (SH.conforms,) or (t[1] == RDF.type and t[2] == SH.ValidationReport):
                continue
            report.add(t)
    conforms = not any(r.severity is Severity.VIOLATION for r in out)
    top = BNode()
    report.add((top, RDF.type, SH.ValidationReport))
    report.add((top, SH.conforms, Literal(conforms)))
    for node in list(report.subjects(RDF.type, SH.ValidationResult)):
        report.add((top, SH.result, node))
    return out, report


class _Labels:
    """The label the naive validator shows with a focus node: zh, then en, then untagged."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def __call__(self, node: Any) -> str | None:
        if not isinstance(node, URIRef):
            return None
        g = Graph()
        for q in self.store.quads_for_pattern(
            ox.NamedNode(str(node)), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None
        ):
            g.add((node, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), _to_rdflib(q.object)))
        return _label(g, node)
