"""The oracle: the release made the whole-graph way, as a reference for the pipeline.

One rdflib graph of every source (:func:`oracle.graph.build_graph`), SHACL by pyshacl, rdflib's
Turtle, N-Triples and RDF/XML serialisers, pyld's JSON-LD compaction, pandas for CSV, and a
catalog built as an rdflib graph (:mod:`oracle.catalog`). None of it is library code: the
library has one pipeline (:mod:`toolkit.build`), which works per source unit, and the tests
assert that its bytes equal these (real sources, fixtures, generated corpora with defects,
full and incremental, ``--jobs`` 1 and 2). Slow, and quadratic in places, on purpose: it is
written for obviousness, not speed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from oracle.catalog import catalog_files
from oracle.graph import build_graph
from oracle.jsonld import compact
from toolkit import __version__
from toolkit.config import Settings
from toolkit.errors import DataError
from toolkit.export.canonical import canonical_copy, sorted_ntriples
from toolkit.export.csv import neutralise
from toolkit.export.nquads import ONTOLOGY, RELEASE_FILE, ontology_graph, stable_lines
from toolkit.graph import iris
from toolkit.publish.assemble import manifest_path
from toolkit.publish.atomic import new_staging, read_tree, swap_in
from toolkit.publish.datapackage import datapackage_files
from toolkit.publish.manifest import MANIFEST, MEDIA_TYPES, Release, mismatch, sha256
from toolkit.report import ValidationReport
from toolkit.schema.model import Model, Table
from toolkit.sources.loader import Corpus
from toolkit.validate import RELEASE_CHECKS, VALIDATORS, Outcome, validate_sources
from toolkit.validate.dcatap import CATALOG_FILE, dcat_ap_results
from toolkit.validate.outputs import check_csv_rows, check_jsonld
from toolkit.validate.shacl import ShaclValidator


@dataclass(frozen=True)
class ReleaseInputs:
    """What the catalog receives: the settings, the validated outcome and the files so far."""

    settings: Settings
    outcome: Outcome
    files: dict[str, bytes]


def replace_tree(target: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) as the new content of ``target``, through the
    library's staging folder and atomic swap (the oracle holds a release in memory, whole)."""
    tmp = new_staging(target)
    try:
        for rel in sorted(files):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(files[rel])
                fh.flush()
                os.fsync(fh.fileno())
        swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------ whole-graph formats


def turtle(g: Graph, model: Model) -> bytes:
    return canonical_copy(g).serialize(format="turtle", encoding="utf-8")


def ntriples(g: Graph, model: Model) -> bytes:
    return ("\n".join(sorted_ntriples(g)) + "\n").encode("utf-8")


def rdfxml(g: Graph, model: Model) -> bytes:
    return canonical_copy(g).serialize(format="xml", encoding="utf-8")


def to_document(g: Graph, model: Model) -> dict[str, Any]:
    return compact(sorted_ntriples(g), model)


def jsonld(g: Graph, model: Model) -> bytes:
    return (json.dumps(to_document(g, model), ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


#: release file name -> (whole-graph exporter, media type)
RDF_EXPORTERS = {
    name: (fn, MEDIA_TYPES["." + name.rpartition(".")[2]])
    for name, fn in (("policy.ttl", turtle), ("policy.nt", ntriples), ("policy.rdf", rdfxml), ("policy.jsonld", jsonld))
}


def _types(g: Graph, model: Model, node: URIRef) -> list[str]:
    names = []
    for t in g.objects(node, RDF.type):
        cls = model.class_by_iri.get(str(t))
        if cls is not None:
            names.append(cls.name)
    return sorted(names)


def _cell(values: list[object]) -> str:
    return "|".join(sorted(str(v) for v in values))


def table_rows(g: Graph, model: Model, table: Table) -> list[dict[str, str]]:
    members = {model.class_iri(c) for c in model.descendants(table.class_name)}
    nodes = sorted({s for s, _, o in g.triples((None, RDF.type, None)) if str(o) in members and isinstance(s, URIRef)})
    columns = model.table_columns(table)
    rows = []
    for node in nodes:
        row = {c: "" for c in columns}
        row["id"] = str(node)
        row["types"] = " ".join(_types(g, model, node))
        for col in columns[2:]:
            name, lang = model.column_property(col)
            if col in table.reverse:
                pointer = URIRef(model.properties[table.reverse[col]].iri)
                row[col] = _cell(list(g.subjects(pointer, node)))
                continue
            prop = model.properties.get(name)
            if prop is None:
                continue
            values = list(g.objects(node, URIRef(prop.iri)))
            if lang:
                values = [v for v in values if isinstance(v, Literal) and v.language == lang]
            row[col] = neutralise(_cell(values))
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, str]], columns: list[str]) -> bytes:
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\r\n")  # RFC 4180; also makes \r and \n get quoted
    return buf.getvalue().encode("utf-8")


