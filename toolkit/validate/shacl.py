"""SHACL validation of the data graph with pyshacl, the ontology supplying the class hierarchy."""

from __future__ import annotations

from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH

from toolkit.errors import LoadError
from toolkit.report import Severity, ValidationReport, ValidationResult
from toolkit.validate.base import ValidationContext


def load_schema_graph(path: Path) -> Graph:
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except (OSError, ValueError, SyntaxError) as exc:
        raise LoadError(f"cannot parse: {exc}", file=path) from None
    return g


def _short(g: Graph, term: object) -> str | None:
    if term is None:
        return None
    if isinstance(term, URIRef):
        try:
            prefix, _, local = g.namespace_manager.compute_qname(str(term), generate=False)
            return f"{prefix}:{local}"
        except (ValueError, KeyError):
            return str(term)
    return str(term)


def _label(data: Graph, node: object) -> str | None:
    labels = sorted(data.objects(node, RDFS.label))  # type: ignore[arg-type]
    for lang in ("zh", "en", None):
        for lab in labels:
            if isinstance(lab, Literal) and lab.language == lang:
                return str(lab)
    return None


def shacl_results(
    data: Graph, shapes: Graph, ontology: Graph, locate: dict[str, tuple[str, int]] | None = None
) -> tuple[list[ValidationResult], Graph]:
    """Run pyshacl and map its report graph to typed results (the raw graph is returned too)."""
    _conforms, report_graph, _text = pyshacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        meta_shacl=False,
        advanced=False,
        js=False,
        inplace=False,
    )
    locate = locate or {}
    out: list[ValidationResult] = []
    for res in report_graph.subjects(SH.resultSeverity, None):
        focus = report_graph.value(res, SH.focusNode)
        path = report_graph.value(res, SH.resultPath)
        value = report_graph.value(res, SH.value)
        messages = sorted(str(m) for m in report_graph.objects(res, SH.resultMessage))
        severity = report_graph.value(res, SH.resultSeverity)
        file, line = locate.get(str(focus), (None, None))
        out.append(
            ValidationResult(
                validator="shacl",
                message=messages[0] if messages else "constraint violated",
                severity=Severity.from_iri(str(severity)),
                severity_iri=None if str(severity) == Severity.from_iri(str(severity)).iri else str(severity),
                focus_node=str(focus) if focus is not None else None,
                focus_label=_label(data, focus),
                path=_short(shapes, path) if not isinstance(path, Literal) else str(path),
                value=None if value is None else str(value),
                source_file=file,
                line=line,
                constraint=_short(shapes, report_graph.value(res, SH.sourceConstraintComponent)),
                shape=_short(shapes, report_graph.value(res, SH.sourceShape)),
            )
        )
    return out, report_graph


class ShaclValidator:
    name = "shacl"

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        if ctx.graph is None:
            return
        shapes = load_schema_graph(ctx.settings.schema_dir / "shapes.ttl")
        ontology = load_schema_graph(ctx.settings.schema_dir / "ontology.ttl")
        locate: dict[str, tuple[str, int]] = {}
        if ctx.corpus is not None:
            root = ctx.settings.root
            for ent in ctx.corpus.entities.values():
                try:
                    rel = str(ent.file.relative_to(root))
                except ValueError:
                    rel = str(ent.file)
                locate[ctx.settings.base_iri + ent.id] = (rel, ent.line)
        results, raw = shacl_results(ctx.graph, shapes, ontology, locate)
        report.extend(results)
        report.raw_graphs[self.name] = raw
