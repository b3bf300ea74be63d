"""Write a release from a :class:`~toolkit.scale.pipeline.FastOutcome`, file by file.

Each file is written once into a staging folder beside the release (named as
:mod:`toolkit.publish.atomic` names its temporary folders, so a killed build's leftovers are
removed by the next one), with its size and SHA-256 taken while writing; nothing holds the
whole release in memory. The bytes are those :func:`toolkit.publish.release.assemble` makes:

* ``policy.nt`` / ``policy.nq``: the sorted lines (per source graph, then the ontology);
* ``policy.ttl``: rdflib's prefixes and per-subject statements, subjects in rdflib's order
  (classes first, then by how often a subject is an object, then by IRI);
* ``policy.rdf``: rdflib's namespace header and per-subject descriptions in line order;
* ``policy.jsonld``: pyld's compacted nodes, sorted by id, under the published context;
* ``csv/*.csv``: pandas' header and the rows, sorted by id;
* the SHACL report, the data package, the catalog (DCAT-AP checked by the compiled validator)
  and the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.namespace import RDF

from toolkit import __version__
from toolkit.config import Settings
from toolkit.errors import DataError
from toolkit.export import nquads
from toolkit.export.jsonld import _context
from toolkit.publish.extras import ReleaseInputs
from toolkit.publish.release import MANIFEST, MEDIA_TYPES
from toolkit.report import ValidationReport, ValidationResult
from toolkit.scale import units as U
from toolkit.scale.pipeline import FastOutcome
from toolkit.scale.timing import stage
from toolkit.validate.dcatap import CATALOG_FILE, SHAPES, as_dcat_ap


class Unsupported(Exception):
    """The per-subject renderings cannot give the naive bytes here (the caller falls back)."""


class StagedFiles(Mapping[str, bytes]):
    """Release files on disk (relative path -> bytes, read on access), with sizes and checksums."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sizes: dict[str, int] = {}
        self.sha256: dict[str, str] = {}

    def write(self, rel: str, chunks: Iterable[str | bytes]) -> None:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        with open(path, "wb") as fh:
            buf: list[bytes] = []
            pending = 0
            for chunk in chunks:
                data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                buf.append(data)
                pending += len(data)
                if pending > 1 << 22:
                    block = b"".join(buf)
                    fh.write(block)
                    h.update(block)
                    size += len(block)
                    buf, pending = [], 0
            block = b"".join(buf)
            fh.write(block)
            h.update(block)
            size += len(block)
            fh.flush()
            os.fsync(fh.fileno())
        self.sizes[rel] = size
        self.sha256[rel] = h.hexdigest()

    def __getitem__(self, rel: str) -> bytes:
        if rel not in self.sizes:
            raise KeyError(rel)
        return (self.folder / rel).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.sizes))

    def __len__(self) -> int:
        return len(self.sizes)

    def moved_to(self, folder: Path) -> StagedFiles:
        other = StagedFiles(folder)
        other.sizes, other.sha256 = self.sizes, self.sha256
        return other


# ------------------------------------------------------------------------------ RDF files


def _turtle(units: list[U.Unit]) -> Iterator[str]:
    refs: Counter[str] = Counter()
    prefixes: dict[str, str] = {}
    classes: set[str] = set()
    blocks: list[tuple[str, str]] = []
    for unit in units:
        r = U.load_part(unit, "ttl")
        if not r["ok"]["ttl"]:
            raise Unsupported("a prefix rdflib would generate or rewrite")
        refs.update(r["references"])
        for p, ns in r["ttl_prefixes"].items():
            if prefixes.setdefault(p, ns) != ns:
                raise Unsupported(f"prefix {p} bound twice")
        classes.update(r["rdf_classes"])
        blocks.extend(r["ttl_blocks"])
    if classes:
        raise Unsupported("rdfs:Class members are written first by rdflib")
    blocks.sort(key=lambda b: (refs.get(b[0], 0), b[0]))
    for p, ns in sorted(prefixes.items()):
        yield f"@prefix {p}: <{ns}> .\n"
    for _s, text in blocks:
        yield text
    yield "\n"


