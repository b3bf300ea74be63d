"""Generate the ontology, SHACL shapes, JSON-LD context and JSON Schemas from the model.

Generated files are committed in ``schema/`` so that people and other tools can read them;
``policy-toolkit schema --check`` (run in CI) fails when they drift from ``model.yaml``.
All output is deterministic: the same model gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS, XSD

from toolkit.schema.model import Model, load_model

DCT = Namespace("http://purl.org/dc/terms/")
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DATE_PATTERN = r"^-?[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
IRI_PATTERN = r"^https?://[^\s<>\"{}|\\^`]+$"
IRI_OR_CURIE_PATTERN = r"^(https?://[^\s<>\"{}|\\^`]+|(pt|rdf|rdfs|xsd):[A-Za-z0-9_-]+)$"

GENERATED_FILES = (
    "ontology.ttl",
    "shapes.ttl",
    "context.jsonld",
    "facts.schema.json",
    "jsonld.schema.json",
    "csv.schema.json",
)


def _bind(g: Graph, model: Model) -> None:
    for prefix, ns in sorted(model.prefixes.items()):
        g.bind(prefix, Namespace(ns), override=True, replace=True)


def _langs(g: Graph, s: URIRef, p: URIRef, texts: dict[str, str]) -> None:
    for lang, text in sorted(texts.items()):
        g.add((s, p, Literal(text, lang=lang)))


def _turtle(g: Graph) -> str:
    return g.serialize(format="turtle")


def ontology_graph(model: Model) -> Graph:
    g = Graph()
    _bind(g, model)
    ont = URIRef(model.ontology["iri"])
    g.add((ont, RDF.type, OWL.Ontology))
    g.add((ont, OWL.versionInfo, Literal(model.ontology["version"])))
    _langs(g, ont, DCT.title, model.ontology["title"])
    _langs(g, ont, RDFS.comment, model.ontology["comment"])
    g.add((ont, DCT.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    for cls in model.classes.values():
        s = URIRef(cls.iri)
        g.add((s, RDF.type, OWL.Class))
        g.add((s, RDFS.isDefinedBy, ont))
        _langs(g, s, RDFS.label, cls.label)
        _langs(g, s, RDFS.comment, cls.comment)
        for parent in cls.parents:
            g.add((s, RDFS.subClassOf, URIRef(model.class_iri(parent))))
        for ext in cls.external_parents:
            g.add((s, RDFS.subClassOf, URIRef(model.expand(ext))))
    for prop in model.properties.values():
        if not prop.own:
            continue
        s = URIRef(prop.iri)
        kind = OWL.ObjectProperty if prop.kind == "ref" else OWL.DatatypeProperty
        g.add((s, RDF.type, kind))
        g.add((s, RDFS.isDefinedBy, ont))
        _langs(g, s, RDFS.label, prop.label)
        _langs(g, s, RDFS.comment, prop.comment)
        for sup in prop.sub_property_of:
            g.add((s, RDFS.subPropertyOf, URIRef(model.expand(sup))))
        if len(prop.range) == 1:
            g.add((s, RDFS.range, URIRef(model.class_iri(prop.range[0]))))
        elif prop.kind in _DATATYPE:
            g.add((s, RDFS.range, _DATATYPE[prop.kind]))
        domains = [c.name for c in model.classes.values() if prop.name in c.constraints]
        if len(domains) == 1:
            g.add((s, RDFS.domain, URIRef(model.class_iri(domains[0]))))
        if prop.scheme is not None:
            g.add((s, RDFS.range, SKOS.Concept))
    for scheme in model.schemes.values():
        s = URIRef(scheme.iri)
        g.add((s, RDF.type, SKOS.ConceptScheme))
        g.add((s, RDFS.isDefinedBy, ont))
        _langs(g, s, SKOS.prefLabel, scheme.label)
        _langs(g, s, RDFS.comment, scheme.comment)
        for name, (label, definition) in scheme.concepts.items():
            c = URIRef(scheme.concept_iri(model.ns, name))
            g.add((c, RDF.type, SKOS.Concept))
            g.add((c, SKOS.inScheme, s))
            g.add((c, SKOS.topConceptOf, s))
            g.add((s, SKOS.hasTopConcept, c))
            _langs(g, c, SKOS.prefLabel, label)
            _langs(g, c, SKOS.definition, definition)
    return g


_DATATYPE = {
    "count": XSD.nonNegativeInteger,
    "decimal": XSD.decimal,
    "boolean": XSD.boolean,
    "string": XSD.string,
    "zh": RDF.langString,
    "langmap": RDF.langString,
}


def _list(g: Graph, items: list[Any]) -> BNode:
    head = BNode()
    Collection(g, head, items)
    return head


def _or_shapes(g: Graph, key: URIRef, values: list[URIRef]) -> BNode:
    members = []
    for v in values:
        b = BNode()
        g.add((b, key, v))
        members.append(b)
    return _list(g, members)


def shapes_graph(model: Model) -> Graph:
    g = Graph()
    _bind(g, model)
    ns = Namespace(model.shapes_ns)
    for cls in model.classes.values():
        shape = ns[f"{cls.name}Shape"]
        g.add((shape, RDF.type, SH.NodeShape))
        g.add((shape, SH.targetClass, URIRef(cls.iri)))
        _langs(g, shape, SH.name, cls.label)
        for prop_name, con in cls.constraints.items():
            prop = model.properties[prop_name]
            ps = ns[f"{cls.name}-{prop_name}"]
            g.add((shape, SH.property, ps))
            g.add((ps, RDF.type, SH.PropertyShape))
            g.add((ps, SH.path, URIRef(prop.iri)))
            _langs(g, ps, SH.name, prop.label or {"en": prop_name})
            if con.min:
                g.add((ps, SH.minCount, Literal(con.min)))
            if con.max is not None:
                g.add((ps, SH.maxCount, Literal(con.max)))
            if prop_name == "evidence":
                g.add(
                    (
                        ps,
                        SH.message,
                        Literal("every fact needs evidence: add a verbatim quote from the source", lang="en"),
                    )
                )
            _kind_constraints(g, model, ps, prop.kind, prop.range)
            if prop.scheme is not None:
                scheme = model.schemes[prop.scheme]
                concepts = [URIRef(scheme.concept_iri(model.ns, c)) for c in scheme.concepts]
                g.add((ps, SH["in"], _list(g, concepts)))
            if prop.values:
                g.add((ps, SH["in"], _list(g, [Literal(v) for v in prop.values])))
            for lang in con.required_langs:
                qs = ns[f"{cls.name}-{prop_name}-{lang}"]
                g.add((shape, SH.property, qs))
                g.add((qs, RDF.type, SH.PropertyShape))
                g.add((qs, SH.path, URIRef(prop.iri)))
                inner = BNode()
                g.add((inner, SH.languageIn, _list(g, [Literal(lang)])))
                g.add((qs, SH.qualifiedValueShape, inner))
                g.add((qs, SH.qualifiedMinCount, Literal(1)))
                g.add((qs, SH.message, Literal(f"needs a value in language '{lang}'", lang="en")))
        for first, second in cls.ordered:
            _ordered_constraint(g, model, ns[f"{cls.name}-{first}-before-{second}"], shape, first, second)
    return g


def _kind_constraints(g: Graph, model: Model, ps: URIRef, kind: str, rng: tuple[str, ...]) -> None:
    if kind == "ref":
        g.add((ps, SH.nodeKind, SH.IRI))
        if len(rng) == 1:
            g.add((ps, SH["class"], URIRef(model.class_iri(rng[0]))))
        elif rng:
            g.add((ps, SH["or"], _or_shapes(g, SH["class"], [URIRef(model.class_iri(r)) for r in rng])))
    elif kind == "date":
        g.add((ps, SH["or"], _or_shapes(g, SH.datatype, [XSD.date, XSD.gYearMonth, XSD.gYear])))
    elif kind == "langmap":
        g.add((ps, SH.datatype, RDF.langString))
        g.add((ps, SH.languageIn, _list(g, [Literal("zh"), Literal("en")])))
        g.add((ps, SH.uniqueLang, Literal(True)))
    elif kind == "zh":
        g.add((ps, SH.datatype, RDF.langString))
        g.add((ps, SH.languageIn, _list(g, [Literal("zh")])))
    elif kind == "any":
        return
    else:
        g.add((ps, SH.datatype, _DATATYPE[kind]))


def _ordered_constraint(g: Graph, model: Model, node: URIRef, shape: URIRef, first: str, second: str) -> None:
    a = model.properties[first].iri
    b = model.properties[second].iri
    if model.properties[first].kind == "date":
        # Dates of mixed precision compare on their common prefix: "2025" vs "2022-08" -> "2025" vs "2022".
        test = (
            "  BIND (IF(STRLEN(STR(?start)) < STRLEN(STR(?value)), STRLEN(STR(?start)), STRLEN(STR(?value))) AS ?n)\n"
            "  FILTER (SUBSTR(STR(?value), 1, ?n) < SUBSTR(STR(?start), 1, ?n))\n"
        )
    else:
        test = "  FILTER (?value < ?start)\n"
    query = (
        "SELECT $this ?value ?path ?start WHERE {\n"
        f"  $this <{a}> ?start ; <{b}> ?value .\n"
        f"  BIND (<{b}> AS ?path)\n"
        f"{test}"
        "}"
    )
    g.add((shape, SH.sparql, node))
    g.add((node, RDF.type, SH.SPARQLConstraint))
    g.add((node, SH.select, Literal(query)))
    g.add((node, SH.message, Literal(f"{second} ({{?value}}) is before {first} ({{?start}})", lang="en")))


def context_document(model: Model) -> dict[str, Any]:
    ctx: dict[str, Any] = {"@version": 1.1}
    for prefix in ("pt", "xsd", "rdfs", "rdf"):
        ctx[prefix] = model.prefixes[prefix]
    ctx["id"] = "@id"
    ctx["type"] = "@type"
    for name in sorted(model.classes):
        ctx[name] = f"pt:{name}"
    for name in sorted(model.properties):
        prop = model.properties[name]
        iri = _compact(model, prop.iri)
        term: dict[str, Any] = {"@id": iri}
        if prop.kind == "ref":
            term["@type"] = "@id"
            if not single_valued(model, name):
                term["@container"] = "@set"
        elif prop.kind == "langmap":
            term["@container"] = "@language"
        elif prop.kind == "zh":
            term["@language"] = "zh"
        elif prop.kind in ("count", "boolean", "decimal"):
            term["@type"] = _compact(model, str(_DATATYPE[prop.kind]))
        ctx[name] = term
    return {"@context": ctx}


def single_valued(model: Model, prop: str) -> bool:
    cons = [c.constraints[prop] for c in model.classes.values() if prop in c.constraints]
    return bool(cons) and all(c.max == 1 for c in cons)


def _compact(model: Model, iri: str) -> str:
    for prefix in ("pt", "xsd", "rdfs", "rdf"):
        ns = model.prefixes[prefix]
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def _kind_defs() -> dict[str, Any]:
    return {
        "slug": {
            "type": "string",
            "pattern": SLUG_PATTERN,
            "description": "an identifier: lower-case letters, digits and single hyphens, e.g. g60-corridor",
        },
        "ref": {"$ref": "#/$defs/slug"},
        "refs": {
            "description": "an entity id or a list of entity ids",
            "anyOf": [
                {"$ref": "#/$defs/slug"},
                {"type": "array", "items": {"$ref": "#/$defs/slug"}, "minItems": 1, "uniqueItems": True},
            ],
        },
        "date": {
            "description": "a date as YYYY-MM-DD, YYYY-MM or YYYY, or {stated: '今年9月1日'} for a relative date"
            " (optionally with value:, note:, and since: for an anniversary)",
            "anyOf": [
                {"type": "string", "pattern": DATE_PATTERN},
                {"type": "integer", "minimum": 1, "maximum": 9999},
                {
                    "type": "object",
                    "required": ["stated"],
                    "additionalProperties": False,
                    "properties": {
                        "stated": {"type": "string", "minLength": 1},
                        "value": {"anyOf": [{"type": "string", "pattern": DATE_PATTERN}, {"type": "integer"}]},
                        "note": {"$ref": "#/$defs/langmap"},
                        "since": {
                            "anyOf": [{"type": "string", "pattern": DATE_PATTERN}, {"type": "integer"}],
                            "description": "the stated start an anniversary (五周年) counts from",
                        },
                    },
                },
            ],
        },
        "langmap": {
            "type": "object",
            "description": "text in Chinese and English: {zh: ..., en: ...}",
            "required": ["zh", "en"],
            "additionalProperties": False,
            "properties": {
                "zh": {"type": "string", "minLength": 1},
                "en": {"type": "string", "minLength": 1},
            },
        },
        "zh": {"type": "string", "minLength": 1, "description": "Chinese text"},
        "count": {"type": "integer", "minimum": 0, "description": "a whole number, 0 or more"},
        "decimal": {
            "description": "a number, such as 9 or 3.5, or {stated: 九} for a number written in Chinese numerals",
            "anyOf": [
                {"type": "number"},
                {
                    "type": "object",
                    "required": ["stated"],
                    "additionalProperties": False,
                    "properties": {"stated": {"type": "string", "minLength": 1}},
                },
            ],
        },
        "boolean": {"type": "boolean", "description": "true or false"},
        "string": {"type": "string", "minLength": 1},
    }


def _prop_schema(model: Model, name: str) -> dict[str, Any]:
    prop = model.properties[name]
    kind = prop.kind
    if kind == "ref":
        return {"$ref": "#/$defs/ref" if single_valued(model, name) else "#/$defs/refs"}
    if prop.values:
        return {"enum": list(prop.values), "description": "one of: " + ", ".join(prop.values)}
    return {"$ref": f"#/$defs/{kind}"}


def _mark_defs(model: Model, authored: list[str]) -> dict[str, Any]:
    """The facts-file form of inference marks (``inferred:``) and attributions (``attributed:``):
    maps from a property of the entry to what is said about its value(s)."""
    methods = [
        c
        for p in model.properties.values()
        if p.scheme is not None
        for c in model.schemes[p.scheme].concepts
        if c not in ("attributed-claim", "relative-date")  # written as attributed: / {stated: ...}
    ]
    value = {
        "description": "which of the property's values the mark is about (an entity id, a date, the text), "
        "when it has several",
        "anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}, {"type": "boolean"}],
    }
    mark = {
        "type": "object",
        "required": ["method", "note"],
        "additionalProperties": False,
        "description": "how the value was inferred: {method: " + "|".join(methods) + ", note: {zh: ..., en: ...}}",
        "properties": {
            "method": {"enum": methods, "description": "one of: " + ", ".join(methods)},
            "note": {"$ref": "#/$defs/langmap"},
            "value": value,
        },
    }
    names = {"enum": sorted(authored), "description": "a property of this entry"}
    return {
        "mark": mark,
        "inferred": {
            "type": "object",
            "minProperties": 1,
            "description": "inference marks: {<property>: {method: ..., note: {zh, en}}} or a list of such marks",
            "propertyNames": names,
            "additionalProperties": {
                "description": "a mark {method: " + " | ".join(methods) + ", note: {zh: ..., en: ...}} "
                "(and value: when the property has several), or a list of marks",
                "anyOf": [
                    {"$ref": "#/$defs/mark"},
                    {"type": "array", "items": {"$ref": "#/$defs/mark"}, "minItems": 1},
                ],
            },
        },
        "attributed": {
            "type": "object",
            "minProperties": 1,
            "description": "values published as the article's claim, not as facts: {<property>: {note: {zh, en}}}",
            "propertyNames": names,
            "additionalProperties": {
                "type": "object",
                "required": ["note"],
                "additionalProperties": False,
                "properties": {"note": {"$ref": "#/$defs/langmap"}},
            },
        },
    }


def facts_schema(model: Model) -> dict[str, Any]:
    authored = [
        n
        for n, p in model.properties.items()
        if not p.generated and any(n in c.constraints for c in model.classes.values() if not c.generated)
    ]
    entity_props: dict[str, Any] = {
        "id": {"$ref": "#/$defs/slug"},
        "type": {
            "description": "a class name such as City, or a list of them",
            "anyOf": [
                {"$ref": "#/$defs/className"},
                {"type": "array", "items": {"$ref": "#/$defs/className"}, "minItems": 1, "uniqueItems": True},
            ],
        },
        "evidence": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 2},
            "description": "verbatim quotes from the source text that support this entity's facts",
        },
    }
    for name in authored:
        entity_props[name] = _prop_schema(model, name)
    entity_props["inferred"] = {"$ref": "#/$defs/inferred"}
    entity_props["attributed"] = {"$ref": "#/$defs/attributed"}
    source_cls = model.classes["SourceArticle"]
    source_props: dict[str, Any] = {
        "id": {"$ref": "#/$defs/slug"},
        "text": {"type": "string", "pattern": r"^[^/\\]+$", "description": "file name of the archived text"},
        "body": {
            "type": "object",
            "required": ["start", "end"],
            "additionalProperties": False,
            "description": "first and last words of the article body in the archived text",
            "properties": {"start": {"type": "string", "minLength": 2}, "end": {"type": "string", "minLength": 2}},
        },
    }
    source_props["inferred"] = {"$ref": "#/$defs/inferred"}
    required_source = ["id", "text", "body"]
    for name, con in source_cls.constraints.items():
        if model.properties[name].generated:
            continue
        source_props[name] = _prop_schema(model, name)
        if con.min:
            required_source.append(name)
    defs = _kind_defs()
    markable = [
        n
        for n, p in model.properties.items()
        if not p.generated and any(n in c.constraints for c in model.classes.values())
    ]
    defs.update(_mark_defs(model, markable))
    defs["className"] = {"enum": sorted(model.authored_classes)}
    defs["entity"] = {
        "type": "object",
        "required": ["id", "type", "label", "evidence"],
        "additionalProperties": False,
        "properties": entity_props,
    }
    subject_props = {k: v for k, v in entity_props.items() if k not in ("id", "type", "attributed")}
    subject_props["subject"] = {
        "$ref": "#/$defs/slug",
        "description": "the id of an entity another source defines; this entry adds this source's facts about it",
    }
    defs["subjectEntry"] = {
        "type": "object",
        "required": ["subject", "evidence"],
        "additionalProperties": False,
        "properties": subject_props,
    }
    defs["source"] = {
        "type": "object",
        "required": required_source,
        "additionalProperties": False,
        "properties": source_props,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/policy-toolkit/schema/facts.schema.json",
        "title": "policy-toolkit facts file",
        "description": "One source's curated facts (datasets/sources/<source>/facts.yaml). Generated from model.yaml.",
        "type": "object",
        "required": ["source", "entities"],
        "additionalProperties": False,
        "properties": {
            "source": {"$ref": "#/$defs/source"},
            "entities": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "if": {"type": "object", "required": ["subject"]},
                    "then": {"$ref": "#/$defs/subjectEntry"},
                    "else": {"$ref": "#/$defs/entity"},
                },
            },
        },
        "$defs": defs,
    }


def jsonld_schema(model: Model) -> dict[str, Any]:
    typed = {
        "type": "object",
        "required": ["@value", "type"],
        "additionalProperties": False,
        "properties": {
            "@value": {"type": "string", "pattern": DATE_PATTERN},
            "type": {"enum": ["xsd:date", "xsd:gYearMonth", "xsd:gYear"]},
        },
    }
    node_props: dict[str, Any] = {
        "id": {"type": "string", "pattern": IRI_PATTERN},
        "type": {
            "anyOf": [
                {"enum": sorted(model.classes)},
                {"type": "array", "items": {"enum": sorted(model.classes)}, "minItems": 1},
            ]
        },
    }
    for name in sorted(model.properties):
        kind = model.properties[name].kind
        if kind == "ref":
            iri = {"type": "string", "pattern": IRI_OR_CURIE_PATTERN}
            node_props[name] = iri if single_valued(model, name) else {"type": "array", "items": iri, "minItems": 1}
        elif kind == "date":
            node_props[name] = typed
        elif kind == "langmap":
            node_props[name] = {
                "type": "object",
                "additionalProperties": False,
                "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
            }
        elif kind == "count":
            node_props[name] = {"type": "string", "pattern": "^[0-9]+$"}
        elif kind == "decimal":
            node_props[name] = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
        elif kind == "boolean":
            node_props[name] = {"enum": ["true", "false"]}
        elif kind == "any":
            node_props[name] = {}
        else:
            node_props[name] = {"type": "string"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/policy-toolkit/schema/jsonld.schema.json",
        "title": "policy-toolkit published JSON-LD document",
        "description": "The compacted JSON-LD of a release (policy.jsonld). Generated from model.yaml.",
        "type": "object",
        "required": ["@context", "@graph"],
        "additionalProperties": False,
        "properties": {
            "@context": {"type": "object"},
            "@graph": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "type"],
                    "additionalProperties": False,
                    "properties": node_props,
                },
            },
        },
    }


def csv_schema(model: Model) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for table in model.tables.values():
        props: dict[str, Any] = {}
        for col in model.table_columns(table):
            base = col.rsplit("_", 1)[0] if col.endswith(("_zh", "_en")) else col
            prop = model.properties.get(base)
            if col == "id":
                props[col] = {"type": "string", "pattern": IRI_PATTERN}
            elif col == "types":
                props[col] = {"type": "string", "pattern": r"^[A-Za-z]+( [A-Za-z]+)*$"}
            elif prop is not None and prop.kind == "ref":
                props[col] = {"type": "string", "pattern": r"^(https?://[^\s|]+(\|https?://[^\s|]+)*)?$"}
            elif prop is not None and prop.kind == "date":
                props[col] = {"type": "string", "pattern": r"^(-?[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)?$"}
            elif prop is not None and prop.kind == "count":
                props[col] = {"type": "string", "pattern": r"^[0-9]*$"}
            elif prop is not None and prop.kind == "decimal":
                props[col] = {"type": "string", "pattern": r"^(-?[0-9]+(\.[0-9]+)?)?$"}
            elif prop is not None and prop.kind == "boolean":
                props[col] = {"enum": ["", "true", "false"]}
            elif col == "evidence" or col in table.reverse:
                props[col] = {"type": "string", "pattern": r"^(https?://[^\s|]+(\|https?://[^\s|]+)*)?$"}
            else:
                props[col] = {"type": "string"}
        defs[table.name] = {
            "type": "object",
            "required": model.table_columns(table),
            "additionalProperties": False,
            "properties": props,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/policy-toolkit/schema/csv.schema.json",
        "title": "policy-toolkit CSV rows",
        "description": "One row of each published CSV table, all cells as text. Generated from model.yaml.",
        "$defs": defs,
    }


README = "README.md"
README_BEGIN = "<!-- data-model:begin (generated from schema/model.yaml by `policy-toolkit schema --write`) -->"
README_END = "<!-- data-model:end -->"


def _aligned(model: Model, names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def readme_section(model: Model) -> str:
    """The README's data-model diagram and table, from the model: no hand-written copy to drift.

    The diagram has one edge per link property and range (evidence, which every fact has,
    is drawn once); the table one row per class with its alignments and properties, each
    property with the terms it refines.
    """
    lines = ["```mermaid", "graph LR"]
    for cls in model.classes.values():
        for prop_name in cls.constraints:
            prop = model.properties[prop_name]
            if prop.kind != "ref" or prop_name == "evidence":
                continue
            for rng in prop.range or ("EvidencedResource",):
                lines.append(f"  {cls.name} -- {prop_name} --> {rng}")
    lines.append("  EvidencedResource -- evidence --> Evidence")
    for cls in model.classes.values():
        for parent in cls.parents:
            lines.append(f"  {cls.name} -.-> {parent}")
    lines += ["```", "", "| class | label | aligned with | properties (⊑ the terms they refine) |", "|---|---|---|---|"]
    for cls in model.classes.values():
        props = []
        for prop_name, con in cls.constraints.items():
            prop = model.properties[prop_name]
            card = f"{con.min}..{'*' if con.max is None else con.max}"
            sup = f" ⊑ {_aligned(model, prop.sub_property_of)}" if prop.sub_property_of else ""
            props.append(f"`{prop_name}` {card}{sup}")
        kind = " (abstract)" if cls.abstract else " (generated)" if cls.generated else ""
        aligned = _aligned(model, cls.parents + cls.external_parents)
        label = f"{cls.label.get('zh', '')} / {cls.label.get('en', '')}"
        lines.append(f"| `{cls.name}`{kind} | {label} | {aligned} | {'; '.join(props) or '—'} |")
    return "\n".join(lines) + "\n"


def readme_text(model: Model, current: str) -> str | None:
    """``current`` with the text between the markers regenerated, or None without markers."""
    start = current.find(README_BEGIN)
    end = current.find(README_END)
    if start < 0 or end < start:
        return None
    head = current[: start + len(README_BEGIN)]
    return head + "\n" + readme_section(model) + current[end:]


def _readme_path(schema_dir: Path) -> Path:
    return schema_dir.parent / README


def render_all(model: Model) -> dict[str, str]:
    def js(doc: Any) -> str:
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

    header = "# GENERATED from model.yaml by `policy-toolkit schema --write`. Do not edit.\n"
    return {
        "ontology.ttl": header + _turtle(ontology_graph(model)),
        "shapes.ttl": header + _turtle(shapes_graph(model)),
        "context.jsonld": js(context_document(model)),
        "facts.schema.json": js(facts_schema(model)),
        "jsonld.schema.json": js(jsonld_schema(model)),
        "csv.schema.json": js(csv_schema(model)),
    }


def write_all(model: Model, schema_dir: Path) -> list[str]:
    """Write every generated file; returns the names that changed."""
    changed = []
    for name, text in render_all(model).items():
        path = schema_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            changed.append(name)
    readme = _readme_path(schema_dir)
    if readme.is_file():
        current = readme.read_text(encoding="utf-8")
        text = readme_text(model, current)
        if text is not None and text != current:
            tmp = readme.with_suffix(".md.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(readme)
            changed.append(README)
    return changed


_CHECKED: dict[str, list[str]] = {}


def stale_files(schema_dir: Path) -> list[str]:
    """Like :func:`check_all` for the model in ``schema_dir``, remembered by the files' bytes.

    Why: `validate` checks the schema on every run (0.3 s to render every file); a process
    that validates many times (tests, a watcher) need not render again for the same bytes.
    The outputs are a pure function of model.yaml, so equal bytes (with the README's, whose
    data-model section is generated too) give an equal answer.
    """
    digest = hashlib.sha256()
    paths = [schema_dir / name for name in ("model.yaml", *GENERATED_FILES)] + [_readme_path(schema_dir)]
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"\1missing")
        digest.update(b"\0")
    key = digest.hexdigest()
    if key not in _CHECKED:
        _CHECKED[key] = check_all(load_model(schema_dir), schema_dir)
    return list(_CHECKED[key])


def check_all(model: Model, schema_dir: Path) -> list[str]:
    """Names of generated files that are missing or differ from what the model gives."""
    stale = []
    for name, text in render_all(model).items():
        path = schema_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    readme = _readme_path(schema_dir)
    if readme.is_file():  # a project copy without a README has nothing to drift
        current = readme.read_text(encoding="utf-8")
        if readme_text(model, current) not in (None, current):
            stale.append(README)
    return stale
