"""RDF/XML: an rdf:Description block per subject (see :class:`toolkit.export.render.XmlWriter`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.export.blocks import Block, FileContext, Format, Spec, load_part, utf8

if TYPE_CHECKING:
    from toolkit.export.units import Unit


def spec(ctx: FileContext) -> Spec:
    head = ['<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF\n']
    for prefix, namespace in sorted(ctx.totals.xml_prefixes.bound().items()):
        head.append(f'   xmlns:{prefix}="{namespace}"\n' if prefix else f'   xmlns="{namespace}"\n')
    head.append(">\n")
    return Spec(header=utf8("".join(head)), footer=b"</rdf:RDF>\n")


def blocks(unit: Unit, uid: int, ctx: FileContext) -> list[Block]:
    # a namespace rdflib would generate was refused when the unit was rendered (XmlWriter.qname)
    return [(s + ">", uid, utf8(text)) for s, text in load_part(unit, "rdf")["xml_blocks"]]


FORMAT = Format(
    file="policy.rdf",
    media_type="application/rdf+xml",
    ckan="RDF/XML",
    eu_file_type="RDF_XML",
    titles=("RDF/XML 格式的数据集", "The dataset in RDF/XML"),
    spec=spec,
    blocks=blocks,
)
