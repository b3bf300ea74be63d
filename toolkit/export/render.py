"""Per-subject renderings written directly, the way rdflib's and pyld's serialisers write them.

The oracle (``tests/oracle``) runs rdflib's Turtle and RDF/XML serialisers and pyld's
compaction over the whole graph. This module writes the same text straight from a unit's
sorted N-Triples lines, asking rdflib only for what decides the bytes (the Turtle label of a
term, the order of literals, the qualified name of a predicate), with caches. Whatever it does
not know how to write exactly (blank nodes, a value that does not fit its JSON-LD term) raises
:class:`Unsupported`, and the build refuses that source, naming why; tests compare the bytes
with the oracle's on the real article and on generated corpora.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.plugins.serializers.nt import _quoteLiteral
from rdflib.plugins.serializers.turtle import OBJECT, SUBJECT, VERB, TurtleSerializer
from rdflib.plugins.serializers.xmlwriter import ESCAPE_ENTITIES
from rdflib.term import _NUMERIC_INF_NAN_LITERAL_TYPES, _PLAIN_LITERAL_TYPES

from toolkit.export.blocks import Unsupported
from toolkit.export.canonical import unescape_ntriples as _unescape
from toolkit.export.csv import neutralise
from toolkit.schema.model import Model, Table

RDF_TYPE = str(RDF.type)
#: datatypes whose Turtle form rdflib may shorten (``true``, ``5``, ``1e+00``): written by rdflib itself
_PLAIN_TYPES = {str(t) for t in (*_PLAIN_LITERAL_TYPES, *_NUMERIC_INF_NAN_LITERAL_TYPES)}
RDFS_LABEL = str(RDFS.label)
XSD_STRING = str(XSD.string)


# ------------------------------------------------------------------------------- parsing


class Obj:
    """An object as written on a line: IRI, or literal (lexical form, language, datatype)."""

    __slots__ = ("datatype", "iri", "lang", "lexical", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        if text.startswith("<"):
            self.iri: str | None = text[1:-1]
            self.lexical = self.iri
            self.lang = None
            self.datatype = None
            return
        if text.startswith("_:"):
            raise Unsupported("blank node")
        self.iri = None
        end = text.rindex('"')
        self.lexical = _unescape(text[1:end])
        rest = text[end + 1 :]
        self.lang = rest[1:] if rest.startswith("@") else None
        self.datatype = rest[3:-1] if rest.startswith("^^<") else None

    def term(self) -> Any:
        if self.iri is not None:
            return URIRef(self.iri)
        return _literal(self.lexical, self.lang, self.datatype)


@cache
def _datatype(iri: str) -> URIRef:
    return URIRef(iri)


def _literal(lexical: str, lang: str | None, datatype: str | None) -> Literal:
    if lang is not None:
        return Literal(lexical, lang=lang)
    if datatype is not None:
        return Literal(lexical, datatype=_datatype(datatype))
    return Literal(lexical)


def subjects_of(lines: list[str]) -> dict[str, list[tuple[str, Obj]]]:
    """Subject -> [(predicate, object)] in line order; subjects in the order of the sorted lines."""
    out: dict[str, list[tuple[str, Obj]]] = {}
    for line in lines:
        if not line.startswith("<"):
            raise Unsupported("blank node subject")
        s_end = line.index("> ")
        p_end = line.index("> ", s_end + 2)
        out.setdefault(line[1:s_end], []).append((line[s_end + 3 : p_end], Obj(line[p_end + 2 : -2])))
    return out


# --------------------------------------------------------------------------------- Turtle


class TurtleWriter:
    """rdflib's Turtle statements, subject by subject (see ``TurtleSerializer.predicateList``)."""

    def __init__(self, namespaces: Graph) -> None:
        self.bound = {p: str(ns) for p, ns in namespaces.namespaces()}
        self.ser = TurtleSerializer(namespaces)
        self.ser.reset()
        self.ser.base = None
        self._iri: dict[tuple[str, int], str] = {}
        self._dt: dict[str, str | None] = {}
        self.used: set[str] = set()  # prefixes the current unit declares (see :meth:`start`)
        self._namespaces = tuple(str(ns) for _p, ns in namespaces.namespaces())

    def start(self) -> None:
        """Begin a unit: the prefixes it needs are collected afresh (the label cache is kept)."""
        self.used = set()

    def _note(self, label: str | None) -> None:
        if label and not label.startswith(("<", '"')) and ":" in label:
            self.used.add(label.split(":", 1)[0])

    def label_iri(self, iri: str, position: int) -> str:
        key = (iri, position)
        if key not in self._iri:
            if position != VERB and not iri.startswith(self._namespaces):
                # no bound namespace is a prefix of it: rdflib finds no prefixed name, writes <iri>
                self._iri[key] = URIRef(iri).n3()
            else:
                self._iri[key] = self.ser.label(URIRef(iri), position)
        label = self._iri[key]
        if not (position == VERB and label == "a"):
            self._note(label)
        return label

    def label_obj(self, o: Obj) -> str:
        if o.iri is not None:
            return self.label_iri(o.iri, OBJECT)
        if o.datatype is not None:
            if o.datatype not in self._dt:  # preprocess() asks for every datatype's prefixed name
                self._dt[o.datatype] = self.ser.get_pname(_datatype(o.datatype), gen_prefix=False)
            self._note(self._dt[o.datatype])
        if o.datatype is None or o.datatype not in _PLAIN_TYPES:
            # what Literal._literal_n3 writes when the value is not shortened (strings, dates...)
            encoded = Literal._quote_encode(o.lexical)  # type: ignore[arg-type]
            if o.lang:
                return f"{encoded}@{o.lang}"
            if o.datatype:
                return f"{encoded}^^{self._dt[o.datatype] or f'<{o.datatype}>'}"
            return encoded
        return o.term()._literal_n3(use_plain=True, qname_callback=lambda dt: self.ser.get_pname(dt, False))

    def block(self, subject: str, items: list[tuple[str, Obj]]) -> str:
        props: dict[str, list[Obj]] = {}
        for p, o in items:
            props.setdefault(p, []).append(o)
        order = [p for p in (RDF_TYPE, RDFS_LABEL) if p in props]
        order += sorted(p for p in props if p not in (RDF_TYPE, RDFS_LABEL))
        parts = ["\n", self.label_iri(subject, SUBJECT)]
        for i, p in enumerate(order):
            parts.append(" " if i == 0 else " ;\n    ")
            parts.append(self.label_iri(p, VERB))
            objs = props[p]
            if len(objs) > 1:
                if all(o.iri is not None for o in objs):  # IRIs sort as strings in rdflib
                    labels = [self.label_obj(o) for o in sorted(objs, key=lambda o: o.iri)]  # type: ignore[arg-type,return-value]
                else:
                    labels = [self.label_obj(Obj(_nt(t))) for t in sorted(o.term() for o in objs)]
                parts.append(" " + ",\n        ".join(labels))
            else:
                parts.append(" " + self.label_obj(objs[0]))
        parts.append(" .\n")
        return "".join(parts)

    def prefixes(self) -> tuple[bool, dict[str, str]]:
        """The current unit's prefixes, and whether they are all ones the graph binds."""
        every = {p: str(ns) for p, ns in self.ser.namespaces.items()}
        ok = not self.ser._ns_rewrite and all(self.bound.get(p) == ns for p, ns in every.items())
        used = {p: every[p] for p in self.used if p in every}
        ok = ok and len(used) == len(self.used)
        return ok, used


