"""Load ``schema/model.yaml``: the single description of classes, properties and CSV tables.

Every other artefact (ontology, shapes, JSON-LD context, JSON Schemas) is generated from it,
and the pipeline reads it to know what a facts key means, so the vocabulary cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import LoadError

KINDS = {"ref", "date", "langmap", "zh", "count", "boolean", "string", "decimal", "any"}


@dataclass(frozen=True)
class Constraint:
    """A property's cardinality on one class."""

    min: int = 0
    max: int | None = None
    required_langs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PropertyDef:
    name: str
    iri: str
    kind: str
    range: tuple[str, ...] = ()
    sub_property_of: tuple[str, ...] = ()
    generated: bool = False
    label: dict[str, str] = field(default_factory=dict)
    comment: dict[str, str] = field(default_factory=dict)
    own: bool = True  # declared by our ontology (False for rdfs:label etc.)
    closes_period: bool = False  # a date property that takes a stated period's end (endDate, validUntil)
    values: tuple[str, ...] = ()  # a string property restricted to these values (sh:in, JSON Schema enum)
    scheme: str | None = None  # a ref property whose values are the concepts of this scheme (sh:in)
    #: the evidence of a statement with this property is expected to name its value (a linked
    #: entity by one of its names, or the text itself): the `inferences` validator warns otherwise
    named_in_evidence: bool = False


@dataclass(frozen=True)
class ClassDef:
    name: str
    iri: str
    parents: tuple[str, ...]  # model class names
    external_parents: tuple[str, ...]  # CURIEs of aligned vocabularies
    abstract: bool
    generated: bool
    label: dict[str, str]
    comment: dict[str, str]
    constraints: dict[str, Constraint]
    ordered: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ConceptScheme:
    """A SKOS concept scheme of the model (``schemes:``): its concepts are ``pt:<name>``."""

    name: str
    iri: str
    label: dict[str, str]
    comment: dict[str, str]
    #: concept name -> (label, definition), each {lang: text}
    concepts: dict[str, tuple[dict[str, str], dict[str, str]]]

    def concept_iri(self, ns: str, name: str) -> str:
        return ns + name


@dataclass(frozen=True)
class Table:
    name: str
    class_name: str
    title: dict[str, str]
    reverse: dict[str, str] = field(default_factory=dict)  # column -> property pointing here