def export_tables(g: Graph, model: Model) -> dict[str, tuple[bytes, list[dict[str, str]]]]:
    """``csv/<table>.csv`` -> (bytes, rows); rows are kept for JSON Schema validation."""
    out = {}
    for table in model.tables.values():
        rows = table_rows(g, model, table)
        out[f"csv/{table.name}.csv"] = (to_csv(rows, model.table_columns(table)), rows)
    return out


# ---------------------------------------------------------------- the dataset (named graphs)


def source_graphs(corpus: Corpus, model: Model, base: str) -> dict[str, Graph]:
    """Source id -> the triples that source contributes, built exactly as the release graph is."""
    out: dict[str, Graph] = {}
    for src in corpus.sources:
        if src.id == ONTOLOGY:
            raise ValueError(f"a source may not be called {ONTOLOGY!r}: that graph name holds the ontology")
        out[src.id] = build_graph(Corpus(sources=[src], entities=corpus.entities), model, base)
    return out


def quad_lines(graphs: Mapping[str, Graph]) -> list[str]:
    """N-Quads lines, sorted by graph IRI then by triple (a total, reproducible order)."""
    lines: list[str] = []
    for iri in sorted(graphs):
        for line in stable_lines(graphs[iri]):
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


def trig(graphs: Mapping[str, Graph]) -> bytes:
    """TriG: each named graph's sorted lines in braces, graphs in name order."""
    parts = []
    for iri in sorted(graphs):
        body = "".join(line + "\n" for line in stable_lines(graphs[iri]))
        parts.append(f"<{iri}> {{\n{body}}}\n")
    return "\n".join(parts).encode("utf-8")


def dataset_files(inputs: ReleaseInputs) -> dict[str, bytes]:
    """``policy.nq`` and ``policy.trig``: one named graph per source + the ontology."""
    outcome, settings = inputs.outcome, inputs.settings
    assert outcome.corpus is not None and outcome.graph is not None
    graphs = dataset_graphs(outcome.corpus, outcome.model, settings.base_iri, settings.schema_dir, outcome.graph)
    return {RELEASE_FILE: export_dataset(graphs), "policy.trig": trig(graphs)}


def post_exporters() -> list[Any]:
    """The files made from the release so far, in order (the catalog describes every file
    made before it, with checksums: it runs last)."""
    return [dataset_files, lambda inputs: datapackage_files(inputs.outcome.model, inputs.files), catalog_files]


# ------------------------------------------------------------------------------ the release


def counts_by_class(g: Graph, model: Model) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for _s, _p, o in g.triples((None, RDF.type, None)):
        cls = model.class_by_iri.get(str(o))
        counter[cls.name if cls else str(o)] += 1
    return dict(sorted(counter.items()))