def _xml(units: list[U.Unit]) -> Iterator[str]:
    bindings: dict[str, str] = {"rdf": str(RDF)}
    blocks: list[tuple[str, str]] = []
    for unit in units:
        r = U.load_part(unit, "rdf")
        if not r["ok"]["rdf"]:
            raise Unsupported("a namespace rdflib would generate")
        for p, ns in r["xml_prefixes"].items():
            if bindings.setdefault(p, ns) != ns:
                raise Unsupported(f"prefix {p} bound twice")
        blocks.extend(r["xml_blocks"])
    blocks.sort(key=lambda b: b[0] + ">")
    yield '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF\n'
    for prefix, namespace in sorted(bindings.items()):
        yield f'   xmlns:{prefix}="{namespace}"\n' if prefix else f'   xmlns="{namespace}"\n'
    yield ">\n"
    for _s, text in blocks:
        yield text
    yield "</rdf:RDF>\n"


def _jsonld(units: list[U.Unit], outcome: FastOutcome) -> tuple[Iterator[str], list[ValidationResult]]:
    nodes: list[tuple[str, str]] = []
    errors: dict[str, list[tuple[list[str | int], str]]] = {}
    for unit in units:
        r = U.load_part(unit, "jsonld")
        nodes.extend(r["jsonld_nodes"])
        for node_id, path, message in r["jsonld_errors"]:
            errors.setdefault(node_id, []).append((path, message))
    nodes.sort(key=lambda n: n[0])
    problems: list[ValidationResult] = []
    if errors:
        for i, (node_id, _text) in enumerate(nodes):
            for path, message in errors.get(node_id, []):
                full = ["@graph", i, *path]
                problems.append(
                    ValidationResult(
                        validator="output-schema",
                        message=f"{'/'.join(map(str, full))}: {message}",
                        focus_node=node_id,
                        source_file="policy.jsonld",
                    )
                )
    context = json.loads(_context(outcome.model))["@context"]
    head = json.dumps({"@context": context, "@graph": [0]}, ensure_ascii=False, indent=2)
    before, after = head.rsplit("\n    0\n", 1)

    def chunks() -> Iterator[str]:
        if not nodes:
            yield json.dumps({"@context": context, "@graph": []}, ensure_ascii=False, indent=2) + "\n"
            return
        yield before + "\n"
        for i, (_id, text) in enumerate(nodes):
            yield text + (",\n" if i + 1 < len(nodes) else "\n")
        yield after + "\n"

    return chunks(), problems


def _csv(
    units: list[U.Unit], outcome: FastOutcome, settings: Settings
) -> Iterator[tuple[str, list[str], list[ValidationResult]]]:
    model = outcome.model
    all_rows: dict[str, list[tuple[str, str]]] = {t: [] for t in model.tables}
    all_errs: dict[str, dict[str, list[str]]] = {t: {} for t in model.tables}
    for unit in units:
        r = U.load_part(unit, "csv")
        for name, rows_of in r["csv_rows"].items():
            all_rows[name].extend(rows_of)
        for name, errs_of in r["csv_errors"].items():
            for row_id, _i, message in errs_of:
                all_errs[name].setdefault(row_id, []).append(message)
    for table in model.tables.values():
        rows = all_rows.pop(table.name)
        errs = all_errs[table.name]
        rows.sort(key=lambda x: x[0])
        rel = f"csv/{table.name}.csv"
        problems = []
        if errs:
            for i, (row_id, _text) in enumerate(rows):
                for message in errs.get(row_id, []):
                    problems.append(
                        ValidationResult(
                            validator="output-schema", message=message, focus_node=row_id, source_file=rel, line=i + 2
                        )
                    )
        header = U.csv_line(model.table_columns(table))
        yield rel, [header, *(text for _id, text in rows)], problems


