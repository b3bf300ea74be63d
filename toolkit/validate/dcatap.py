"""DCAT-AP 3.0.1 conformance of catalog metadata, with the official SHACL shapes.

The shapes are vendored in ``schema/external/dcat-ap-3.0.1/`` (CC BY 4.0, SEMIC). They are
applied to the catalog graph alone, without inference, as the DCAT-AP validator does.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import DCAT, RDF

from toolkit.config import Settings
from toolkit.report import ValidationReport, ValidationResult
from toolkit.validate.base import ValidationContext
from toolkit.validate.shacl import load_schema_graph, shacl_results

SHAPES = Path("external") / "dcat-ap-3.0.1" / "dcat-ap-SHACL.ttl"
CATALOG_FILE = "catalog.ttl"


@cache
def dcat_ap_shapes(path: Path) -> Graph:
    """The DCAT-AP shapes graph at ``path``, parsed once per process (it is large).

    Public because the fast and incremental builds check the catalog with the same shapes.
    """
    return load_schema_graph(path)


def dcat_ap_results(catalog: Graph, settings: Settings, file_name: str | None = None) -> list[ValidationResult]:
    shapes = dcat_ap_shapes(settings.schema_dir / SHAPES)
    results, _raw = shacl_results(catalog, shapes, Graph())
    return as_dcat_ap(results, file_name)


def as_dcat_ap(results: list[ValidationResult], file_name: str | None) -> list[ValidationResult]:
    """SHACL results on a catalog, reported under the validator name `dcat-ap` and its file."""
    return [replace(r, validator="dcat-ap", source_file=file_name, focus_label=None, line=None) for r in results]


def is_catalog(g: Graph) -> bool:
    return (None, RDF.type, DCAT.Catalog) in g


class DcatApValidator:
    """Checks the catalog of the release on disk (build checks the catalog it is about to write)."""

    name = "dcat-ap"

    def validate(self, ctx: ValidationContext, report: ValidationReport) -> None:
        graph: Graph | None = None
        path = ctx.settings.release_dir / CATALOG_FILE
        if ctx.corpus is None and ctx.graph is not None and is_catalog(ctx.graph):
            graph, name = ctx.graph, None
        elif ctx.corpus is not None and path.is_file():
            graph = Graph().parse(path, format="turtle")
            try:
                name = str(path.relative_to(ctx.settings.root))
            except ValueError:
                name = str(path)
        if graph is not None:
            report.extend(dcat_ap_results(graph, ctx.settings, name))
