"""The release as an RDF dataset (N-Quads): one named graph per source, one for the ontology.

Why named graphs: a SPARQL store can then hold several sources side by side and replace
one source's facts without touching another's (``policy-toolkit publish sparql`` PUTs each
graph whole), and a query can ask which article a fact came from with ``GRAPH ?g``.

Graph names (``base`` is the release's base IRI):

* ``<base>graph/<source-id>`` -- the facts of one source: its article, entities, evidence
  and inferred dates, exactly the triples :func:`toolkit.graph.graph_lines` makes for it;
* ``<base>graph/ontology`` -- the generated ontology (``schema/ontology.ttl``), so a store
  loaded from this one file can answer queries that use class and property labels.

The union of the source graphs is the graph of ``policy.nt`` (checked here on every build).
Lines are sorted by graph, then by triple, so the file is byte-identical across builds and
``PYTHONHASHSEED`` values, like the other exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Graph
from rdflib.compare import to_canonical_graph

from toolkit.export.blocks import GLOBAL, Block, FileContext, Format, Spec
from toolkit.export.canonical import sorted_ntriples
from toolkit.graph import iris

if TYPE_CHECKING:
    from toolkit.export.units import Unit

RELEASE_FILE = "policy.nq"
ONTOLOGY = iris.ONTOLOGY_GRAPH
ONTOLOGY_FILE = "ontology.ttl"


def ontology_graph(schema_dir: Path) -> Graph:
    return Graph().parse(schema_dir / ONTOLOGY_FILE, format="turtle")


def stable_lines(g: Graph) -> list[str]:
    # Our graphs have no blank nodes; if the ontology ever gets some (an owl:unionOf list),
    # canonical labels keep the output independent of rdflib's random blank node ids.
    if any(isinstance(term, BNode) for triple in g for term in triple):
        g = to_canonical_graph(g)
    return sorted_ntriples(g)


# ------------------------------------------------------------------ per-unit blocks (the pipeline)


def graph_name(unit: Unit, base: str) -> str:
    """A source's graph name (``graph/ontology`` is taken by the ontology)."""
    assert unit.source is not None
    if unit.source.id == ONTOLOGY:
        raise ValueError(f"a source may not be called {ONTOLOGY!r}: that graph name holds the ontology")
    return iris.named_graph(base, unit.source.id)


def ontology_lines(schema_dir: Path) -> bytes:
    """The ontology's sorted N-Triples lines (its graph in the dataset files)."""
    return "".join(line + "\n" for line in stable_lines(ontology_graph(schema_dir))).encode("utf-8")


def dataset_format(wrap: Callable[[str, bytes], bytes], **fields: Any) -> Format:
    """A dataset file's format (N-Quads, TriG): a block per source graph and one for the
    ontology's, each a graph's sorted lines as ``wrap(graph name, lines)`` writes them, streamed
    in graph-name order and made while written (one source's lines at a time)."""

    def blocks(unit: Unit, uid: int, ctx: FileContext) -> list[Block]:
        iri = graph_name(unit, ctx.settings.base_iri)
        return [(iri, uid, wrap(iri, unit.nt or b""))]

    def stream(units: list[tuple[int, Unit]], ctx: FileContext) -> Iterator[Block]:
        by_uid = dict(units)
        iri = iris.named_graph(ctx.settings.base_iri, ONTOLOGY)
        ontology = (iri, GLOBAL, wrap(iri, ontology_lines(ctx.settings.schema_dir)))
        order = sorted([(graph_name(u, ctx.settings.base_iri), uid) for uid, u in units] + [(iri, GLOBAL)])
        return (ontology if uid == GLOBAL else blocks(by_uid[uid], uid, ctx)[0] for _iri, uid in order)

    return Format(blocks=blocks, stream=stream, per_source=True, **fields)


def _quads(iri: str, nt: bytes) -> bytes:
    # every line ends with " .\n" and no line holds a raw newline: add the graph name there
    return nt.replace(b" .\n", f" <{iri}> .\n".encode())


FORMAT = dataset_format(
    _quads,
    file=RELEASE_FILE,
    media_type="application/n-quads",
    ckan="N-Quads",
    eu_file_type="RDF_N_QUADS",
    titles=("N-Quads 格式（按来源分命名图）", "The dataset in N-Quads, a named graph per source"),
    spec=lambda ctx: Spec(),
)