def _nquads(units: list[U.Unit], settings: Settings) -> Iterator[bytes]:
    base = settings.base_iri
    graphs: list[tuple[str, bytes]] = []
    for unit in units:
        assert unit.source is not None and unit.nt is not None
        if unit.source.id == nquads.ONTOLOGY:
            raise ValueError(f"a source may not be called {nquads.ONTOLOGY!r}: that graph name holds the ontology")
        graphs.append((nquads.graph_iri(base, unit.source.id), unit.nt))
    onto = nquads.ontology_graph(settings.schema_dir)
    onto_nt = "".join(line + "\n" for line in nquads._stable_lines(onto)).encode("utf-8")
    graphs.append((nquads.graph_iri(base, nquads.ONTOLOGY), onto_nt))
    graphs.sort(key=lambda g: g[0])
    for iri, blob in graphs:
        # every line ends with " .\n" and no line holds a raw newline: add the graph name there
        yield blob.replace(b" .\n", f" <{iri}> .\n".encode())


# ------------------------------------------------------------------------------ the release


def _rel(path: Path, settings: Settings) -> str:
    try:
        return str(path.relative_to(settings.root))
    except ValueError:
        return path.name


def check_partition(units: list[U.Unit]) -> bool:
    """Every subject's triples come from one source (what makes per-subject renderings exact)."""
    total = sum(len(u.subjects) for u in units)
    return len({s for u in units for s in u.subjects}) == total


