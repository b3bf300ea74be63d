"""The one place that mints the release's IRIs.

Why one module: the IRI scheme (``<base><entity>``, ``source/``, ``evidence/``,
``inferred-date/``, ``inferred/``, ``dataset/``, ``graph/``) was once rebuilt by string concatenation in
about eight places, and a change to one of them silently broke the links between files.
Every function returns a plain ``str`` (the per-source pipeline writes N-Triples text; the
whole-graph oracle wraps them in :class:`rdflib.URIRef`).
"""

from __future__ import annotations

#: the graph of the ontology in ``policy.nq`` (``graph/ontology``)
ONTOLOGY_GRAPH = "ontology"


def entity(base: str, entity_id: str) -> str:
    """An entity of a facts file: the base IRI and its id (``<base>g60-corridor``)."""
    return base + entity_id


def source(base: str, source_id: str) -> str:
    """The archived article of a source (``<base>source/<source-id>``)."""
    return f"{base}source/{source_id}"


def evidence(base: str, entity_id: str, n: int | str) -> str:
    """The n-th evidence quote (from 1) of an entity (``<base>evidence/<entity>-<n>``)."""
    return f"{base}evidence/{entity_id}-{n}"


def inferred_date(base: str, entity_id: str, prop: str) -> str:
    """The resolution of a relative date (``<base>inferred-date/<entity>-<property>``)."""
    return f"{base}inferred-date/{entity_id}-{prop}"


def inference(base: str, entity_key: str, prop: str, n: int | None = None) -> str:
    """An inference mark on a value (``<base>inferred/<entity>-<property>``; ``-<n>`` for the
    n-th value of a property with several)."""
    return f"{base}inferred/{entity_key}-{prop}" + (f"-{n}" if n is not None else "")


def dataset(base: str, name: str) -> str:
    """A DCAT dataset of the catalog: one per source, and ``release`` for the whole release."""
    return f"{base}dataset/{name}"


def catalog(base: str) -> str:
    """The DCAT catalog of the release."""
    return base + "catalog"


def graph_prefix(base: str) -> str:
    """Where the dataset's named graphs live under a base IRI (``<base>graph/``)."""
    return base + "graph/"


def named_graph(base: str, name: str) -> str:
    """The named graph of a source id, or of the ontology (``name=ONTOLOGY_GRAPH``)."""
    return graph_prefix(base) + name


def agent(base: str, name: str) -> str:
    """An agent of the catalog: ``publisher`` or ``contact-point``."""
    return f"{base}agent/{name}"


def distribution(base: str, path: str) -> str:
    """The DCAT distribution of a release file (``csv/events.csv`` -> ``distribution/csv-events.csv``)."""
    return f"{base}distribution/{path.replace('/', '-')}"
