"""One CSV per main class (and one for evidence), columns in the model's stable order.

Cells are text: IRIs identify resources (several joined with ``|``), dates keep their
lexical form. Cells a spreadsheet would execute (= + - @ tab CR first) get a leading
apostrophe, the OWASP-recommended neutralisation.
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from toolkit.schema.model import Model, Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _types(g: Graph, model: Model, node: URIRef) -> list[str]:
    names = []
    for t in g.objects(node, RDF.type):
        cls = model.class_by_iri.get(str(t))
        if cls is not None:
            names.append(cls.name)
    return sorted(names)


def _cell(values: list[object]) -> str:
    return "|".join(sorted(str(v) for v in values))


def table_rows(g: Graph, model: Model, table: Table) -> list[dict[str, str]]:
    members = {model.class_iri(c) for c in model.descendants(table.class_name)}
    nodes = sorted({s for s, _, o in g.triples((None, RDF.type, None)) if str(o) in members and isinstance(s, URIRef)})
    columns = model.table_columns(table)
    rows = []
    for node in nodes:
        row = {c: "" for c in columns}
        row["id"] = str(node)
        row["types"] = " ".join(_types(g, model, node))
        for col in columns[2:]:
            name, lang = model.column_property(col)
            if col in table.reverse:
                pointer = URIRef(model.properties[table.reverse[col]].iri)
                row[col] = _cell(list(g.subjects(pointer, node)))
                continue
            prop = model.properties.get(name)
            if prop is None:
                continue
            values = list(g.objects(node, URIRef(prop.iri)))
            if lang:
                values = [v for v in values if isinstance(v, Literal) and v.language == lang]
            row[col] = neutralise(_cell(values))
        rows.append(row)
    return rows
