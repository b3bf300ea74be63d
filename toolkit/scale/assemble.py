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
import io
import json
import os
import tempfile
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
from toolkit.export.jsonld import context_json
from toolkit.publish.inputs import ReleaseInputs
from toolkit.publish.manifest import MANIFEST, MEDIA_TYPES
from toolkit.report import ValidationReport, ValidationResult
from toolkit.scale import units as U
from toolkit.scale.pipeline import FastOutcome, give_back_memory
from toolkit.scale.splice import GLOBAL, Spec, Written, json_list_item, json_list_spec, write_blocks
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
        self.layouts: dict[str, bytes] = {}  # Layout.dumps() of each block file
        self.aggregates: Any = None  # the Aggregates the incremental build keeps

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

    def write_blocks(self, rel: str, spec: Spec, blocks: Iterable[Block]) -> None:
        """Write a block file (see :mod:`toolkit.scale.splice`) and keep its layout."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.record(rel, write_blocks(path, spec, blocks))

    def record(self, rel: str, written: Written) -> None:
        self.sizes[rel] = written.size
        self.sha256[rel] = written.sha256
        self.layouts[rel] = written.layout.dumps()

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
        other.sizes, other.sha256, other.layouts = self.sizes, self.sha256, self.layouts
        return other


# ------------------------------------------------------------------------------ RDF files
#
# Every large file is a header, blocks in the order of a key, and a footer (see
# :mod:`toolkit.scale.splice`). The functions below give a file's :class:`Spec` and one unit's
# blocks; the full build writes all units' blocks, the incremental one splices a changed
# unit's blocks into the previous file. Both give the bytes the naive serialisers give.

Block = tuple[Any, int, bytes]


def _enc(text: str) -> bytes:
    return text.encode("utf-8")


class Prefixes:
    """The prefixes a file declares: the union of the units' (a prefix bound to two namespaces
    is not something the per-unit renderings can reproduce)."""

    def __init__(self, start: dict[str, str] | None = None) -> None:
        self.count: Counter[tuple[str, str]] = Counter()
        self.fixed = dict(start or {})

    def add(self, prefixes: dict[str, str], sign: int = 1) -> None:
        U.bump(self.count, {(p, ns): 1 for p, ns in prefixes.items()}, sign)

    def bound(self) -> dict[str, str]:
        out = dict(self.fixed)
        for p, ns in sorted(self.count):
            if out.setdefault(p, ns) != ns:
                raise Unsupported(f"prefix {p} bound twice")
        return out


def ttl_spec(prefixes: Prefixes) -> Spec:
    head = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(prefixes.bound().items()))
    return Spec(header=_enc(head), footer=b"\n")


def ttl_blocks(part: dict[str, Any], uid: int, refs: Mapping[str, int]) -> list[Block]:
    if not part["ok"]["ttl"]:
        raise Unsupported("a prefix rdflib would generate or rewrite")
    if part["rdf_classes"]:
        raise Unsupported("rdfs:Class members are written first by rdflib")
    return [((refs.get(s, 0), s), uid, _enc(text)) for s, text in part["ttl_blocks"]]


def xml_spec(prefixes: Prefixes) -> Spec:
    head = ['<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF\n']
    for prefix, namespace in sorted(prefixes.bound().items()):
        head.append(f'   xmlns:{prefix}="{namespace}"\n' if prefix else f'   xmlns="{namespace}"\n')
    head.append(">\n")
    return Spec(header=_enc("".join(head)), footer=b"</rdf:RDF>\n")


def xml_blocks(part: dict[str, Any], uid: int) -> list[Block]:
    if not part["ok"]["rdf"]:
        raise Unsupported("a namespace rdflib would generate")
    return [(s + ">", uid, _enc(text)) for s, text in part["xml_blocks"]]


def nt_blocks(unit: U.Unit, uid: int) -> list[Block]:
    nt = unit.nt or b""
    return [(s + ">", uid, nt[a:b]) for s, a, b in unit.spans]


NT_SPEC = Spec(header=b"", footer=b"")


def jsonld_spec(model: Any) -> Spec:
    return json_list_spec({"@context": json.loads(context_json(model))["@context"], "@graph": []}, "@graph")


def jsonld_blocks(part: dict[str, Any], uid: int) -> list[Block]:
    if part["jsonld_errors"]:
        raise OutputProblems()
    return [(node_id, uid, _enc(text)) for node_id, text in part["jsonld_nodes"]]


def csv_spec(model: Any, table: Any) -> Spec:
    return Spec(header=_enc(U.csv_line(model.table_columns(table))), footer=b"")


def csv_blocks(part: dict[str, Any], uid: int) -> dict[str, list[Block]]:
    if any(part["csv_errors"].values()):
        raise OutputProblems()
    return {name: [(row_id, uid, _enc(text)) for row_id, text in rows] for name, rows in part["csv_rows"].items()}


NQ_SPEC = Spec(header=b"", footer=b"")


def nq_iri(unit: U.Unit, base: str) -> str:
    """A source's graph name in policy.nq."""
    assert unit.source is not None
    if unit.source.id == nquads.ONTOLOGY:
        raise ValueError(f"a source may not be called {nquads.ONTOLOGY!r}: that graph name holds the ontology")
    return nquads.graph_iri(base, unit.source.id)


