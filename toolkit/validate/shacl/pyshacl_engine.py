"""pyshacl: the reference engine (pure Python, SHACL Core and SHACL-SPARQL), the tests' oracle."""

from __future__ import annotations

from pyshacl import validate as pyshacl_validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import Graph

from toolkit.validate.shacl.engine import Data, as_graph


class PyshaclEngine:
    """pyshacl with the toolkit's settings: no inference, every result, warnings allowed."""

    name = "pyshacl"

    def validate(self, data: Data, shapes: Graph, ontology: Graph | None = None) -> Graph:
        _conforms, report, _text = pyshacl_validate(
            as_graph(data),
            shacl_graph=shapes,
            ont_graph=ontology if ontology is not None and len(ontology) else None,
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
            meta_shacl=False,
            advanced=False,
            js=False,
            inplace=False,
        )
        if isinstance(report, ReportableRuntimeError):  # pyshacl returns, not raises, a failure to validate
            raise report
        return report
