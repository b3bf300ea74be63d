"""TriG: the dataset of ``policy.nq`` (one named graph per source, one for the ontology) as
graph blocks, ``<graph> { ...triples... }``, for tools that read TriG rather than N-Quads.

Each block holds a source's sorted N-Triples lines (N-Triples statements are valid TriG), so
the file is byte-stable, and a changed source's block is spliced in on its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from toolkit.export.blocks import GLOBAL, Block, FileContext, Format, Spec
from toolkit.export.nquads import graph_name, graphs_in_name_order, ontology_lines
from toolkit.export.units import Unit
from toolkit.graph import iris

RELEASE_FILE = "policy.trig"


def _graph(iri: str, nt: bytes) -> bytes:
    return b"<" + iri.encode() + b"> {\n" + nt + b"}\n"


def spec(ctx: FileContext) -> Spec:
    return Spec(header=b"", footer=b"", sep=b"\n")


def blocks(unit: Unit, uid: int, ctx: FileContext) -> list[Block]:
    iri = graph_name(unit, ctx.settings.base_iri)
    return [(iri, uid, _graph(iri, unit.nt or b""))]


def global_blocks(ctx: FileContext) -> list[Block]:
    iri = iris.named_graph(ctx.settings.base_iri, iris.ONTOLOGY_GRAPH)
    return [(iri, GLOBAL, _graph(iri, ontology_lines(ctx.settings.schema_dir)))]


def stream(units: list[tuple[int, Unit]], ctx: FileContext) -> Iterator[Block]:
    """The graphs in name order, each made while written (one source's lines at a time)."""
    return graphs_in_name_order(units, ctx, blocks, global_blocks(ctx)[0])


FORMAT = Format(
    file=RELEASE_FILE,
    media_type="application/trig",
    ckan="TriG",
    eu_file_type="RDF_TRIG",
    titles=("TriG 格式（按来源分命名图）", "The dataset in TriG, a named graph per source"),
    spec=spec,
    blocks=blocks,
    global_blocks=global_blocks,
    stream=stream,
    per_source=True,
    in_datapackage=True,
)
