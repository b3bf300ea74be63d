"""TriG: the dataset of ``policy.nq`` (one named graph per source, one for the ontology) as
graph blocks, ``<graph> { ...triples... }``, for tools that read TriG rather than N-Quads.

Each block holds a source's sorted N-Triples lines (N-Triples statements are valid TriG), so
the file is byte-stable, and a changed source's block is spliced in on its own.
"""

from __future__ import annotations

from toolkit.export.blocks import Spec
from toolkit.export.nquads import dataset_format


def _graph(iri: str, nt: bytes) -> bytes:
    return b"<" + iri.encode() + b"> {\n" + nt + b"}\n"


FORMAT = dataset_format(
    _graph,
    file="policy.trig",
    media_type="application/trig",
    ckan="TriG",
    eu_file_type="RDF_TRIG",
    titles=("TriG 格式（按来源分命名图）", "The dataset in TriG, a named graph per source"),
    spec=lambda ctx: Spec(sep=b"\n"),
    in_datapackage=True,
)
