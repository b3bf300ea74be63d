"""The release's catalog conforms to the official DCAT-AP 3.0.1 shapes and describes every file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import FIXTURES, SHARED, Project
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, SH, XSD
from typer.testing import CliRunner

from toolkit.build import build_release
from toolkit.cli import app
from toolkit.config import Settings
from toolkit.publish.release import Release
from toolkit.validate.dcatap import SHAPES

DCAT_AP = SHARED / "external" / "dcat-ap-3"
SPDX = "http://spdx.org/rdf/terms#"


@pytest.fixture(scope="module")
def catalog(real_release: Release) -> Graph:
    return Graph().parse(data=real_release.files["catalog.ttl"], format="turtle")


def official(*names: str) -> Graph:
    g = Graph()
    for name in names:
        g.parse(DCAT_AP / name, format="turtle")
    return g


@pytest.mark.parametrize(
    "shape_files",
    [("shacl/dcat-ap-SHACL.ttl",), ("html/shacl/shapes.ttl", "html/shacl/range.ttl")],
    ids=["all-in-one", "split-shapes-and-ranges"],
)
def test_zero_violations_against_the_official_shapes(catalog: Graph, shape_files: tuple[str, ...]) -> None:
    _conforms, report, text = validate(catalog, shacl_graph=official(*shape_files), inference="none")
    violations = list(report.subjects(SH.resultSeverity, SH.Violation))
    assert violations == [], text


def test_vendored_shapes_are_the_official_file(repo_settings: Settings) -> None:
    ours = (repo_settings.schema_dir / SHAPES).read_bytes()
    assert ours == (DCAT_AP / "shacl" / "dcat-ap-SHACL.ttl").read_bytes()


def test_a_distribution_per_published_file_with_its_checksum(catalog: Graph, real_release: Release) -> None:
    described = {}
    for dist in catalog.subjects(RDF.type, DCAT.Distribution):
        url = str(catalog.value(dist, DCAT.downloadURL))
        path = url.split("/release/", 1)[1]
        checksum = catalog.value(dist, URIRef(SPDX + "checksum"))
        described[path] = (
            str(catalog.value(checksum, URIRef(SPDX + "checksumValue"))),
            int(catalog.value(dist, DCAT.byteSize)),
            catalog.value(dist, DCAT.accessURL),
        )
        assert {lit.language for lit in catalog.objects(dist, DCTERMS.title)} == {"zh", "en"}
        assert catalog.value(dist, DCAT.mediaType).startswith("https://www.iana.org/assignments/media-types/")
        fmt = catalog.value(dist, DCTERMS["format"])
        assert fmt.startswith("http://publications.europa.eu/resource/authority/file-type/")
    expected = set(real_release.files) - {"catalog.ttl", "catalog.jsonld", "manifest.json"}
    assert set(described) == expected
    for path, (sha, size, access) in described.items():
        data = real_release.files[path]
        assert sha == hashlib.sha256(data).hexdigest() and size == len(data) and access is not None


def test_datasets_per_release_and_source_with_provenance(catalog: Graph, repo_settings: Settings) -> None:
    base = repo_settings.base_iri
    release = URIRef(base + "dataset/release")
    source = URIRef(base + "dataset/cls-2025-12-yrd-innovation-centre")
    article = URIRef(base + "source/cls-2025-12-yrd-innovation-centre")
    assert set(catalog.objects(URIRef(base + "catalog"), DCAT.dataset)) == {release, source}
    for ds in (release, source):
        assert (ds, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), article) in catalog
        assert catalog.value(ds, DCTERMS.license) == URIRef("http://creativecommons.org/licenses/by/4.0/")
        assert Literal("人工智能", lang="zh") in set(catalog.objects(ds, DCAT.keyword))
        period = catalog.value(ds, DCTERMS.temporal)
        # 2022 (the action plan's period): the plan "published in 2020" is the article's claim
        # (issue 17), a pt:Claim, and a claim's value is no dated fact of the dataset
        assert catalog.value(period, DCAT.startDate) == Literal("2022", datatype=XSD.gYear)
    assert (article, DCTERMS.rightsHolder, URIRef(base + "cailian-press")) in catalog


def test_a_broken_catalog_is_reported_with_focus_and_path(project: Project, real_release: Release) -> None:
    project.seed_release(real_release)
    path = project.release / "catalog.ttl"
    g = Graph().parse(path, format="turtle")
    dist = URIRef(project.settings.base_iri + "distribution/policy.ttl")
    g.remove((dist, DCAT.accessURL, None))
    broken = Path(project.root) / "broken-catalog.ttl"
    g.serialize(broken, format="turtle")
    result = CliRunner().invoke(app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert f"focus: {dist}" in result.output
    assert "path:  dcat:accessURL" in result.output
    # and `validate` of the sources checks the catalog in the release folder
    g.serialize(path, format="turtle")
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 1 and "datasets/release/catalog.ttl: [Violation] dcat-ap" in result.output


def test_each_articles_metadata_is_in_its_part_of_the_catalog(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: the URL, authors, editors, original publisher, platform and retrieval date of an
    article, as its facts file gives them, are said of the article in the catalog (the build
    validates the catalog against DCAT-AP 3.0.1 before writing it)."""
    monkeypatch.setenv("POLICY_TOOLKIT_CACHE", str(tmp_path / "cache"))
    for name in ("jkb-2024-06-g60-matchmaking", "wng-2025-03-langxi-enclave"):
        project.add_source(FIXTURES / "sources" / name)
    build_release(project.settings)
    g = Graph().parse(project.release / "catalog.ttl", format="turtle")
    base = project.settings.base_iri
    jkb, wng = URIRef(base + "source/jkb-2024-06-g60-matchmaking"), URIRef(base + "source/wng-2025-03-langxi-enclave")

    def said(article: URIRef, term: URIRef) -> set[str]:
        return {str(o) for o in g.objects(article, term)}

    assert said(jkb, FOAF.page) == {"https://www.jiangnan-keji.example/news/2024/0618/g60.html"}
    assert said(jkb, DCTERMS.creator) == {base + "lin-xiaozhou"}
    assert said(jkb, DCTERMS.contributor) == {base + "zhou-hui"}
    assert said(jkb, DCTERMS.publisher) == {base + "jiangnan-keji-bao"}
    assert said(jkb, PROV.wasAttributedTo) == {base + "yrd-info-platform"}
    assert set(g.objects(jkb, DCTERMS.date)) == {Literal("2024-06-20", datatype=XSD.date)}
    # an article without a URL, author or platform says none; its editor and retrieval date it does
    assert said(wng, FOAF.page) == said(wng, DCTERMS.creator) == said(wng, PROV.wasAttributedTo) == set()
    assert said(wng, DCTERMS.contributor) == {base + "xu-ran"}
    assert said(wng, DCTERMS.publisher) == {base + "wannan-guancha"}
    assert set(g.objects(wng, DCTERMS.date)) == {Literal("2025-03-06", datatype=XSD.date)}