def _nt(term: Any) -> str:
    if isinstance(term, Literal):
        return _quoteLiteral(term)
    return term.n3()


# -------------------------------------------------------------------------------- RDF/XML


class XmlWriter:
    """rdflib's RDF/XML descriptions (``XMLSerializer.subject`` / ``predicate``)."""

    def __init__(self, namespaces: Graph) -> None:
        self.nm = namespaces.namespace_manager
        self.bound = {p: str(ns) for p, ns in namespaces.namespaces()}
        self._qname: dict[str, tuple[str, str, str]] = {}
        self.used: dict[str, str] = {}

    def start(self) -> None:
        self.used = {}

    def qname(self, predicate: str) -> str:
        if predicate not in self._qname:
            prefix, namespace, _name = self.nm.compute_qname_strict(URIRef(predicate))
            if self.bound.get(prefix) != str(namespace):
                raise Unsupported(f"a namespace rdflib would generate for {predicate}")
            self._qname[predicate] = (self.nm.qname_strict(URIRef(predicate)), prefix, str(namespace))
        qname, prefix, namespace = self._qname[predicate]
        self.used[prefix] = namespace
        return qname

    def block(self, subject: str, items: list[tuple[str, Obj]]) -> str:
        parts = [f"  <rdf:Description rdf:about={quoteattr(subject)}>\n"]
        for p, o in items:
            q = self.qname(p)
            if o.iri is not None:
                parts.append(f"    <{q} rdf:resource={quoteattr(o.iri)}/>\n")
            else:
                attrs = ""
                if o.lang:
                    attrs += f' xml:lang="{o.lang}"'
                if o.datatype:
                    attrs += f' rdf:datatype="{o.datatype}"'
                parts.append(f"    <{q}{attrs}>{escape(o.lexical, ESCAPE_ENTITIES)}</{q}>\n")
        parts.append("  </rdf:Description>\n")
        return "".join(parts)


