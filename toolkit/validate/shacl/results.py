"""A SHACL report graph from any engine → the toolkit's results, with messages from the components.

Why here and not in each engine: the messages, the labels and the report graph the release
publishes must be the same whichever engine ran. So every engine's report is rebuilt the
same way: the results under ``sh:result`` (nested ``sh:detail`` results stay nested, under
their parent), each with the messages SHACL's own rule gives (as pyshacl and LinkML do): the
shape's ``sh:message``; else, for a SPARQL-based constraint, its ``sh:message`` with ``{$this}``,
``{?value}`` and ``{?path}`` filled in; else the constraint component's generic message, made by
pyshacl's message code for that component.
"""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
from pyshacl.shapes_graph import ShapesGraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from toolkit.report import Severity, ValidationResult
from toolkit.validate.shacl.literals import well_formed

#: constraint component IRI -> pyshacl's class for it (the source of the generic messages)
_COMPONENTS = {cls.shacl_constraint_component: cls for cls in CONSTRAINT_PARAMETERS_MAP.values()}
_COPIED = (RDF.type, SH.focusNode, SH.value, SH.resultSeverity, SH.sourceConstraintComponent, SH.sourceShape)
_COPIED += (SH.sourceConstraint,)
_VAR = re.compile(r"\{[?$](\w+)\}")


def short(g: Graph, term: object) -> str | None:
    """A term as a person reads it: ``prefix:local`` with the prefixes of ``g``, else as is."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        try:
            prefix, _, local = g.namespace_manager.compute_qname(str(term), generate=False)
            return f"{prefix}:{local}"
        except (ValueError, KeyError):
            return str(term)
    return str(term)


def label_of(data: Graph, node: object) -> str | None:
    """The label shown with a focus node: zh, then en, then untagged."""
    labels = sorted(data.objects(node, RDFS.label))  # type: ignore[arg-type]
    for lang in ("zh", "en", None):
        for lab in labels:
            if isinstance(lab, Literal) and lab.language == lang:
                return str(lab)
    return None


def shape_name(shapes: Graph, node: object) -> str | None:
    """A shape as a person reads it, the same on every run: a blank property shape is named by
    the shape holding it and its path (``ex:S [sh:path ex:p]``), not by a blank node label."""
    if not isinstance(node, BNode):
        return short(shapes, node)
    path = shapes.value(node, SH.path)
    parent = shapes.value(None, SH.property, node)
    inner = f"[sh:path {short(shapes, path)}]" if isinstance(path, URIRef) else "[]"
    return inner if parent is None else f"{shape_name(shapes, parent)} {inner}"


class Messages:
    """The messages of one result, from its shape and constraint component (engine-independent)."""

    def __init__(self, shapes: Graph, data_namespaces: Graph) -> None:
        self.shapes = shapes
        self.data = data_namespaces
        self._sg: ShapesGraph | None = None
        self._components: dict[tuple[Any, Any], Any] = {}

    def __call__(self, report: Graph, res: Any) -> list[str]:
        shape = report.value(res, SH.sourceShape)
        own = sorted(str(m) for m in self.shapes.objects(shape, SH.message))
        if own:
            return own
        focus, value = report.value(res, SH.focusNode), report.value(res, SH.value)
        path = report.value(res, SH.resultPath)
        component = report.value(res, SH.sourceConstraintComponent)
        constraint = report.value(res, SH.sourceConstraint)
        engine = sorted(str(m) for m in report.objects(res, SH.resultMessage))
        templates = [str(m) for m in self.shapes.objects(constraint, SH.message)] if constraint is not None else []
        if not templates and component is not None and component not in _COMPONENTS:
            for validator in (SH.validator, SH.nodeValidator, SH.propertyValidator):
                for v in self.shapes.objects(component, validator):
                    templates += [str(m) for m in self.shapes.objects(v, SH.message)]
        if templates:
            bound = {"this": focus, "value": value, "path": path}
            filled = [_VAR.sub(lambda m: str(bound.get(m.group(1)) or m.group(0)), t) for t in templates]
            return engine if any(_VAR.search(t) for t in filled) and engine else sorted(filled)
        cls = _COMPONENTS.get(component)
        if cls is None or shape is None:
            return engine
        key = (shape, component)
        if key not in self._components:
            if self._sg is None:
                self._sg = ShapesGraph(self.shapes)
                _ = self._sg.shapes  # pyshacl's node -> shape cache
            try:
                self._components[key] = cls(self._sg.lookup_shape_from_node(shape))
            except Exception:  # a shape pyshacl would not build: keep the engine's words
                self._components[key] = None
        comp = self._components[key]
        if comp is None:
            return engine
        return sorted(str(m) for m in comp.make_generic_messages(self.data, focus, value))


def _copy_result(report: Graph, res: Any, out: Graph, messages: Messages) -> BNode:
    """One result (and its nested sh:detail results, its path's triples) into ``out``."""
    node = BNode()
    for p in _COPIED:
        for o in report.objects(res, p):
            out.add((node, p, o))
    path = report.value(res, SH.resultPath)
    if path is not None:
        out.add((node, SH.resultPath, path))
        _copy_bnode_tree(report, path, out)
    for m in messages(report, res):
        out.add((node, SH.resultMessage, Literal(m)))
    for detail in report.objects(res, SH.detail):
        out.add((node, SH.detail, _copy_result(report, detail, out, messages)))
    return node


def _copy_bnode_tree(src: Graph, node: Any, out: Graph) -> None:
    todo, seen = [node], set()
    while todo:
        n = todo.pop()
        if not isinstance(n, BNode) or n in seen:
            continue
        seen.add(n)
        for p, o in src.predicate_objects(n):
            out.add((n, p, o))
            todo.append(o)


def normalise(report: Graph, shapes: Graph, data_namespaces: Graph) -> Graph:
    """The report rebuilt as every engine's is: top-level results, details nested, our messages."""
    messages = Messages(shapes, data_namespaces)
    out = Graph()
    for prefix, ns in shapes.namespaces():
        out.bind(prefix, ns, override=False)
    top_in = next(report.subjects(RDF.type, SH.ValidationReport), None)
    top = BNode()
    out.add((top, RDF.type, SH.ValidationReport))
    results = sorted(report.objects(top_in, SH.result), key=lambda r: _sort_key(report, r))
    for res in results:
        out.add((top, SH.result, _copy_result(report, res, out, messages)))
    # SHACL: a report conforms iff it has no result, whatever the severity (the toolkit's exit
    # code, ValidationReport.conforms, lets warnings pass; the SHACL artefact says they exist)
    out.add((top, SH.conforms, Literal(not results)))
    return out


def _sort_key(report: Graph, res: Any) -> tuple[str, ...]:
    return tuple(
        str(report.value(res, p)) for p in (SH.focusNode, SH.resultPath, SH.sourceConstraintComponent, SH.value)
    )


_SHORTHAND = {XSD.boolean, XSD.integer, XSD.decimal, XSD.double}


def report_turtle(report: Graph) -> str:
    """The report as Turtle. rdflib writes a boolean, integer, decimal or double in its short form
    from the lexical form, which for an ill-formed value (``"yes"^^xsd:boolean``) is not Turtle;
    such a report is written by pyoxigraph instead, which keeps the full form."""
    bad = any(
        isinstance(o, Literal)
        and o.datatype in _SHORTHAND
        and not well_formed(str(o), str(o.datatype)[len(str(XSD)) :])
        for o in report.objects()
    )
    if not bad:
        return report.serialize(format="turtle")
    nt = report.serialize(format="nt", encoding="utf-8")
    prefixes = {p: str(ns) for p, ns in report.namespaces() if p and f"<{ns}".encode() in nt}
    nt = b"\n".join(sorted(nt.split(b"\n"))) + b"\n"
    quads = ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)
    return ox.serialize(quads, format=ox.RdfFormat.TURTLE, prefixes=prefixes).decode("utf-8")


