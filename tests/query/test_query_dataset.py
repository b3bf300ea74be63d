"""The release's N-Quads dataset: one named graph per source plus the ontology, byte-stable."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, REPO, Project
from oracle import ReleaseInputs, dataset_files, dataset_graphs
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from toolkit.config import Settings
from toolkit.export.nquads import RELEASE_FILE
from toolkit.graph.iris import named_graph as graph_iri
from toolkit.publish.release import Release, sha256
from toolkit.validate import Outcome, validate_sources

ARTICLE = "cls-2025-12-yrd-innovation-centre"


def named_graphs(data: bytes) -> dict[str, Graph]:
    ds = Dataset()
    ds.parse(data=data, format="nquads")
    out = {}
    for g in ds.graphs():
        if len(g):
            out[str(g.identifier)] = Graph() + g
    return out


def test_the_source_graphs_add_up_to_policy_nt(real_release: Release, repo_settings: Settings) -> None:
    graphs = named_graphs(real_release.files[RELEASE_FILE])
    base = repo_settings.base_iri
    assert set(graphs) == {graph_iri(base, ARTICLE), graph_iri(base, "ontology")}
    assert isomorphic(
        graphs[graph_iri(base, ARTICLE)], Graph().parse(data=real_release.files["policy.nt"], format="nt")
    )
    assert isomorphic(graphs[graph_iri(base, "ontology")], Graph().parse(repo_settings.schema_dir / "ontology.ttl"))


def test_lines_are_sorted_by_graph_then_triple(real_release: Release) -> None:
    lines = real_release.files[RELEASE_FILE].decode("utf-8").splitlines()
    keys = [(line.rsplit(" ", 2)[1], line) for line in lines]
    assert keys == sorted(keys) and len(set(lines)) == len(lines)
    assert all(line.endswith("> .") for line in lines)


def test_the_manifest_lists_the_dataset(real_release: Release) -> None:
    entry = next(f for f in real_release.manifest["files"] if f["path"] == RELEASE_FILE)
    assert entry["sha256"] == sha256(real_release.files[RELEASE_FILE])


def test_byte_identical_across_hash_seeds(real_release: Release) -> None:
    """Two fresh interpreters with different PYTHONHASHSEED build the same bytes as this one."""
    script = (
        "import hashlib, sys\n"
        f"sys.path.insert(0, {str(REPO / 'tests')!r})\n"
        "from oracle import ReleaseInputs, dataset_files\n"
        "from toolkit.config import load_settings\n"
        "from toolkit.validate import validate_sources\n"
        "s = load_settings()\n"
        "o = validate_sources(s)\n"
        "data = dataset_files(ReleaseInputs(settings=s, outcome=o, files={}))['policy.nq']\n"
        "print(hashlib.sha256(data).hexdigest())\n"
    )
    procs = []
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "POLICY_TOOLKIT_ROOT": str(REPO)}
        env.pop("POLICY_TOOLKIT_BASE_IRI", None)
        procs.append(subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True))
    digests = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert digests == {hashlib.sha256(real_release.files[RELEASE_FILE]).hexdigest()}


def test_each_source_gets_its_own_graph(project: Project) -> None:
    project.add_source(FIXTURES / "sources" / "second-source")
    settings = project.settings
    outcome = validate_sources(settings)
    assert outcome.graph is not None and outcome.report.conforms
    data = dataset_files(ReleaseInputs(settings=settings, outcome=outcome, files={}))[RELEASE_FILE]
    graphs = named_graphs(data)
    base = settings.base_iri
    first, second = graphs[graph_iri(base, ARTICLE)], graphs[graph_iri(base, "test-second-source")]
    union = Graph()
    for g in (first, second):
        union += g
    assert isomorphic(union, outcome.graph) and len(union) == len(first) + len(second)
    zone = URIRef(base + "demonstration-zone-executive-committee")
    # the second source's entity, pointing at an entity of the first source, lives in the second graph
    assert (zone, None, URIRef(base + "shanghai")) in second and (zone, None, None) not in first
    assert (URIRef(base + "shanghai"), None, None) not in second
    article = URIRef(base + "source/test-second-source")
    assert (article, None, None) in second and (article, None, None) not in first


def test_graphs_that_do_not_add_up_are_refused(real_outcome: Outcome, repo_settings: Settings) -> None:
    assert real_outcome.corpus is not None and real_outcome.graph is not None
    tampered = Graph() + real_outcome.graph
    tampered.add((URIRef("http://example.org/x"), URIRef("http://example.org/p"), Literal("not from a source")))
    with pytest.raises(ValueError, match="do not add up"):
        dataset_graphs(
            real_outcome.corpus, real_outcome.model, repo_settings.base_iri, repo_settings.schema_dir, tampered
        )