# -------------------------------------------------------------------------------- JSON-LD


class JsonLdWriter:
    """pyld's compaction of one node with the published context (our terms only)."""

    def __init__(self, context: dict[str, Any]) -> None:
        ctx = context["@context"]
        self.prefixes: list[tuple[str, str]] = []
        self.classes: dict[str, str] = {}
        self.props: dict[str, tuple[str, dict[str, Any]]] = {}
        seen_props: dict[str, int] = {}
        for term, value in ctx.items():
            if term.startswith("@"):
                continue
            if isinstance(value, str):
                if value.startswith("@"):
                    continue
                if value.endswith(("#", "/", ":", "?", "[", "]", "@")) and "://" in value:
                    self.prefixes.append((term, value))
        for term, value in ctx.items():
            if term.startswith("@") or (isinstance(value, str) and value.startswith("@")):
                continue
            if isinstance(value, str) and "://" not in value:
                self.classes[self.expand(value)] = term
            elif isinstance(value, dict) and "@id" in value:
                iri = self.expand(value["@id"])
                seen_props[iri] = seen_props.get(iri, 0) + 1
                self.props[iri] = (term, value)
        self.ambiguous = {iri for iri, n in seen_props.items() if n > 1}
        self.terms = set(ctx)

    def expand(self, value: str) -> str:
        prefix, _, local = value.partition(":")
        for p, ns in self.prefixes:
            if p == prefix:
                return ns + local
        return value

    @cache  # noqa: B019 - one writer per worker, a handful of IRIs
    def compact_iri(self, iri: str) -> str:
        best = None
        for p, ns in self.prefixes:
            if iri.startswith(ns) and len(iri) > len(ns):
                cand = f"{p}:{iri[len(ns) :]}"
                if cand in self.terms:
                    continue
                if best is None or len(cand) < len(best) or (len(cand) == len(best) and cand < best):
                    best = cand
        return best or iri

    def compact_vocab(self, iri: str) -> str:
        return self.classes.get(iri) or self.compact_iri(iri)

    def node(self, subject: str, items: list[tuple[str, Obj]]) -> dict[str, Any]:
        node: dict[str, Any] = {"id": self.compact_iri(subject)}
        types = [o for p, o in items if p == RDF_TYPE]
        if types:
            if any(o.iri is None for o in types):
                raise Unsupported("a literal rdf:type")
            names = [self.compact_vocab(o.iri) for o in types]  # type: ignore[arg-type]
            node["type"] = names[0] if len(names) == 1 else names
        grouped: dict[str, list[Obj]] = {}
        for p, o in items:
            if p != RDF_TYPE:
                grouped.setdefault(p, []).append(o)
        for iri in sorted(grouped):
            if iri not in self.props or iri in self.ambiguous:
                raise Unsupported(f"no single term for {iri}")
            term, d = self.props[iri]
            values = grouped[iri]
            typ, lang, container = d.get("@type"), d.get("@language"), d.get("@container")
            if container == "@language":
                out: dict[str, Any] = {}
                for o in values:
                    if o.lang is None:
                        raise Unsupported("a value without a language in a language map")
                    key = o.lang
                    if key in out:
                        prev = out[key]
                        out[key] = [*prev, o.lexical] if isinstance(prev, list) else [prev, o.lexical]
                    else:
                        out[key] = o.lexical
                node[term] = out
                continue
            compacted = []
            for o in values:
                if typ == "@id":
                    if o.iri is None:
                        raise Unsupported("a literal for an @id term")
                    compacted.append(self.compact_iri(o.iri))
                elif o.iri is not None:
                    if typ is not None or lang is not None:
                        raise Unsupported("an IRI for a literal term")
                    compacted.append({"id": self.compact_iri(o.iri)})  # an untyped term (kind any), as pyld
                elif lang is not None:
                    if o.lang != lang:
                        raise Unsupported("another language than the term's")
                    compacted.append(o.lexical)
                elif typ is not None:
                    if o.lang is not None or o.datatype != self.expand(typ):
                        raise Unsupported("another datatype than the term's")
                    compacted.append(o.lexical)
                else:
                    if o.lang is not None:
                        compacted.append({"@language": o.lang, "@value": o.lexical})  # as pyld compacts it
                        continue
                    if o.datatype is None or o.datatype == XSD_STRING:
                        compacted.append(o.lexical)
                    else:
                        compacted.append({"type": self.compact_vocab(o.datatype), "@value": o.lexical})
            if container == "@set" or len(compacted) > 1:
                node[term] = compacted
            else:
                node[term] = compacted[0]
        for key, value in node.items():
            if isinstance(value, list):
                node[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return node


# ------------------------------------------------------------------------------------ CSV


class CsvIndex:
    """One source's subjects prepared once for every table: types and values by property."""

    def __init__(self, subjects: dict[str, list[tuple[str, Obj]]], model: Model) -> None:
        self.model = model
        self.types: dict[str, list[str]] = {}
        self.values: dict[str, dict[str, list[Obj]]] = {}
        for s, items in subjects.items():
            by_p: dict[str, list[Obj]] = {}
            for p, o in items:
                by_p.setdefault(p, []).append(o)
            self.values[s] = by_p
            self.types[s] = [o.iri for o in by_p.get(RDF_TYPE, []) if o.iri is not None]
        self._reverse: dict[str, dict[str, list[str]]] = {}

    def reverse(self, pointer: str) -> dict[str, list[str]]:
        if pointer not in self._reverse:
            idx: dict[str, list[str]] = {}
            for s, by_p in self.values.items():
                for o in by_p.get(pointer, []):
                    if o.iri is not None:
                        idx.setdefault(o.iri, []).append(s)
            self._reverse[pointer] = idx
        return self._reverse[pointer]


@cache
def table_plan(model: Model, name: str) -> tuple[frozenset[str], list[str], list[tuple[str, str, str | None, bool]]]:
    """A table's member classes, columns and how to fill each column (computed once)."""
    table = model.tables[name]
    members = frozenset(model.class_iri(c) for c in model.descendants(table.class_name))
    columns = model.table_columns(table)
    plan: list[tuple[str, str, str | None, bool]] = []  # (column, property IRI, language, reverse)
    for col in columns[2:]:
        name, lang = model.column_property(col)
        if col in table.reverse:
            plan.append((col, model.properties[table.reverse[col]].iri, None, True))
            continue
        prop = model.properties.get(name)
        if prop is not None:
            plan.append((col, prop.iri, lang, False))
    return members, columns, plan


def table_rows(index: CsvIndex, table: Table) -> list[dict[str, str]]:
    """One table's rows over one source's subjects (the oracle's ``table_rows`` reads a graph)."""
    model = index.model
    members, columns, plan = table_plan(model, table.name)
    nodes = sorted(s for s, types in index.types.items() if any(t in members for t in types))
    rows = []
    for node in nodes:
        row = dict.fromkeys(columns, "")
        row["id"] = node
        names = [model.class_by_iri[t].name for t in index.types[node] if t in model.class_by_iri]
        row["types"] = " ".join(sorted(names))
        by_p = index.values[node]
        for col, iri, lang, reverse in plan:
            if reverse:
                row[col] = "|".join(sorted(index.reverse(iri).get(node, [])))
                continue
            values = by_p.get(iri, [])
            if lang:
                values = [o for o in values if o.lang == lang]
            row[col] = neutralise("|".join(sorted(o.lexical for o in values))) if values else ""
        rows.append(row)
    return rows