def assemble(settings: Settings, outcome: Outcome) -> Release:
    """Every release file as bytes, in memory; raises DataError if outputs break their schemas."""
    graph, model, corpus = outcome.graph, outcome.model, outcome.corpus
    assert graph is not None and corpus is not None
    files: dict[str, bytes] = {}
    for name, (exporter, _media) in RDF_EXPORTERS.items():
        files[name] = exporter(graph, model)
    report = ValidationReport(
        results=list(outcome.report.results),
        raw_graphs=dict(outcome.report.raw_graphs),
        validators_run=list(outcome.report.validators_run),
    )
    out_problems = check_jsonld(to_document(graph, model), settings.schema_dir, "policy.jsonld")
    for rel, (data, rows) in export_tables(graph, model).items():
        files[rel] = data
        out_problems += check_csv_rows(Path(rel).stem, rows, settings.schema_dir, rel)
    report.validators_run.append("output-schema")
    if out_problems:
        report.extend(out_problems)
        raise DataError("the exported files do not match their JSON Schemas", report=report)
    shacl_raw = report.raw_graphs.get("shacl")
    if shacl_raw is not None:
        files["validation-report.ttl"] = shacl_raw.serialize(format="turtle", encoding="utf-8")
    files["validation-report.json"] = report.to_json().encode("utf-8")
    for post in post_exporters():
        for rel, data in post(ReleaseInputs(settings=settings, outcome=outcome, files=dict(files))).items():
            if rel in files:
                raise ValueError(f"post-exporter {post.__name__} would overwrite {rel}")
            files[rel] = data
    catalog = files.get(CATALOG_FILE)
    if catalog is not None:
        problems = dcat_ap_results(Graph().parse(data=catalog, format="turtle"), settings, CATALOG_FILE)
        report.extend(problems)
        report.validators_run.append("dcat-ap")
        if not report.conforms:
            raise DataError("the catalog metadata does not conform to DCAT-AP 3.0.1", report=report)
    manifest = {
        "title": {"zh": "政策新闻事实数据集", "en": "Policy news facts dataset"},
        "toolkit_version": __version__,
        "base_iri": settings.base_iri,
        "triples": len(graph),
        "counts_by_class": counts_by_class(graph, model),
        "sources": [
            {
                "id": src.id,
                "iri": iris.source(settings.base_iri, src.id),
                "text": manifest_path(src.text_path, settings),
                "text_sha256": src.sha256,
                "facts": manifest_path(src.facts_path, settings),
                "facts_sha256": sha256(src.facts_path.read_bytes()),
                # a claim is not a fact of the source's: it shares its entry's evidence (issue 17)
                "entities": len([e for e in src.entities if "Claim" not in e.types]),
                "evidence_quotes": sum(len(e.evidence) for e in src.entities if "Claim" not in e.types),
                "published": src.published.lexical,
            }
            for src in corpus.sources
        ],
        "validation": {
            "conforms": report.conforms,
            "validators": report.validators_run,
            "counts": report.counts(),
        },
        "files": [
            {
                "path": rel,
                "bytes": len(files[rel]),
                "sha256": sha256(files[rel]),
                "media_type": MEDIA_TYPES.get(Path(rel).suffix, "application/octet-stream"),
            }
            for rel in sorted(files)
        ],
    }
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return Release(files=files, manifest=manifest, report=report, graph=graph)


def diff_trees(old: dict[str, bytes], new: dict[str, bytes]) -> list[str]:
    lines = []
    for rel in sorted(set(old) | set(new)):
        if rel not in old:
            lines.append(f"missing from the release: {rel}")
        elif rel not in new:
            lines.append(f"not produced by the sources: {rel}")
        elif old[rel] != new[rel]:
            lines.append(f"differs: {rel}")
    return lines


#: validators `build` runs after the export, on the files it makes (the ones on disk are old).
BUILD_SKIPS = RELEASE_CHECKS


def release_outcome(settings: Settings) -> Outcome:
    """Validate the sources as `build` does: the catalog on disk is the old one, so the
    DCAT-AP check runs on the catalog being made (in :func:`assemble`) instead."""
    # the naive path is the reference one: SHACL by pyshacl
    chosen = [ShaclValidator("pyshacl") if v.name == "shacl" else v for v in VALIDATORS]
    return validate_sources(settings, [v for v in chosen if v.name not in BUILD_SKIPS])


def oracle_release(settings: Settings, *, check: bool = False) -> Release:
    """The oracle's release, written to ``settings.release_dir`` (or, with ``check``, compared)."""
    outcome = release_outcome(settings)
    if not outcome.report.conforms or outcome.graph is None:
        raise DataError("validation failed; nothing was published", report=outcome.report)
    release = assemble(settings, outcome)
    current = read_tree(settings.release_dir)
    release.changed = diff_trees(current, release.files)
    if check:
        if release.changed:
            raise mismatch(settings, release.changed)
        return release
    if release.changed:
        replace_tree(settings.release_dir, release.files)
    return release
