"""Stage 2: turn a checked corpus into an RDF graph under the configured base IRI."""

from toolkit.graph.build import build_graph, graph_lines

__all__ = ["build_graph", "graph_lines"]
