"""The oracle's data graph: every source's triples added to one rdflib graph, term by term.

This was the library's ``build_graph`` before the pipeline wrote its N-Triples lines directly
(:func:`toolkit.graph.graph_lines`); kept here as the independent reference the tests compare
those lines (and every file made from them) with.
"""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from toolkit.graph import iris
from toolkit.graph.build import bind_prefixes, decimal_literal, period_triples
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus, DateLit, Entity, IriValue, LangText, Mark, PlainLit, RefValue, Source, Value

_KIND_DATATYPE = {"count": XSD.nonNegativeInteger, "boolean": XSD.boolean, "decimal": XSD.decimal}


def iri_for(base: str, kind: str, *parts: str) -> URIRef:
    """An IRI of :mod:`toolkit.graph.iris` as an rdflib term (``kind`` names its function)."""
    mint = {"entity": iris.entity, "source": iris.source, "evidence": iris.evidence}.get(kind)
    if mint is None:
        mint = iris.inferred_date
    return URIRef(mint(base, *parts))


def _literal(model: Model, kind: str, value: object) -> Literal:
    if kind == "boolean":
        return Literal("true" if value else "false", datatype=XSD.boolean)
    if kind == "count":
        return Literal(str(int(value)), datatype=XSD.nonNegativeInteger)  # type: ignore[call-overload]
    if kind == "string":
        return Literal(str(value))
    if kind == "decimal":
        return decimal_literal(value)  # a simple literal is xsd:string in RDF 1.1; rdflib keeps them apart
    return Literal(str(value), datatype=_KIND_DATATYPE[kind])


def _add_entity(g: Graph, model: Model, base: str, ent: Entity, node: URIRef, src: Source) -> None:
    article = iri_for(base, "source", src.id)
    for t in ent.types:
        g.add((node, RDF.type, URIRef(model.class_iri(t))))
    for key in sorted(ent.values):
        prop = model.properties[key]
        p = URIRef(prop.iri)
        for v in ent.values[key]:
            if isinstance(v, RefValue):
                g.add((node, p, iri_for(base, "entity", v.id)))
            elif isinstance(v, LangText):
                g.add((node, p, Literal(v.text, lang=v.lang)))
            elif isinstance(v, DateLit):
                g.add((node, p, Literal(v.value.lexical, datatype=URIRef(v.value.datatype))))
                if v.inferred:
                    _add_resolution(g, model, base, ent, key, v, node, article)
            elif isinstance(v, PlainLit):
                g.add((node, p, _literal(model, v.kind, v.value)))
            elif isinstance(v, IriValue):
                g.add((node, p, URIRef(v.iri)))
    for mark in ent.marks:
        for triple in mark_triples(model, base, ent, node, article, mark):
            g.add(triple)


def value_term(model: Model, base: str, v: Value) -> URIRef | Literal:
    """The RDF term of a value of a facts file (what a mark's ``pt:inferredValue`` repeats)."""
    if isinstance(v, RefValue):
        return iri_for(base, "entity", v.id)
    if isinstance(v, LangText):
        return Literal(v.text, lang=v.lang)
    if isinstance(v, DateLit):
        return Literal(v.value.lexical, datatype=URIRef(v.value.datatype))
    if isinstance(v, PlainLit):
        return _literal(model, v.kind, v.value)
    return URIRef(v.iri)


def mark_triples(
    model: Model, base: str, ent: Entity, node: URIRef, article: URIRef, mark: Mark
) -> list[tuple[URIRef, URIRef, URIRef | Literal]]:
    """The ``pt:Inference`` of one marked value: a reified statement (subject, property, value)
    with how it was inferred, from which article, and the note."""
    pt = Namespace(model.ns)
    res = URIRef(iris.inference(base, ent.key, mark.prop, mark.n))
    out: list[tuple[URIRef, URIRef, URIRef | Literal]] = [
        (res, RDF.type, pt.Inference),
        (res, pt.inferredResource, node),
        (res, pt.inferredProperty, URIRef(model.properties[mark.prop].iri)),
        (res, pt.inferredValue, value_term(model, base, mark.value)),
        (res, pt.inferenceMethod, URIRef(mark.method)),
        (res, pt.inferredFrom, article),
    ]
    out.extend((res, model_comment(model), Literal(t.text, lang=t.lang)) for t in mark.note)
    return out


def _add_resolution(
    g: Graph, model: Model, base: str, ent: Entity, key: str, v: DateLit, node: URIRef, article: URIRef
) -> None:
    pt = Namespace(model.ns)
    res = iri_for(base, "inferred-date", ent.key, key)
    g.add((res, RDF.type, pt.DateResolution))
    g.add((res, pt.resolvedResource, node))
    g.add((res, pt.resolvedProperty, URIRef(model.properties[key].iri)))
    g.add((res, pt.statedText, Literal(v.stated, lang="zh")))
    g.add((res, pt.resolvedValue, Literal(v.value.lexical, datatype=URIRef(v.value.datatype))))
    g.add((res, pt.resolvedAgainst, article))
    for triple in period_triples(model, res, v):
        g.add(triple)
    if v.note:
        for lang, text in sorted(v.note.items()):
            g.add((res, model_comment(model), Literal(text, lang=lang)))


def model_comment(model: Model) -> URIRef:
    return URIRef(model.properties["comment"].iri)


def build_graph(corpus: Corpus, model: Model, base: str) -> Graph:
    """The data graph of every source: articles, entities, evidence and inferred dates."""
    g = Graph()
    bind_prefixes(g, model, base)
    pt = Namespace(model.ns)
    for src in corpus.sources:
        article = iri_for(base, "source", src.id)
        _add_entity(g, model, base, src.article, article, src)
        g.add((article, pt.archivedFile, Literal(src.text_path.name)))
        g.add((article, pt.sha256, Literal(src.sha256)))
        g.add((article, pt.bodyStart, Literal(str(src.body_start), datatype=XSD.nonNegativeInteger)))
        g.add((article, pt.bodyEnd, Literal(str(src.body_end), datatype=XSD.nonNegativeInteger)))
        for ent in src.entities:
            node = iri_for(base, "entity", ent.id)
            _add_entity(g, model, base, ent, node, src)
            for n, span in enumerate(ent.evidence, start=1):
                ev = iri_for(base, "evidence", ent.key, str(n))
                g.add((node, pt.evidence, ev))
                g.add((ev, RDF.type, pt.Evidence))
                g.add((ev, pt.quote, Literal(span.quote, lang="zh")))
                g.add((ev, pt.startOffset, Literal(str(span.start), datatype=XSD.nonNegativeInteger)))
                g.add((ev, pt.endOffset, Literal(str(span.end), datatype=XSD.nonNegativeInteger)))
                g.add((ev, pt.inSource, article))
    return g