def to_results(
    report: Graph,
    shapes: Graph,
    labels: Any,
    locate: dict[str, tuple[str, int]] | None = None,
    validator: str = "shacl",
) -> list[ValidationResult]:
    """The top-level results of a normalised report as typed results. ``labels(node)`` gives the
    label shown with a focus node. ``locate`` maps a focus node's IRI to (file, line), and
    ``"<focus IRI> <property IRI>"`` to the line where that property was written."""
    locate = locate or {}
    top = next(report.subjects(RDF.type, SH.ValidationReport), None)
    out: list[ValidationResult] = []
    for res in report.objects(top, SH.result):
        focus = report.value(res, SH.focusNode)
        path = report.value(res, SH.resultPath)
        value = report.value(res, SH.value)
        messages = sorted(str(m) for m in report.objects(res, SH.resultMessage))
        severity_iri = str(report.value(res, SH.resultSeverity))
        severity = Severity.from_iri(severity_iri)
        # the property's own line when the facts file wrote it, else the entity's
        file, line = locate.get(f"{focus} {path}", locate.get(str(focus), (None, None)))
        out.append(
            ValidationResult(
                validator=validator,
                message=messages[0] if messages else "constraint violated",
                severity=severity,
                severity_iri=None if severity_iri == severity.iri else severity_iri,
                focus_node=str(focus) if focus is not None else None,
                focus_label=labels(focus),
                path=short(shapes, path) if not isinstance(path, Literal) else str(path),
                value=None if value is None else str(value),
                source_file=file,
                line=line,
                constraint=short(shapes, report.value(res, SH.sourceConstraintComponent)),
                shape=shape_name(shapes, report.value(res, SH.sourceShape)),
            )
        )
    return out