class Model:
    def __init__(self, raw: dict[str, Any], path: Path) -> None:
        self.path = path
        self.raw = raw
        self.prefixes: dict[str, str] = dict(raw["prefixes"])
        self.ontology: dict[str, Any] = dict(raw["ontology"])
        self.ns: str = self.ontology["namespace"]
        self.shapes_ns: str = self.ontology["shapes"]
        self.properties: dict[str, PropertyDef] = {}
        for name, p in raw["properties"].items():
            iri = self.expand(p["iri"]) if "iri" in p else self.ns + name
            if p["kind"] not in KINDS:
                raise LoadError(f"property {name}: unknown kind {p['kind']}", file=path)
            self.properties[name] = PropertyDef(
                name=name,
                iri=iri,
                kind=p["kind"],
                range=tuple(p.get("range", ())),
                sub_property_of=tuple(p.get("subPropertyOf", ())),
                generated=bool(p.get("generated", False)),
                label=dict(p.get("label", {})),
                comment=dict(p.get("comment", {})),
                own="iri" not in p,
                values=tuple(p.get("values", ())),
                closes_period=bool(p.get("closesPeriod", False)),
                scheme=p.get("scheme"),
                named_in_evidence=bool(p.get("namedInEvidence", False)),
            )
        self.classes: dict[str, ClassDef] = {}
        for name, c in raw["classes"].items():
            parents = tuple(s for s in c.get("subClassOf", ()) if ":" not in s)
            external = tuple(s for s in c.get("subClassOf", ()) if ":" in s)
            constraints = {
                prop: Constraint(
                    min=int(spec.get("min", 0)),
                    max=spec.get("max"),
                    required_langs=tuple(spec.get("required_langs", ())),
                )
                for prop, spec in (c.get("properties") or {}).items()
            }
            for prop in constraints:
                if prop not in self.properties:
                    raise LoadError(f"class {name}: unknown property {prop}", file=path)
            self.classes[name] = ClassDef(
                name=name,
                iri=self.ns + name,
                parents=parents,
                external_parents=external,
                abstract=bool(c.get("abstract", False)),
                generated=bool(c.get("generated", False)),
                label=dict(c["label"]),
                comment=dict(c["comment"]),
                constraints=constraints,
                ordered=tuple(tuple(pair) for pair in c.get("ordered", ())),  # type: ignore[misc]
            )
        self.schemes: dict[str, ConceptScheme] = {
            name: ConceptScheme(
                name=name,
                iri=self.ns + name,
                label=dict(sc["label"]),
                comment=dict(sc["comment"]),
                concepts={c: (dict(d["label"]), dict(d["definition"])) for c, d in sc["concepts"].items()},
            )
            for name, sc in (raw.get("schemes") or {}).items()
        }
        for prop in self.properties.values():
            if prop.scheme is not None and prop.scheme not in self.schemes:
                raise LoadError(f"property {prop.name}: unknown scheme {prop.scheme}", file=path)
        self.tables: dict[str, Table] = {
            name: Table(name=name, class_name=t["class"], title=dict(t["title"]), reverse=dict(t.get("reverse", {})))
            for name, t in raw["tables"].items()
        }

    def expand(self, curie: str) -> str:
        prefix, _, local = curie.partition(":")
        if prefix in self.prefixes:
            return self.prefixes[prefix] + local
        return curie

    def class_iri(self, name: str) -> str:
        return self.classes[name].iri

    def ancestors(self, name: str) -> list[str]:
        """The class and all its model superclasses, nearest first, without repeats."""
        out: list[str] = []
        todo = [name]
        while todo:
            cur = todo.pop(0)
            if cur in out:
                continue
            out.append(cur)
            todo.extend(self.classes[cur].parents)
        return out

    def descendants(self, name: str) -> list[str]:
        return [c for c in self.classes if name in self.ancestors(c)]

    def constraints_for(self, class_names: list[str] | tuple[str, ...]) -> dict[str, Constraint]:
        """Every property allowed on a resource of these classes (inherited ones included)."""
        out: dict[str, Constraint] = {}
        for cls in class_names:
            for anc in reversed(self.ancestors(cls)):
                for prop, con in self.classes[anc].constraints.items():
                    out.setdefault(prop, con)
        return out

    @cached_property
    def property_by_iri(self) -> dict[str, PropertyDef]:
        return {p.iri: p for p in self.properties.values()}

    @cached_property
    def class_by_iri(self) -> dict[str, ClassDef]:
        return {c.iri: c for c in self.classes.values()}

    @property
    def authored_classes(self) -> list[str]:
        return [n for n, c in self.classes.items() if not c.abstract and not c.generated]

    def column_property(self, column: str) -> tuple[str, str | None]:
        """The property a CSV column shows and its language: ``label_zh`` -> (label, zh)."""
        if column.endswith(("_zh", "_en")) and column.rsplit("_", 1)[0] in self.properties:
            name, lang = column.rsplit("_", 1)
            return name, lang
        return column, None

    def table_columns(self, table: Table) -> list[str]:
        """Stable column order: identity, labels, then the class's properties in model order."""
        cols = ["id", "types", "label_zh", "label_en", "comment_zh", "comment_en"]
        members = self.descendants(table.class_name)
        seen: list[str] = []
        for cls in [table.class_name, *members]:
            for prop in self.constraints_for([cls]):
                if prop in ("label", "comment", "evidence") or prop in seen:
                    continue
                seen.append(prop)
        for prop in seen:
            kind = self.properties[prop].kind
            if kind == "langmap":
                cols += [f"{prop}_zh", f"{prop}_en"]
            else:
                cols.append(prop)
        if "evidence" in self.constraints_for([table.class_name]):
            cols.append("evidence")
        cols.extend(table.reverse)
        return cols


def load_model(schema_dir: Path) -> Model:
    path = schema_dir / "model.yaml"
    try:
        # libyaml's safe loader when present: the same document, parsed ten times faster
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise LoadError(f"cannot load the model: {exc}", file=path) from None
    return Model(raw, path)