def write_release(
    settings: Settings, outcome: FastOutcome, staging: Path
) -> tuple[StagedFiles, dict[str, Any], ValidationReport]:
    """Write every release file into ``staging``; raise DataError like :func:`assemble` does."""
    from toolkit.publish.catalog import catalog_files
    from toolkit.publish.datapackage import datapackage_files

    units = outcome.units
    assert outcome.clean
    from toolkit.publish.extras import post_exporters

    known = {"release_files", "datapackage_files", "catalog_files"}
    if {f.__name__ for f in post_exporters()} != known:
        raise Unsupported("a post-exporter the fast path does not know")
    if not check_partition(units) or not all(U.has_render(u) for u in units):
        raise Unsupported("a subject described by two sources")
    files = StagedFiles(staging)
    report = ValidationReport(
        results=list(outcome.report.results),
        raw_graphs=dict(outcome.report.raw_graphs),
        validators_run=list(outcome.report.validators_run),
    )
    with stage("export:ttl"):
        files.write("policy.ttl", _turtle(units))
    with stage("export:nt"):
        files.write("policy.nt", outcome.ntriples_chunks())
    with stage("export:rdf"):
        files.write("policy.rdf", _xml(units))
    with stage("export:jsonld"):
        chunks, out_problems = _jsonld(units, outcome)
        files.write("policy.jsonld", chunks)
    with stage("export:csv"):
        for rel, rows, problems in _csv(units, outcome, settings):
            files.write(rel, rows)
            out_problems += problems
    report.validators_run.append("output-schema")
    if out_problems:
        report.extend(out_problems)
        raise DataError("the exported files do not match their JSON Schemas", report=report)
    shacl_raw = report.raw_graphs.get("shacl")
    if shacl_raw is not None:
        files.write("validation-report.ttl", [shacl_raw.serialize(format="turtle", encoding="utf-8")])
    files.write("validation-report.json", [report.to_json()])
    with stage("export:nq"):
        files.write(nquads.RELEASE_FILE, _nquads(units, settings))
    with stage("datapackage"):
        inputs = ReleaseInputs(settings=settings, outcome=outcome, files=files)  # type: ignore[arg-type]
        for rel, data in datapackage_files(inputs).items():
            files.write(rel, [data])
    with stage("catalog"):
        from toolkit.scale import catalog as fast_catalog

        cat_lines: list[str] | None = None
        try:
            cat_lines = fast_catalog.catalog_lines(settings, units, outcome.model, files)
            files.write("catalog.ttl", fast_catalog.turtle(cat_lines))
            files.write("catalog.jsonld", fast_catalog.jsonld(cat_lines))
        except fast_catalog.Unsupported:
            cat_lines = None
            catalog = catalog_outcome(settings, outcome)
            cat_inputs = ReleaseInputs(settings=settings, outcome=catalog, files=files)  # type: ignore[arg-type]
            for rel, data in catalog_files(cat_inputs).items():
                files.write(rel, [data])
    with stage("dcat-ap"):
        problems = dcat_ap(files[CATALOG_FILE], settings, cat_lines)
        del cat_lines
    report.extend(problems)
    report.validators_run.append("dcat-ap")
    if not report.conforms:
        raise DataError("the catalog metadata does not conform to DCAT-AP 3.0.1", report=report)
    counts: Counter[str] = Counter()
    for unit in units:
        counts.update(unit.counts_by_class)
    manifest = {
        "title": {"zh": "政策新闻事实数据集", "en": "Policy news facts dataset"},
        "toolkit_version": __version__,
        "base_iri": settings.base_iri,
        "triples": outcome.triples,
        "counts_by_class": dict(sorted(counts.items())),
        "sources": [
            {
                "id": u.source.id,
                "iri": settings.base_iri + "source/" + u.source.id,
                "text": _rel(Path(u.folder) / u.source.text_name, settings),
                "text_sha256": u.source.text_sha256,
                "facts": _rel(Path(u.folder) / "facts.yaml", settings),
                "facts_sha256": u.source.facts_sha256,
                "entities": len({e.id for e in u.entities}),
                "evidence_quotes": sum(e.evidence for e in u.entities),
                "published": u.source.published,
            }
            for u in units
            if u.source is not None
        ],
        "validation": {"conforms": report.conforms, "validators": report.validators_run, "counts": report.counts()},
        "files": [
            {
                "path": rel,
                "bytes": files.sizes[rel],
                "sha256": files.sha256[rel],
                "media_type": MEDIA_TYPES.get(Path(rel).suffix, "application/octet-stream"),
            }
            for rel in sorted(files.sizes)
        ],
    }
    files.write(MANIFEST, [json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"])
    return files, manifest, report


def dcat_ap(catalog_ttl: bytes, settings: Settings, lines: list[str] | None = None) -> list[ValidationResult]:
    """:func:`toolkit.validate.dcatap.dcat_ap_results` with the compiled validator.

    ``lines`` are the catalog's N-Triples lines when the caller has them (else catalog.ttl is read)."""
    import pyoxigraph as ox

    from toolkit.scale.validation import store_of, validate_lines
    from toolkit.validate.dcatap import _shapes

    shapes = _shapes(settings.schema_dir / SHAPES)
    if lines is None:
        quads = ox.parse(catalog_ttl, format=ox.RdfFormat.TURTLE)
        lines = sorted({f"{q.subject} {q.predicate} {q.object} ." for q in quads})
    data = ("\n".join(lines) + "\n").encode("utf-8")
    ns = Graph()
    results, _raw = validate_lines(data, shapes, Graph(), ns, store=store_of(data), validator="dcat-ap", lines=lines)
    return as_dcat_ap(results, CATALOG_FILE)


class _CatalogSource:
    """What :func:`toolkit.publish.catalog.catalog_graph` reads of a source."""

    def __init__(self, unit: U.Unit) -> None:
        assert unit.source is not None
        self.id = unit.source.id
        self._labels = {"zh": unit.source.label_zh, "en": unit.source.label_en}
        self.entities = [_CatalogEntity(e) for e in unit.entities]
        self.article = self

    def label(self, lang: str = "zh") -> str | None:
        return self._labels.get(lang)


class _CatalogEntity:
    def __init__(self, ent: U.EntitySummary) -> None:
        self.id = ent.id
        self.evidence = range(ent.evidence)


def catalog_outcome(settings: Settings, outcome: FastOutcome) -> Any:
    """An outcome for the catalog code: the corpus summary and the data triples it reads."""
    from toolkit.sources.loader import Corpus
    from toolkit.validate import Outcome

    g = Graph()
    lines = [ln for u in outcome.units if u.nt is not None for ln in U.load_part(u, "catalog")["catalog_lines"]]
    if lines:
        g.parse(data="\n".join(lines) + "\n", format="nt")
    corpus = Corpus(sources=[_CatalogSource(u) for u in outcome.units], entities={})  # type: ignore[misc]
    return Outcome(report=outcome.report, model=outcome.model, corpus=corpus, graph=g)
