"""A source's triples, as sorted N-Triples lines, using the model to map facts keys to IRIs.

Every node gets an IRI (no blank nodes), so that output is deterministic and the release can
be diffed, merged with other releases and linked to. The lines are written directly, with
rdflib's own N-Triples escaping; the tests compare them with the oracle's rdflib graph.
"""

from __future__ import annotations

from functools import cache

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.plugins.serializers.nt import _quote_encode, _quoteLiteral  # rdflib's own N-Triples escaping, to match it

from toolkit.graph import iris
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus, DateLit, Entity, IriValue, LangText, RefValue, Source, Value


def bind_prefixes(g: Graph, model: Model, base: str) -> None:
    """Bind the prefixes every release file uses (``pt``, ``rdfs``, ``xsd``, ``id``).

    Public because the fast build binds the same prefixes on its per-source graphs: the
    Turtle and RDF/XML headers must be the ones the reference graph gets.
    """
    for prefix in ("pt", "rdfs", "xsd"):
        g.bind(prefix, Namespace(model.prefixes[prefix]), override=True, replace=True)
    g.bind("id", Namespace(base), override=True, replace=True)


def decimal_literal(value: object) -> Literal:
    """An xsd:decimal in the form Turtle writes bare (9.0, 3.5), so every format reads back the
    same literal; the same in the pipeline and the oracle."""
    number = float(value) if isinstance(value, (int, float)) else float(str(value))
    text = f"{int(number)}.0" if number.is_integer() else repr(number)
    return Literal(text, datatype=XSD.decimal, normalize=False)


def period_triples(model: Model, res: URIRef, v: DateLit) -> list[tuple[URIRef, URIRef, Literal]]:
    """What a resolution adds for a period or a vague date: bounds, open end, precision."""
    period = v.period
    if period is None:
        return []
    pt = Namespace(model.ns)
    out = [(res, pt.datePrecision, Literal(period.precision))]
    if period.start is not None:
        out.append((res, pt.periodStart, Literal(period.start.lexical, datatype=URIRef(period.start.datatype))))
    if period.end is not None:
        out.append((res, pt.periodEnd, Literal(period.end.lexical, datatype=URIRef(period.end.datatype))))
    if period.open_ended:
        out.append((res, pt.openEnded, Literal("true", datatype=XSD.boolean)))
    return out


@cache
def _typed(lexical: str, datatype: str) -> str:
    """A typed literal as rdflib writes it in N-Triples (rdflib normalises the lexical form)."""
    return _quoteLiteral(Literal(lexical, datatype=URIRef(datatype)))


def _text(text: str, lang: str | None) -> str:
    if lang is None:
        return _quote_encode(text)
    if lang != lang.lower() or not lang.replace("-", "").isalnum():
        return _quoteLiteral(Literal(text, lang=lang))
    return f"{_quote_encode(text)}@{lang}"


def graph_lines(src: Source, model: Model, base: str) -> list[str]:
    """One source's sorted N-Triples lines, written directly; the tests compare them with the
    oracle's rdflib graph (``tests/oracle/graph.py``)."""
    out: set[str] = set()
    rdf_type = f"<{RDF.type}>"
    pt = model.ns
    xsd = "http://www.w3.org/2001/XMLSchema#"
    article = iris.source(base, src.id)
    comment = model.properties["comment"].iri

    def add(s: str, p: str, o: str) -> None:
        out.add(f"<{s}> <{p}> {o} .")

    def term(v: Value) -> str:
        """A value of a facts file as an N-Triples object (a mark's ``pt:inferredValue`` repeats it)."""
        if isinstance(v, RefValue):
            return f"<{iris.entity(base, v.id)}>"
        if isinstance(v, LangText):
            return _text(v.text, v.lang)
        if isinstance(v, DateLit):
            return _typed(v.value.lexical, v.value.datatype)
        if isinstance(v, IriValue):
            return f"<{v.iri}>"
        if v.kind == "boolean":
            return _typed("true" if v.value else "false", xsd + "boolean")
        if v.kind == "count":
            return _typed(str(int(v.value)), xsd + "nonNegativeInteger")  # type: ignore[call-overload]
        if v.kind == "string":
            return _text(str(v.value), None)
        if v.kind == "decimal":
            return decimal_literal(v.value).n3()
        raise ValueError(v.kind)

    def typed_node(node: str, cls: str) -> None:
        out.add(f"<{node}> {rdf_type} <{cls}> .")

    def entity(ent: Entity, node: str) -> None:
        for t in ent.types:
            typed_node(node, model.class_iri(t))
        for key in sorted(ent.values):
            prop = model.properties[key]
            for v in ent.values[key]:
                add(node, prop.iri, term(v))
                if isinstance(v, DateLit) and v.inferred:
                    res = iris.inferred_date(base, ent.key, key)
                    typed_node(res, pt + "DateResolution")
                    add(res, pt + "resolvedResource", f"<{node}>")
                    add(res, pt + "resolvedProperty", f"<{prop.iri}>")
                    add(res, pt + "statedText", _text(v.stated or "", "zh"))
                    add(res, pt + "resolvedValue", term(v))
                    add(res, pt + "resolvedAgainst", f"<{article}>")
                    for lang, text in sorted((v.note or {}).items()):
                        add(res, comment, _text(text, lang))
                    for _s, p, o in period_triples(model, URIRef(res), v):
                        add(res, str(p), o.n3())
        for mark in ent.marks:
            # the pt:Inference of one marked value: a reified statement (as pt:Claim is) with how
            # it was inferred, from which article, and the note
            res = iris.inference(base, ent.key, mark.prop, mark.n)
            typed_node(res, pt + "Inference")
            add(res, pt + "inferredResource", f"<{node}>")
            add(res, pt + "inferredProperty", f"<{model.properties[mark.prop].iri}>")
            add(res, pt + "inferredValue", term(mark.value))
            add(res, pt + "inferenceMethod", f"<{mark.method}>")
            add(res, pt + "inferredFrom", f"<{article}>")
            for note in mark.note:
                add(res, comment, _text(note.text, note.lang))

    entity(src.article, article)
    add(article, pt + "archivedFile", _text(src.text_path.name, None))
    add(article, pt + "sha256", _text(src.sha256, None))
    add(article, pt + "bodyStart", _typed(str(src.body_start), xsd + "nonNegativeInteger"))
    add(article, pt + "bodyEnd", _typed(str(src.body_end), xsd + "nonNegativeInteger"))
    for ent in src.entities:
        node = iris.entity(base, ent.id)
        entity(ent, node)
        for n, span in enumerate(ent.evidence, start=1):
            ev = iris.evidence(base, ent.key, n)
            add(node, pt + "evidence", f"<{ev}>")
            typed_node(ev, pt + "Evidence")
            add(ev, pt + "quote", _text(span.quote, "zh"))
            add(ev, pt + "startOffset", _typed(str(span.start), xsd + "nonNegativeInteger"))
            add(ev, pt + "endOffset", _typed(str(span.end), xsd + "nonNegativeInteger"))
            add(ev, pt + "inSource", f"<{article}>")
    return sorted(out)


def build_graph(corpus: Corpus, model: Model, base: str) -> Graph:
    """The data graph of every source: its :func:`graph_lines`, parsed (the whole-graph
    ``validate`` reads it; the tests' oracle builds its own graph with rdflib's terms)."""
    g = Graph()
    bind_prefixes(g, model, base)
    for src in corpus.sources:
        g.parse(data="".join(line + "\n" for line in graph_lines(src, model, base)), format="nt")
    return g