def nq_block(unit: U.Unit, uid: int, base: str) -> Block:
    nt = unit.nt
    assert nt is not None
    iri = nq_iri(unit, base)
    # every line ends with " .\n" and no line holds a raw newline: add the graph name there
    return (iri, uid, nt.replace(b" .\n", f" <{iri}> .\n".encode()))


def nq_ontology_block(settings: Settings) -> Block:
    base = settings.base_iri
    onto = nquads.ontology_graph(settings.schema_dir)
    onto_nt = "".join(line + "\n" for line in nquads._stable_lines(onto)).encode("utf-8")
    iri = nquads.graph_iri(base, nquads.ONTOLOGY)
    return (iri, GLOBAL, onto_nt.replace(b" .\n", f" <{iri}> .\n".encode()))


class OutputProblems(Exception):
    """A unit's renderings failed their JSON Schema: the full assembly says where."""


def _jsonld_problems(units: list[U.Unit]) -> list[ValidationResult]:
    nodes: list[str] = []
    errors: dict[str, list[tuple[list[str | int], str]]] = {}
    for unit in units:
        r = U.load_part(unit, "jsonld")
        nodes.extend(n for n, _t in r["jsonld_nodes"])
        for node_id, path, message in r["jsonld_errors"]:
            errors.setdefault(node_id, []).append((path, message))
    nodes.sort()
    problems: list[ValidationResult] = []
    for i, node_id in enumerate(nodes):
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
    return problems


def _csv_problems(units: list[U.Unit], model: Any) -> list[ValidationResult]:
    all_rows: dict[str, list[str]] = {t: [] for t in model.tables}
    all_errs: dict[str, dict[str, list[str]]] = {t: {} for t in model.tables}
    for unit in units:
        r = U.load_part(unit, "csv")
        for name, rows_of in r["csv_rows"].items():
            all_rows[name].extend(row_id for row_id, _t in rows_of)
        for name, errs_of in r["csv_errors"].items():
            for row_id, _i, message in errs_of:
                all_errs[name].setdefault(row_id, []).append(message)
    problems = []
    for table in model.tables.values():
        rows = sorted(all_rows[table.name])
        errs = all_errs[table.name]
        for i, row_id in enumerate(rows):
            for message in errs.get(row_id, []):
                problems.append(
                    ValidationResult(
                        validator="output-schema",
                        message=message,
                        focus_node=row_id,
                        source_file=f"csv/{table.name}.csv",
                        line=i + 2,
                    )
                )
    return problems


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

    known = {"release_files", "datapackage_files", "catalog_files"}  # what this module writes itself
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
    agg = Aggregates.of(units)
    write_data_files(files, settings, outcome.model, list(enumerate(units)), agg)
    report.validators_run.append("output-schema")
    if agg.output_problems:
        report.extend(_jsonld_problems(units) + _csv_problems(units, outcome.model))
        raise DataError("the exported files do not match their JSON Schemas", report=report)
    write_reports(files, report)
    with stage("datapackage"):
        inputs = ReleaseInputs(settings=settings, outcome=outcome, files=files)  # type: ignore[arg-type]
        for rel, data in datapackage_files(inputs).items():
            files.write(rel, [data])
    with stage("catalog"):
        from toolkit.scale import catalog as fast_catalog

        cat = None
        try:
            cat = write_catalog(files, settings, outcome.model, list(enumerate(units)))
        except fast_catalog.Unsupported:
            catalog = catalog_outcome(settings, outcome)
            cat_inputs = ReleaseInputs(settings=settings, outcome=catalog, files=files)  # type: ignore[arg-type]
            for rel, data in catalog_files(cat_inputs).items():
                files.write(rel, [data])
    with stage("dcat-ap"), tempfile.TemporaryDirectory(prefix="policy-toolkit-catalog-") as tmp:
        lines: Path | None = None
        if cat is not None:  # the catalog's lines in a file the engine reads, its sources' blocks let go as written
            lines = Path(tmp) / "catalog.nt"
            with lines.open("wb") as out:
                cat.ntriples(out)
            agg.catalog = cat.state()
            cat = None
            give_back_memory()
        problems = dcat_ap(files, settings, lines)
        give_back_memory()
    report.extend(problems)
    report.validators_run.append("dcat-ap")
    if not report.conforms:
        raise DataError("the catalog metadata does not conform to DCAT-AP 3.0.1", report=report)
    entries = [(Path(u.folder).name, uid, manifest_source(u, settings)) for uid, u in enumerate(units) if u.source]
    files.write_blocks(MANIFEST, *manifest_blocks(files, settings, outcome.triples, agg, report, entries))
    manifest = read_manifest(files)
    files.aggregates = agg
    return files, manifest, report


