"""Turtle: one block per subject, keyed as rdflib orders them (references to it, then subject),
under the union of the prefixes the units use."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from toolkit.export.blocks import Block, FileContext, Format, Spec, Unsupported, load_part, utf8

if TYPE_CHECKING:
    from toolkit.export.units import Unit


def spec(ctx: FileContext) -> Spec:
    """The prefixes every unit's blocks use (their union; see ``Aggregates.ttl_prefixes``)."""
    head = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(ctx.totals.ttl_prefixes.bound().items()))
    return Spec(header=utf8(head), footer=b"\n")


def blocks(unit: Unit, uid: int, ctx: FileContext) -> list[Block]:
    """One block per subject, keyed as rdflib orders them: (references to it, subject)."""
    part = load_part(unit, "ttl")
    if not part["ttl_ok"]:
        raise Unsupported("a prefix rdflib would generate or rewrite")
    if part["rdf_classes"]:
        raise Unsupported("rdfs:Class members are written first by rdflib")
    refs = ctx.totals.refs
    return [((refs.get(s, 0), s), uid, utf8(text)) for s, text in part["ttl_blocks"]]


def _rekey(ctx: FileContext) -> Callable[[str], int]:
    refs = ctx.totals.refs
    return lambda subject: refs.get(subject, 0)


FORMAT = Format(
    file="policy.ttl",
    media_type="text/turtle",
    ckan="Turtle",
    eu_file_type="RDF_TURTLE",
    titles=("Turtle 格式的数据集", "The dataset in Turtle"),
    spec=spec,
    blocks=blocks,
    rekey=_rekey,
)
