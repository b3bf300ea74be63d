"""SHACL Core shapes compiled to SPARQL and run by pyoxigraph; pyshacl for what is not compiled.

Why: pyshacl walks every focus node in Python and re-parses each SPARQL constraint per focus
node with rdflib's parser (hours for a million triples). Here every shape becomes a few
SPARQL queries over the whole data graph, answered by Oxigraph's engine, which also follows
SPARQL 1.1 where rdflib does not (``"295" < 392`` is a type error, not ``true``).

Supported (``CLAIMED``), for node shapes and for property shapes whose path is one IRI:
targets (``sh:targetClass`` with ``rdfs:subClassOf*``, implicit class targets,
``sh:targetNode``, ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``); ``sh:minCount``,
``sh:maxCount``, ``sh:datatype`` (with well-formedness of the XSD types below), ``sh:class``,
``sh:nodeKind``, ``sh:languageIn``, ``sh:uniqueLang``, ``sh:or`` of shapes made of those value
constraints, ``sh:qualifiedValueShape`` with ``sh:qualifiedMinCount`` / ``sh:qualifiedMaxCount``
(same kind of inner shape, not disjoint), ``sh:sparql`` SELECT constraints that use only
``$this`` (no ``$PATH``, ``$shapesGraph``, ``$currentShape``, pre-bound prefixes are added),
``sh:closed false``, ``sh:deactivated``, ``sh:severity`` and ``sh:message``.

A node shape that uses anything else is validated by pyshacl, alone (its own shapes graph),
so one unsupported feature costs the speed of that shape only. Results are
:class:`~toolkit.report.ValidationResult`\\ s like the naive validator's, messages made by
pyshacl's own message code, and a SHACL report graph with the same triples.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

SHN = str(SH)
RDF_LANGSTRING = str(RDF) + "langString"

#: constraint components this validator compiles (the W3C suite test runs exactly these)
CLAIMED = (
    "ClassConstraintComponent",
    "DatatypeConstraintComponent",
    "NodeKindConstraintComponent",
    "MinCountConstraintComponent",
    "MaxCountConstraintComponent",
    "LanguageInConstraintComponent",
    "UniqueLangConstraintComponent",
    "OrConstraintComponent",
    "QualifiedMinCountConstraintComponent",
    "QualifiedMaxCountConstraintComponent",
    "SPARQLConstraintComponent",
)

_VALUE_PARAMS = {SH["class"], SH.datatype, SH.nodeKind, SH.languageIn, SH["or"]}
_PROPERTY_PARAMS = {SH.minCount, SH.maxCount, SH.uniqueLang, SH.qualifiedValueShape, SH.qualifiedMinCount}
_PROPERTY_PARAMS |= {SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint}
_TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf}
_IGNORED = {
    RDF.type,
    SH.name,
    SH.description,
    SH.message,
    SH.severity,
    SH.order,
    SH.group,
    SH.deactivated,
    SH.property,
    SH.path,
    SH.sparql,
    SH.closed,
    SH.defaultValue,
    RDFS.label,
    RDFS.comment,
    RDFS.subClassOf,
}

# Well-formed lexical forms of the XSD datatypes we know, as SPARQL expressions over ?s (the
# lexical form); Oxigraph's casts return nothing for an ill-formed string.
_INT_RANGES = {
    "integer": (None, None),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
_CASTS = {"decimal", "double", "float", "date", "dateTime", "time", "gYear", "gYearMonth", "duration"}


def _wellformed(datatype: str, s: str) -> str:
    xsd = str(XSD)
    if not datatype.startswith(xsd):
        return "true"
    local = datatype[len(xsd) :]
    if local in _INT_RANGES:
        lo, hi = _INT_RANGES[local]
        cond = [f"isLiteral(xsd:integer({s}))", f'!CONTAINS({s}, ".")']
        if lo is not None:
            cond.append(f"xsd:integer({s}) >= {lo}")
        if hi is not None:
            cond.append(f"xsd:integer({s}) <= {hi}")
        return "COALESCE(" + " && ".join(cond) + ", false)"
    if local == "boolean":
        return f'({s} IN ("true", "false", "1", "0"))'
    if local in _CASTS:
        return f"COALESCE(isLiteral(xsd:{local}({s})), false)"
    return "true"


#: datatypes whose literals a pyoxigraph store keeps by value, not by lexical form and datatype
#: ("0920"^^xsd:nonNegativeInteger reads back as "920"^^xsd:integer, "1"^^xsd:boolean as "true"):
#: sh:datatype on them is checked on the original N-Triples lines, in Python.
LOSSY = {str(XSD) + t for t in (*_INT_RANGES, "decimal", "double", "float", "boolean")}
_INT_RX = re.compile(r"^[+-]?[0-9]+$")
_DEC_RX = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_DBL_RX = re.compile(r"^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$")


def python_wellformed(lexical: str, datatype: str) -> bool:
    local = datatype[len(str(XSD)) :]
    if local in _INT_RANGES:
        if not _INT_RX.match(lexical):
            return False
        lo, hi = _INT_RANGES[local]
        n = int(lexical)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    if local == "decimal":
        return bool(_DEC_RX.match(lexical))
    if local in ("double", "float"):
        return bool(_DBL_RX.match(lexical))
    if local == "boolean":
        return lexical in ("true", "false", "1", "0")
    return True


def parse_object(text: str) -> Any:
    """The object of an N-Triples line as an rdflib term (IRIs, and literals as rdflib writes them)."""
    if text.startswith("<"):
        return URIRef(text[1:-1])
    if text.startswith("_:"):
        return BNode(text[2:])
    end = text.rindex('"')
    lexical = text[1:end].replace("\\\\", "\x00").replace('\\"', '"').replace("\\n", "\n")
    lexical = lexical.replace("\\r", "\r").replace("\\t", "\t").replace("\x00", "\\")
    rest = text[end + 1 :]
    if rest.startswith("^^<"):
        return Literal(lexical, datatype=URIRef(rest[3:-1]))
    if rest.startswith("@"):
        return Literal(lexical, lang=rest[1:])
    return Literal(lexical)


def _iri(node: Any) -> str:
    return f"<{node}>"


@dataclass
class ValueCheck:
    """One value-level constraint, compiled to a SPARQL expression that is true on a violation."""

    component: str
    param: URIRef
    violation: str | None  # None: checked in Python on the original lines (a LOSSY datatype)
    rule: Any = None


@dataclass
class PropertyPlan:
    shape: Any  # the property shape node (or the node shape, for node-level value checks)
    node_shape: Any
    path: URIRef | None  # None: the value node is the focus node
    severity: str
    checks: list[ValueCheck] = field(default_factory=list)
    min_count: int | None = None
    max_count: int | None = None
    unique_lang: bool = False
    qualified: list[tuple[str, int, str]] = field(default_factory=list)  # (component, bound, conforms expr)


@dataclass
class SparqlPlan:
    node_shape: Any
    constraint: Any
    query: str
    severity: str
    messages: list[Literal]


@dataclass
class ShapePlan:
    node: Any
    focus: str  # SPARQL group pattern binding ?this
    properties: list[PropertyPlan] = field(default_factory=list)
    sparql: list[SparqlPlan] = field(default_factory=list)


class Unsupported(Exception):
    pass


class Compiler:
    """Turns a shapes graph into plans; collects the node shapes it leaves to pyshacl."""

    def __init__(self, shapes: Graph, classes: dict[str, list[str]], *, lossy_ok: bool = True) -> None:
        self.sg = shapes
        self.classes = classes  # class IRI -> itself and all its subclasses
        self.lossy_ok = lossy_ok  # False when the data has blank nodes (their lines cannot be matched)
        self.plans: list[ShapePlan] = []
        self.fallback: list[Any] = []
        self._var = 0

    def subclasses(self, cls: Any) -> list[str]:
        return self.classes.get(str(cls), [str(cls)])

    def compile(self) -> Compiler:
        sg = self.sg
        node_shapes: set[Any] = set(sg.subjects(RDF.type, SH.NodeShape))
        for t in _TARGETS:
            node_shapes.update(sg.subjects(t, None))
        for s in sg.subjects(RDF.type, RDFS.Class):
            if (s, RDF.type, SH.NodeShape) in sg or (s, RDF.type, SH.PropertyShape) in sg:
                node_shapes.add(s)
        for shape in sorted(node_shapes, key=str):
            if sg.value(shape, SH.deactivated) == Literal(True):
                continue
            try:
                plan = self._node_shape(shape)
            except Unsupported:
                self.fallback.append(shape)
                continue
            if plan is not None:
                self.plans.append(plan)
        return self

    def _severity(self, shape: Any) -> str:
        return str(self.sg.value(shape, SH.severity) or SH.Violation)

    def _focus(self, shape: Any) -> str | None:
        sg = self.sg
        parts = []
        classes = [str(c) for c in sg.objects(shape, SH.targetClass)]
        if (shape, RDF.type, RDFS.Class) in sg:
            classes.append(str(shape))
        for cls in sorted(set(classes)):
            values = " ".join(_iri(c) for c in self.subclasses(cls))
            parts.append(f"{{ ?this a ?__t . VALUES ?__t {{ {values} }} }}")
        nodes = sorted(sg.objects(shape, SH.targetNode), key=str)
        for n in nodes:
            if isinstance(n, BNode):
                raise Unsupported("blank target node")
            parts.append(f"{{ VALUES ?this {{ {_term(n)} }} }}")
        for p in sorted(sg.objects(shape, SH.targetSubjectsOf), key=str):
            parts.append(f"{{ ?this {_iri(p)} ?__o }}")
        for p in sorted(sg.objects(shape, SH.targetObjectsOf), key=str):
            parts.append(f"{{ ?__s {_iri(p)} ?this }}")
        if not parts:
            return None
        return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"

    def _check_params(self, shape: Any, allowed: set[Any]) -> None:
        for p in self.sg.predicates(shape):
            if p in allowed or p in _IGNORED or p in _TARGETS:
                continue
            if str(p).startswith(SHN) or p == SH.closed:
                raise Unsupported(f"{p} on {shape}")
        if self.sg.value(shape, SH.closed) == Literal(True):
            raise Unsupported("sh:closed true")

    def _node_shape(self, shape: Any) -> ShapePlan | None:
        focus = self._focus(shape)
        if focus is None:
            return None
        sg = self.sg
        self._check_params(shape, _VALUE_PARAMS)
        if (shape, SH.path, None) in sg:
            raise Unsupported("a property shape with targets")
        plan = ShapePlan(node=shape, focus=focus)
        own = PropertyPlan(shape=shape, node_shape=shape, path=None, severity=self._severity(shape))
        own.checks = self._value_checks(shape, "?v")
        if any(c.violation is None for c in own.checks):
            raise Unsupported("sh:datatype of a number or boolean on a node shape")
        if own.checks:
            plan.properties.append(own)
        for ps in sorted(sg.objects(shape, SH.property), key=str):
            if sg.value(ps, SH.deactivated) == Literal(True):
                continue
            plan.properties.append(self._property_shape(shape, ps))
        for c in sorted(sg.objects(shape, SH.sparql), key=str):
            plan.sparql.append(self._sparql(shape, c))
        return plan

    def _property_shape(self, node_shape: Any, ps: Any) -> PropertyPlan:
        sg = self.sg
        path = sg.value(ps, SH.path)
        if not isinstance(path, URIRef):
            raise Unsupported("a path that is not one IRI")
        self._check_params(ps, _VALUE_PARAMS | _PROPERTY_PARAMS)
        if (ps, SH.property, None) in sg or (ps, SH.sparql, None) in sg:
            raise Unsupported("nested property shapes or SPARQL on a property shape")
        plan = PropertyPlan(shape=ps, node_shape=node_shape, path=path, severity=self._severity(ps))
        plan.checks = self._value_checks(ps, "?v")
        min_count = sg.value(ps, SH.minCount)
        max_count = sg.value(ps, SH.maxCount)
        plan.min_count = int(min_count) if min_count is not None else None
        plan.max_count = int(max_count) if max_count is not None else None
        unique = sg.value(ps, SH.uniqueLang)
        plan.unique_lang = unique == Literal(True)
        qshape = sg.value(ps, SH.qualifiedValueShape)
        if qshape is not None:
            if sg.value(ps, SH.qualifiedValueShapesDisjoint) == Literal(True):
                raise Unsupported("disjoint qualified value shapes")
            conforms = self._conforms(qshape, "?v")
            qmin = sg.value(ps, SH.qualifiedMinCount)
            qmax = sg.value(ps, SH.qualifiedMaxCount)
            if qmin is not None:
                plan.qualified.append(("QualifiedMinCountConstraintComponent", int(qmin), conforms))
            if qmax is not None:
                plan.qualified.append(("QualifiedMaxCountConstraintComponent", int(qmax), conforms))
        return plan

    def _value_checks(self, shape: Any, v: str) -> list[ValueCheck]:
        sg = self.sg
        out: list[ValueCheck] = []
        for cls in sorted(sg.objects(shape, SH["class"]), key=str):
            values = " ".join(_iri(c) for c in self.subclasses(cls))
            expr = f"!EXISTS {{ {v} a ?__c . VALUES ?__c {{ {values} }} }}"
            if str(cls) not in self.classes:  # a class only the data may refine: follow subClassOf there
                expr = f"!EXISTS {{ {v} a/<{RDFS.subClassOf}>* {_iri(cls)} }}"
            out.append(ValueCheck("ClassConstraintComponent", SH["class"], expr, cls))
        for dt in sg.objects(shape, SH.datatype):
            if str(dt) in LOSSY:
                if v != "?v" or getattr(self, "_inner", False) or not self.lossy_ok:
                    raise Unsupported(f"{dt} inside a logical or qualified shape")
                out.append(ValueCheck("DatatypeConstraintComponent", SH.datatype, None, dt))
                continue
            s = f"STR({v})"
            ok = f"(isLiteral({v}) && datatype({v}) = {_iri(dt)} && {_wellformed(str(dt), s)})"
            if str(dt) == RDF_LANGSTRING:
                ok = f'(isLiteral({v}) && lang({v}) != "")'
            out.append(ValueCheck("DatatypeConstraintComponent", SH.datatype, f"!{ok}", dt))
        for kind in sg.objects(shape, SH.nodeKind):
            k = str(kind)[len(SHN) :]
            ok = {
                "IRI": f"isIRI({v})",
                "BlankNode": f"isBlank({v})",
                "Literal": f"isLiteral({v})",
                "BlankNodeOrIRI": f"(isIRI({v}) || isBlank({v}))",
                "BlankNodeOrLiteral": f"(isBlank({v}) || isLiteral({v}))",
                "IRIOrLiteral": f"(isIRI({v}) || isLiteral({v}))",
            }.get(k)
            if ok is None:
                raise Unsupported(f"node kind {kind}")
            out.append(ValueCheck("NodeKindConstraintComponent", SH.nodeKind, f"!{ok}", kind))
        for langs in sg.objects(shape, SH.languageIn):
            items = list(Collection(sg, langs))
            ok = " || ".join(f'langMatches(lang({v}), "{x!s}")' for x in items) if items else "false"
            out.append(
                ValueCheck("LanguageInConstraintComponent", SH.languageIn, f"!(isLiteral({v}) && ({ok}))", langs)
            )
        for members in sg.objects(shape, SH["or"]):
            parts = [self._conforms(m, v) for m in Collection(sg, members)]
            ok = " || ".join(f"({p})" for p in parts) if parts else "false"
            out.append(ValueCheck("OrConstraintComponent", SH["or"], f"!({ok})", members))
        return out

    def _conforms(self, shape: Any, v: str) -> str:
        """A shape made only of value constraints, as 'the value conforms' (else unsupported)."""
        for p, _o in self.sg.predicate_objects(shape):
            if p in _VALUE_PARAMS or p in (RDF.type, SH.name, SH.description, SH.message):
                continue
            raise Unsupported(f"{p} inside sh:or / sh:qualifiedValueShape")
        self._inner = True
        try:
            checks = self._value_checks(shape, v)
        finally:
            self._inner = False
        if not checks:
            return "true"
        return " && ".join(f"!({c.violation})" for c in checks)

    def _sparql(self, node_shape: Any, c: Any) -> SparqlPlan:
        sg = self.sg
        if sg.value(c, SH.deactivated) == Literal(True):
            raise Unsupported("deactivated SPARQL constraint")
        select = sg.value(c, SH.select)
        if select is None:
            raise Unsupported("a SPARQL constraint without sh:select")
        text = str(select)
        for var in ("$PATH", "$shapesGraph", "$currentShape", "?PATH", "?shapesGraph", "?currentShape"):
            if var in text:
                raise Unsupported(f"{var} in a SPARQL constraint")
        # Joining with the focus nodes equals pre-binding $this only for plain graph patterns:
        # anything that scopes variables or evaluates before the join is left to pyshacl.
        upper = re.sub(r'"[^"]*"|<[^>]*>', "", text).upper()
        if upper.count("SELECT") != 1 or re.search(
            r"\b(OPTIONAL|MINUS|VALUES|SERVICE|GRAPH|EXISTS|UNION|FROM|GROUP|HAVING|LIMIT|OFFSET|ORDER)\b", upper
        ):
            raise Unsupported("a SPARQL constraint whose pre-binding is not a plain join")
        if upper.count("{") != 1 or not re.search(r"\$this\s+(<|[A-Za-z][\w-]*:|a\b)", text):
            raise Unsupported("$this not bound by a triple pattern of one group")
        for bind in re.finditer(r"BIND\s*\((.*?)\bAS\b", text, re.IGNORECASE | re.DOTALL):
            if "$this" in bind.group(1) or "?this" in bind.group(1):
                raise Unsupported("$this inside BIND")
        prefixes = []
        owners = list(sg.objects(c, SH.prefixes))
        seen: set[Any] = set()
        while owners:  # sh:prefixes, and what they owl:imports
            owner = owners.pop()
            if owner in seen:
                continue
            seen.add(owner)
            owners.extend(sg.objects(owner, OWL.imports))
            for decl in sg.objects(owner, SH.declare):
                prefixes.append(f"PREFIX {sg.value(decl, SH.prefix)}: <{sg.value(decl, SH.namespace)}>")
        prefixes = sorted(set(prefixes))
        body = text.replace("$this", "?this")
        query = "\n".join(prefixes) + "\n" + body
        messages = sorted(sg.objects(c, SH.message), key=str)
        return SparqlPlan(node_shape, c, query, str(sg.value(c, SH.severity) or SH.Violation), messages)


def _term(node: Any) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise Unsupported(f"term {node!r}")


def _to_rdflib(term: Any) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(term)


PREFIXES = f"PREFIX xsd: <{XSD}>\nPREFIX rdf: <{RDF}>\nPREFIX rdfs: <{RDFS}>\n"


@dataclass
class RawResult:
    shape: Any
    component: str
    severity: str
    focus: Any
    path: Any | None
    value: Any | None
    source_constraint: Any | None = None
    messages: list[str] | None = None


class FastValidator:
    """Validate a pyoxigraph store against a shapes graph (see the module docstring)."""

    def __init__(
        self, shapes: Graph, extra: Iterable[Graph] = (), lines: Iterable[str] = (), *, blank_nodes: bool = False
    ) -> None:
        self.shapes = shapes
        self.extra = list(extra)
        self.lines = lines
        self.blank_nodes = blank_nodes
        self._by_pred: dict[str, list[tuple[str, str]]] | None = None
        self._wanted: set[str] | None = None
        self._focus_cache: dict[str, set[str]] = {}

    def values_of(self, predicate: str) -> list[tuple[str, str]]:
        """(subject IRI, object as written) of every original line with this predicate."""
        if self._by_pred is None:  # one pass over the lines, keeping the predicates asked for
            self._by_pred = {}
            wanted = self._wanted or set()
            for line in self.lines:
                s_end = line.index("> ")
                p_end = line.index("> ", s_end + 2)
                pred = line[s_end + 3 : p_end]
                if pred in wanted:
                    self._by_pred.setdefault(pred, []).append((line[1:s_end], line[p_end + 2 : -2]))
        return self._by_pred.get(predicate, [])

    def focus_set(self, store: ox.Store, plan: ShapePlan) -> set[str]:
        if plan.focus not in self._focus_cache:
            rows = store.query(f"{PREFIXES}SELECT ?this WHERE {{ {plan.focus} }}")
            self._focus_cache[plan.focus] = {r["this"].value for r in rows if isinstance(r["this"], ox.NamedNode)}
        return self._focus_cache[plan.focus]

    def class_closure(self, store: ox.Store) -> dict[str, list[str]]:
        """Class -> itself and its subclasses, from rdfs:subClassOf in the data (and ontology)."""
        # `+`, not `*`: a zero-length path would pair every node of the data with itself
        rows = store.query(f"SELECT ?sub ?sup WHERE {{ ?sub <{RDFS.subClassOf}>+ ?sup }}")
        out: dict[str, list[str]] = {}
        for row in rows:
            sub, sup = row["sub"], row["sup"]
            if isinstance(sub, ox.NamedNode) and isinstance(sup, ox.NamedNode):
                out.setdefault(sup.value, [sup.value]).append(sub.value)
        for cls in set(self.shapes.objects(None, SH.targetClass)) | set(self.shapes.objects(None, SH["class"])):
            out.setdefault(str(cls), [str(cls)])
        return {k: sorted(set(v)) for k, v in out.items()}

    def run(self, store: ox.Store) -> tuple[list[RawResult], list[Any]]:
        compiler = Compiler(self.shapes, self.class_closure(store), lossy_ok=not self.blank_nodes).compile()
        self.compiler = compiler
        self._wanted = {
            str(p.path)
            for plan in compiler.plans
            for p in plan.properties
            if any(c.violation is None for c in p.checks)
        }
        results: list[RawResult] = []
        fallback = []
        for shape in compiler.fallback:  # a shape with no focus node gives no result, whatever it checks
            try:
                focus = compiler._focus(shape)
            except Unsupported:
                fallback.append(shape)
                continue
            if focus is not None and store.query(f"{PREFIXES}ASK {{ {focus} }}"):
                fallback.append(shape)
        compiler.fallback = fallback
        for plan in compiler.plans:
            if not store.query(f"{PREFIXES}ASK {{ {plan.focus} }}"):
                continue  # no focus node: nothing to check
            for prop in plan.properties:
                results.extend(self._property(store, plan, prop))
            for sp in plan.sparql:
                results.extend(self._sparql(store, plan, sp))
        return results, compiler.fallback

    def _property(self, store: ox.Store, plan: ShapePlan, prop: PropertyPlan) -> list[RawResult]:
        out: list[RawResult] = []
        values = f"?this <{prop.path}> ?v ." if prop.path is not None else "BIND(?this AS ?v)"
        for c in prop.checks:
            if c.violation is not None or prop.path is None:
                continue
            focus = self.focus_set(store, plan)
            dt = str(c.rule)
            suffix = f'"^^<{dt}>'
            for subject, obj in self.values_of(str(prop.path)):
                if subject not in focus:
                    continue
                plain = obj.endswith(suffix) and obj.startswith('"') and "\\" not in obj
                if plain and python_wellformed(obj[1 : -len(suffix)], dt):
                    continue
                term = parse_object(obj)
                ok = isinstance(term, Literal) and str(term.datatype) == dt and python_wellformed(str(term), dt)
                if not ok:
                    out.append(RawResult(prop.shape, c.component, prop.severity, URIRef(subject), prop.path, term))
        sparql_checks = [c for c in prop.checks if c.violation is not None]
        if sparql_checks:
            binds = " ".join(f"BIND(COALESCE({c.violation}, false) AS ?__b{i})" for i, c in enumerate(sparql_checks))
            cond = " || ".join(f"?__b{i}" for i in range(len(sparql_checks)))
            proj = " ".join(f"?__b{i}" for i in range(len(sparql_checks)))
            q = f"{PREFIXES}SELECT ?this ?v {proj} WHERE {{ {plan.focus} {values} {binds} FILTER({cond}) }}"
            for row in store.query(q):
                for i, c in enumerate(sparql_checks):
                    b = row[f"__b{i}"]
                    if b is not None and b.value == "true":
                        out.append(
                            RawResult(prop.shape, c.component, prop.severity, row["this"], prop.path, row["v"], None)
                        )
        counts = prop.min_count is not None or prop.max_count is not None or prop.qualified
        if counts and prop.path is not None:
            qsel = []
            qbind = []
            having = []
            if prop.min_count is not None:
                having.append(f"COUNT(DISTINCT ?v) < {prop.min_count}")
            if prop.max_count is not None:
                having.append(f"COUNT(DISTINCT ?v) > {prop.max_count}")
            for i, (component, bound, conforms) in enumerate(prop.qualified):
                qbind.append(f"BIND(IF(COALESCE({conforms}, false), ?v, ?__none) AS ?__q{i})")
                qsel.append(f"(COUNT(DISTINCT ?__q{i}) AS ?__qc{i})")
                op = "<" if component.startswith("QualifiedMin") else ">"
                having.append(f"COUNT(DISTINCT ?__q{i}) {op} {bound}")
            q = (
                f"{PREFIXES}SELECT ?this (COUNT(DISTINCT ?v) AS ?__n) {' '.join(qsel)} WHERE {{ {plan.focus} "
                f"OPTIONAL {{ ?this <{prop.path}> ?v . {' '.join(qbind)} }} }} GROUP BY ?this "
                f"HAVING ({' || '.join(having)})"
            )
            for row in store.query(q):
                n = int(row["__n"].value)
                if prop.min_count is not None and n < prop.min_count:
                    out.append(
                        RawResult(
                            prop.shape, "MinCountConstraintComponent", prop.severity, row["this"], prop.path, None
                        )
                    )
                if prop.max_count is not None and n > prop.max_count:
                    out.append(
                        RawResult(
                            prop.shape, "MaxCountConstraintComponent", prop.severity, row["this"], prop.path, None
                        )
                    )
                for i, (component, bound, _c) in enumerate(prop.qualified):
                    k = int(row[f"__qc{i}"].value)
                    if (component.startswith("QualifiedMin") and k < bound) or (
                        component.startswith("QualifiedMax") and k > bound
                    ):
                        out.append(RawResult(prop.shape, component, prop.severity, row["this"], prop.path, None))
        if prop.unique_lang and prop.path is not None:
            q = (
                f"{PREFIXES}SELECT ?this ?__lang WHERE {{ {plan.focus} ?this <{prop.path}> ?v . "
                f'FILTER(isLiteral(?v)) BIND(LCASE(lang(?v)) AS ?__lang) FILTER(?__lang != "") }} '
                f"GROUP BY ?this ?__lang HAVING (COUNT(DISTINCT ?v) > 1)"
            )
            for row in store.query(q):
                out.append(
                    RawResult(prop.shape, "UniqueLangConstraintComponent", prop.severity, row["this"], prop.path, None)
                )
        return out

    def _sparql(self, store: ox.Store, plan: ShapePlan, sp: SparqlPlan) -> list[RawResult]:
        out: list[RawResult] = []
        prefix_lines = [ln for ln in sp.query.splitlines() if ln.strip().upper().startswith("PREFIX")]
        body = "\n".join(ln for ln in sp.query.splitlines() if not ln.strip().upper().startswith("PREFIX"))
        q = "\n".join(prefix_lines) + f"\nSELECT * WHERE {{ {plan.focus} {{ {body} }} }}"
        rows = store.query(q)
        variables = [v.value for v in rows.variables]
        for row in rows:
            bound = {name: _to_rdflib(row[name]) for name in variables if row[name] is not None}
            focus = row["this"]
            messages = []
            for m in sp.messages:
                text = str(m)
                for var, val in bound.items():
                    import re

                    text = re.sub(f"{{[?$]{var}}}", str(val).replace("\\", "\\\\"), text)
                messages.append(text)
            out.append(
                RawResult(
                    plan.node,
                    "SPARQLConstraintComponent",
                    sp.severity,
                    focus,
                    bound.get("path"),
                    bound.get("value"),
                    sp.constraint,
                    messages,
                )
            )
        return out


__all__ = ["CLAIMED", "Compiler", "FastValidator", "RawResult", "Unsupported"]