def write_reports(files: StagedFiles, report: ValidationReport) -> None:
    shacl_raw = report.raw_graphs.get("shacl")
    if shacl_raw is not None:
        files.write("validation-report.ttl", [shacl_raw.serialize(format="turtle", encoding="utf-8")])
    files.write("validation-report.json", [report.to_json()])


def manifest_source(unit: U.Unit, settings: Settings) -> dict[str, Any]:
    src = unit.source
    assert src is not None
    return {
        "id": src.id,
        "iri": settings.base_iri + "source/" + src.id,
        "text": _rel(Path(unit.folder) / src.text_name, settings),
        "text_sha256": src.text_sha256,
        "facts": _rel(Path(unit.folder) / "facts.yaml", settings),
        "facts_sha256": src.facts_sha256,
        "entities": len({e.id for e in unit.entities}),
        "evidence_quotes": sum(e.evidence for e in unit.entities),
        "published": src.published,
    }


def manifest_blocks(
    files: StagedFiles,
    settings: Settings,
    triples: int,
    agg: Aggregates,
    report: ValidationReport,
    sources: list[tuple[str, int, dict[str, Any]]],
) -> tuple[Spec, list[Block]]:
    """manifest.json as a block file: one block per source, keyed by its folder (the units'
    order), so that a rebuild splices the changed sources' entries into the previous manifest.
    ``sources``: (folder name, uid, entry) of the sources whose blocks are to be written."""
    manifest: dict[str, Any] = {
        "title": {"zh": "政策新闻事实数据集", "en": "Policy news facts dataset"},
        "toolkit_version": __version__,
        "base_iri": settings.base_iri,
        "triples": triples,
        "counts_by_class": dict(sorted(agg.counts.items())),
        "sources": [],
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
    blocks = sorted(((folder, uid, _enc(json_list_item(entry))) for folder, uid, entry in sources), key=lambda b: b[0])
    return json_list_spec(manifest, "sources"), blocks


def read_manifest(files: StagedFiles) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((files.folder / MANIFEST).read_bytes())
    return loaded


class Aggregates:
    """What the release's headers and orders need of all units together: the Turtle reference
    counts, the prefixes, the counts by class. Sums over units, so a changed unit's old part
    can be subtracted and its new part added (:mod:`toolkit.scale.incremental`)."""

    def __init__(self) -> None:
        self.refs: Counter[str] = Counter()
        self.ttl_prefixes = Prefixes()
        self.xml_prefixes = Prefixes({"rdf": str(RDF)})
        self.counts: Counter[str] = Counter()
        self.output_problems = False
        self.catalog: Any = None

    @classmethod
    def of(cls, units: list[U.Unit]) -> Aggregates:
        agg = cls()
        for unit in units:
            agg.add(unit, 1)
        return agg

    def add(self, unit: U.Unit, sign: int) -> None:
        ttl = U.load_part(unit, "ttl")
        U.bump(self.refs, ttl["references"], sign)
        self.ttl_prefixes.add(ttl["ttl_prefixes"], sign)
        self.xml_prefixes.add(U.load_part(unit, "rdf")["xml_prefixes"], sign)
        U.bump(self.counts, unit.counts_by_class, sign)


def write_data_files(
    files: StagedFiles, settings: Settings, model: Any, units: list[tuple[int, U.Unit]], agg: Aggregates
) -> None:
    """policy.ttl, .nt, .rdf, .jsonld, .nq and the CSV tables from every unit's blocks."""

    def blocks(make: Any) -> list[Block]:
        out: list[Block] = []
        for uid, unit in units:
            out.extend(make(uid, unit))
        out.sort(key=lambda b: b[0])
        return out

    with stage("export:ttl"):
        ttl = blocks(lambda uid, u: ttl_blocks(U.load_part(u, "ttl"), uid, agg.refs))
        files.write_blocks("policy.ttl", ttl_spec(agg.ttl_prefixes), ttl)
        del ttl
        give_back_memory()
    with stage("export:nt"):
        # the blocks are slices of the units' lines (read once each, for this stage only):
        # sorted by key first, sliced while written
        spans = sorted((s + ">", uid, a, b) for uid, u in units for s, a, b in u.spans)
        nts = {uid: u.nt or b"" for uid, u in units}
        files.write_blocks("policy.nt", NT_SPEC, ((key, uid, nts[uid][a:b]) for key, uid, a, b in spans))
        del spans, nts
        give_back_memory()
    with stage("export:rdf"):
        files.write_blocks(
            "policy.rdf", xml_spec(agg.xml_prefixes), blocks(lambda uid, u: xml_blocks(U.load_part(u, "rdf"), uid))
        )
        give_back_memory()
    try:
        with stage("export:jsonld"):
            files.write_blocks(
                "policy.jsonld", jsonld_spec(model), blocks(lambda uid, u: jsonld_blocks(U.load_part(u, "jsonld"), uid))
            )
            give_back_memory()
        with stage("export:csv"):
            tables: dict[str, list[Block]] = {t: [] for t in model.tables}
            for uid, unit in units:
                for name, rows in csv_blocks(U.load_part(unit, "csv"), uid).items():
                    tables[name].extend(rows)
            for table in model.tables.values():
                rows = tables.pop(table.name)
                rows.sort(key=lambda b: b[0])
                files.write_blocks(f"csv/{table.name}.csv", csv_spec(model, table), rows)
            del rows
            give_back_memory()
    except OutputProblems:
        agg.output_problems = True
        return
    with stage("export:nq"):
        # one block per source, each a copy of its lines with the graph name: made while written
        onto = nq_ontology_block(settings)
        order = sorted([(nq_iri(u, settings.base_iri), uid) for uid, u in units] + [(onto[0], GLOBAL)])
        by_uid = dict(units)
        files.write_blocks(
            nquads.RELEASE_FILE,
            NQ_SPEC,
            (onto if uid == GLOBAL else nq_block(by_uid[uid], uid, settings.base_iri) for _iri, uid in order),
        )
    give_back_memory()


def write_catalog(files: StagedFiles, settings: Settings, model: Any, units: list[tuple[int, U.Unit]]) -> Any:
    from toolkit.scale import catalog as fast_catalog

    cat = fast_catalog.CatalogBuild(settings, model)
    cat.full(units, files)
    cat.write(files)
    return cat


def dcat_ap(
    files: Mapping[str, bytes], settings: Settings, lines: list[str] | bytes | Path | None = None
) -> list[ValidationResult]:
    """:func:`toolkit.validate.dcatap.dcat_ap_results` on N-Triples (no rdflib graph of the catalog).

    ``lines`` are the catalog's N-Triples lines (or those lines as :func:`ntriples_bytes`, or a
    file of them) when the caller has them (else catalog.ttl is read)."""
    import pyoxigraph as ox

    from toolkit.validate.dcatap import dcat_ap_shapes
    from toolkit.validate.shacl import validate_data

    shapes = dcat_ap_shapes(settings.schema_dir / SHAPES)
    if lines is None:
        quads = ox.parse(files[CATALOG_FILE], format=ox.RdfFormat.TURTLE)
        lines = sorted({f"{q.subject} {q.predicate} {q.object} ." for q in quads})
    data = lines if isinstance(lines, bytes | Path) else ntriples_bytes(lines)
    del lines
    results, _raw = validate_data(data, shapes, validator="dcat-ap")
    return as_dcat_ap(results, CATALOG_FILE)


def ntriples_bytes(lines: list[str]) -> bytes:
    """The lines as N-Triples, UTF-8, each ending with a newline.

    Why not ``("\\n".join(lines) + "\\n").encode()``: the joined text of a large catalog is a
    str of two bytes per character (the labels are Chinese), held beside its UTF-8 copy;
    encoding slice by slice into one growing buffer holds the UTF-8 bytes alone (``getvalue``
    hands over the buffer without a copy)."""
    buf = io.BytesIO()
    step = 4096
    for i in range(0, len(lines), step):
        buf.write(("\n".join(lines[i : i + step]) + "\n").encode("utf-8"))
    return buf.getvalue()


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
    lines = [ln for u in outcome.units if u.has_nt for ln in U.load_part(u, "catalog")["catalog_lines"]]
    if lines:
        g.parse(data="\n".join(lines) + "\n", format="nt")
    corpus = Corpus(sources=[_CatalogSource(u) for u in outcome.units], entities={})  # type: ignore[misc]
    return Outcome(report=outcome.report, model=outcome.model, corpus=corpus, graph=g)
