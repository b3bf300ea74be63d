"""The release as an RDF dataset (N-Quads): one named graph per source, one for the ontology.

Why named graphs: a SPARQL store can then hold several sources side by side and replace
one source's facts without touching another's (``policy-toolkit publish sparql`` PUTs each
graph whole), and a query can ask which article a fact came from with ``GRAPH ?g``.

Graph names (``base`` is the release's base IRI):

* ``<base>graph/<source-id>`` -- the facts of one source: its article, entities, evidence
  and inferred dates, exactly the triples :func:`toolkit.graph.build_graph` makes for it;
* ``<base>graph/ontology`` -- the generated ontology (``schema/ontology.ttl``), so a store
  loaded from this one file can answer queries that use class and property labels.

The union of the source graphs is the graph of ``policy.nt`` (checked here on every build).
Lines are sorted by graph, then by triple, so the file is byte-identical across builds and
``PYTHONHASHSEED`` values, like the other exports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import BNode, Graph
from rdflib.compare import to_canonical_graph

from toolkit.export.canonical import sorted_ntriples
from toolkit.graph import build_graph, iris
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus

if TYPE_CHECKING:  # the publish stage imports us, never the other way round
    from toolkit.publish.inputs import ReleaseInputs

RELEASE_FILE = "policy.nq"
ONTOLOGY = iris.ONTOLOGY_GRAPH
ONTOLOGY_FILE = "ontology.ttl"


def source_graphs(corpus: Corpus, model: Model, base: str) -> dict[str, Graph]:
    """Source id -> the triples that source contributes, built exactly as the release graph is."""
    out: dict[str, Graph] = {}
    for src in corpus.sources:
        if src.id == ONTOLOGY:
            raise ValueError(f"a source may not be called {ONTOLOGY!r}: that graph name holds the ontology")
        out[src.id] = build_graph(Corpus(sources=[src], entities=corpus.entities), model, base)
    return out


def ontology_graph(schema_dir: Path) -> Graph:
    return Graph().parse(schema_dir / ONTOLOGY_FILE, format="turtle")


def _stable_lines(g: Graph) -> list[str]:
    # Our graphs have no blank nodes; if the ontology ever gets some (an owl:unionOf list),
    # canonical labels keep the output independent of rdflib's random blank node ids.
    if any(isinstance(term, BNode) for triple in g for term in triple):
        g = to_canonical_graph(g)
    return sorted_ntriples(g)


def quad_lines(graphs: Mapping[str, Graph]) -> list[str]:
    """N-Quads lines, sorted by graph IRI then by triple (a total, reproducible order)."""
    lines: list[str] = []
    for iri in sorted(graphs):
        for line in _stable_lines(graphs[iri]):
            if not line.endswith(" ."):
                raise ValueError(f"unexpected N-Triples line from rdflib: {line!r}")
            lines.append(f"{line[:-1]}<{iri}> .")
    return lines


def export_dataset(graphs: Mapping[str, Graph]) -> bytes:
    """Graph IRI -> graph, as N-Quads bytes."""
    return ("\n".join(quad_lines(graphs)) + "\n").encode("utf-8")


def _check_union(release: Graph, parts: Iterable[Graph]) -> None:
    """The named graphs must add up to exactly the published graph, or the dataset would lie."""
    expected = set(sorted_ntriples(release))
    got: set[str] = set()
    for g in parts:
        got.update(sorted_ntriples(g))
    if got != expected:
        missing = sorted(expected - got)[:3]
        extra = sorted(got - expected)[:3]
        raise ValueError(
            "the per-source graphs do not add up to the release graph; "
            f"missing from them: {missing}; not in the release: {extra}"
        )


def dataset_graphs(corpus: Corpus, model: Model, base: str, schema_dir: Path, release: Graph) -> dict[str, Graph]:
    """Graph IRI -> graph for the whole dataset (sources and ontology), checked against ``release``."""
    per_source = source_graphs(corpus, model, base)
    _check_union(release, per_source.values())
    graphs = {iris.named_graph(base, sid): g for sid, g in per_source.items()}
    graphs[iris.named_graph(base, ONTOLOGY)] = ontology_graph(schema_dir)
    return graphs


def release_files(inputs: ReleaseInputs) -> dict[str, bytes]:
    """Post-exporter: add ``policy.nq`` to the release."""
    outcome = inputs.outcome
    if outcome.corpus is None or outcome.graph is None:
        raise ValueError("the N-Quads export needs the corpus and the graph of a validated build")
    settings = inputs.settings
    graphs = dataset_graphs(outcome.corpus, outcome.model, settings.base_iri, settings.schema_dir, outcome.graph)
    return {RELEASE_FILE: export_dataset(graphs)}
