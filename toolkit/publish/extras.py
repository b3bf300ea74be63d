"""Files added to a release after the core exports exist (named-graph dumps, catalog metadata...).

Each post-exporter receives the release inputs (:class:`~toolkit.publish.inputs.ReleaseInputs`)
and the files assembled so far, and returns new files (relative path -> bytes). They are added
to the manifest like every other file, so they are checksummed, byte-stable and covered by
``build --check``.
"""

from __future__ import annotations

from toolkit.export import nquads
from toolkit.publish.catalog import catalog_files
from toolkit.publish.datapackage import datapackage_files
from toolkit.publish.inputs import PostExporter, ReleaseInputs

__all__ = ["PostExporter", "ReleaseInputs", "post_exporters"]


def post_exporters() -> list[PostExporter]:
    """The post-exporters, in the order they run."""
    exporters: list[PostExporter] = [
        nquads.release_files,  # policy.nq: one named graph per source + the ontology (SPARQL stores)
        datapackage_files,  # datapackage.json (Frictionless) and csv-metadata.json (CSVW)
    ]
    # The catalog describes every file made before it, with checksums: it must run last.
    return [*exporters, catalog_files]
