"""Every format of the one registry reaches the manifest, the catalog, the data package (when it
asks) and the CKAN upload plan, from its own module's fields alone; TriG is the proof.

Read from the committed release, which `build --check` keeps equal to what the sources give.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS

from toolkit.export.formats import FORMATS
from toolkit.graph import iris
from toolkit.publish import ckan
from toolkit.publish.catalog import EU_FILE_TYPE, IANA

RELEASE = REPO / "datasets" / "release"
BASE = "https://w3id.org/policy-toolkit/id/"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((RELEASE / "manifest.json").read_bytes())


@pytest.fixture(scope="module")
def catalog() -> Graph:
    return Graph().parse(RELEASE / "catalog.ttl", format="turtle")


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.file for f in FORMATS])
def test_a_format_is_described_everywhere_from_its_module(fmt, manifest: dict, catalog: Graph) -> None:
    entry = next(e for e in manifest["files"] if e["path"] == fmt.file)
    assert entry["media_type"] == fmt.media_type
    dist = URIRef(iris.distribution(BASE, fmt.file))
    assert (dist, DCAT.mediaType, URIRef(IANA + fmt.media_type)) in catalog
    assert (dist, DCTERMS.format, URIRef(EU_FILE_TYPE + fmt.eu_file_type)) in catalog
    steps, _extra = ckan.plan(None, manifest)
    assert any(s.path == fmt.file and s.action == "create" for s in steps)
    assert ckan.FORMATS["." + fmt.file.rpartition(".")[2]] == fmt.ckan
    package = json.loads((RELEASE / "datapackage.json").read_bytes())
    listed = {r["path"]: r for r in package["resources"]}
    assert (fmt.file in listed) is fmt.in_datapackage
    if fmt.in_datapackage:
        assert listed[fmt.file]["hash"] == "sha256:" + entry["sha256"]


def test_trig_holds_the_named_graphs_of_nquads() -> None:
    trig, nq = Dataset(), Dataset()
    trig.parse(RELEASE / "policy.trig", format="trig")
    nq.parse(RELEASE / "policy.nq", format="nquads")
    graphs = {str(g.identifier): g for g in nq.graphs() if len(g)}
    assert len(graphs) == 2  # the article's graph and the ontology's
    for name, g in graphs.items():
        assert isomorphic(trig.graph(URIRef(name)), g), name
