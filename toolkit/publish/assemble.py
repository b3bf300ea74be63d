"""Write a release from a :class:`~toolkit.build.pipeline.FastOutcome`, file by file.

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
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.namespace import RDF

from toolkit import __version__
from toolkit.config import Settings
from toolkit.errors import DataError
from toolkit.export import units as U
from toolkit.export.blocks import (
    Block,
    FileContext,
    OutputProblems,
    Spec,
    Unsupported,
    json_list_item,
    json_list_spec,
    load_part,
    utf8,
)
from toolkit.export.formats import FORMATS
from toolkit.graph import iris
from toolkit.graph.build import bind_prefixes
from toolkit.publish.catalog import CatalogBuild
from toolkit.publish.datapackage import datapackage_files
from toolkit.publish.manifest import MANIFEST, MEDIA_TYPES
from toolkit.publish.splice import Written, write_blocks
from toolkit.report import ValidationReport, ValidationResult
from toolkit.schema.model import Model
from toolkit.timing import give_back_memory, stage
from toolkit.validate import Outcome
from toolkit.validate.dcatap import CATALOG_FILE, SHAPES, as_dcat_ap, dcat_ap_shapes
from toolkit.validate.shacl import validate_data


class FastOutcome(Outcome):
    """An :class:`~toolkit.validate.Outcome` whose graph is the units' sorted N-Triples, never an
    rdflib graph (a release's graph is read from its ``policy.nt`` on demand)."""

    def __init__(self, report: ValidationReport, model: Model, units: list[U.Unit], clean: bool) -> None:
        super().__init__(report=report, model=model, corpus=None, graph=None)
        self.units = units
        self.clean = clean
        self.links: Any = None  # the checks across sources' index (toolkit.build.pipeline.LinkIndex)
        self.triples = sum(u.triples for u in units) if clean else 0


def data_namespaces(model: Model, settings: Settings) -> Graph:
    g = Graph()
    bind_prefixes(g, model, settings.base_iri)
    return g


class StagedFiles(Mapping[str, bytes]):
    """Release files on disk (relative path -> bytes, read on access), with sizes and checksums."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sizes: dict[str, int] = {}
        self.sha256: dict[str, str] = {}
        self.layouts: dict[str, bytes] = {}  # Layout.dumps() of each block file
        self.aggregates: Any = None  # the Aggregates the incremental build keeps

    def write(self, rel: str, data: str | bytes) -> None:
        """Write a small file (a report, the data package): a block file of a header alone."""
        self.write_blocks(rel, Spec(header=utf8(data) if isinstance(data, str) else data), (), layout=False)

    def write_blocks(self, rel: str, spec: Spec, blocks: Iterable[Block], *, layout: bool = True) -> None:
        """Write a block file (see :mod:`toolkit.publish.splice`) and keep its layout."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.record(rel, write_blocks(path, spec, blocks), layout=layout)

    def record(self, rel: str, written: Written, *, layout: bool = True) -> None:
        self.sizes[rel] = written.size
        self.sha256[rel] = written.sha256
        if layout:
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


# ------------------------------------------------------------------------------ data files
#
# Every large file is a header, blocks in the order of a key, and a footer (see
# :mod:`toolkit.export.blocks`). Each format of :data:`toolkit.export.formats.FORMATS` gives its
# file's spec and one unit's blocks; the CSV tables (a file per table) are made here. The full
# build writes all units' blocks, the incremental one splices a changed unit's blocks into the
# previous file; tests compare both with the whole-graph oracle (tests/oracle).


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


def csv_spec(model: Any, table: Any) -> Spec:
    return Spec(header=utf8(U.csv_line(model.table_columns(table))), footer=b"")


def csv_blocks(part: dict[str, Any], uid: int) -> dict[str, list[Block]]:
    if any(part["csv_errors"].values()):
        raise OutputProblems()
    return {name: [(row_id, uid, utf8(text)) for row_id, text in rows] for name, rows in part["csv_rows"].items()}


def _jsonld_problems(units: list[U.Unit]) -> list[ValidationResult]:
    nodes: list[str] = []
    errors: dict[str, list[tuple[list[str | int], str]]] = {}
    for unit in units:
        r = load_part(unit, "jsonld")
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
        r = load_part(unit, "csv")
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


def manifest_path(path: Path, settings: Settings) -> str:
    """A source file's path in the manifest: relative to the project (its name when outside)."""
    try:
        return str(path.relative_to(settings.root))
    except ValueError:
        return path.name


def group_of(shared: dict[str, set[int]], uid: int, unit_of: Callable[[int], U.Unit | None]) -> list[int]:
    """``uid`` and every unit that states triples about a common subject with it, transitively,
    sorted (``shared``: each subject two or more units describe -> those units)."""
    seen, todo = {uid}, [uid]
    while todo:
        unit = unit_of(todo.pop())
        for s in unit.subjects if unit is not None else ():
            for other in shared.get(s, ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return sorted(seen)


def subject_groups(
    uids: Iterable[int], shared: dict[str, set[int]], unit_of: Callable[[int], U.Unit | None]
) -> list[list[int]]:
    """The units of ``uids`` grouped as the formats made of subjects (Turtle, N-Triples, RDF/XML,
    JSON-LD, CSV) see them: each unit alone, but units that state triples about a common subject
    (``shared``: each subject two or more units describe -> those units) together. Each group is
    sorted, the groups in the order of their first uid, whatever order the units were made in."""
    done: set[int] = set()
    out = []
    for uid in sorted(uids):
        if uid not in done and unit_of(uid) is not None:
            group = group_of(shared, uid, unit_of)
            done.update(group)
            out.append(group)
    return out


def subject_units(
    groups: list[list[int]], unit_of: Callable[[int], U.Unit | None], settings: Settings, model: Model, folder: Path
) -> list[tuple[int, U.Unit]]:
    """The unit of each group of :func:`subject_groups`, owned by its first uid: a unit alone,
    or one unit rendered from all the group's lines (:func:`toolkit.export.units.merged_unit`),
    cached in ``folder`` by their keys. Both builds render their groups here."""
    out = []
    for group in groups:
        members = [u for u in map(unit_of, group) if u is not None]
        if len(members) > 1:
            name = hashlib.sha256("\0".join(m.key for m in members).encode()).hexdigest()[:24]
            members = [U.merged_unit(members, settings, model, folder / f"{name}.pickle")]
        out.append((group[0], members[0]))
    return out


def write_release(
    settings: Settings, outcome: FastOutcome, staging: Path
) -> tuple[StagedFiles, dict[str, Any], ValidationReport]:
    """Write every release file into ``staging``; raise DataError when a file breaks its
    JSON Schema or the catalog DCAT-AP, and :class:`~toolkit.export.blocks.Unsupported` when a
    file cannot be written exactly from the units."""
    units = outcome.units
    assert outcome.clean
    if not all(U.has_render(u) for u in units):
        raise Unsupported("a unit without its renderings")
    files = StagedFiles(staging)
    with tempfile.TemporaryDirectory(prefix="policy-toolkit-merged-") as merged:
        groups = subject_groups(range(len(units)), outcome.links.shared, units.__getitem__)
        by_subject = subject_units(groups, units.__getitem__, settings, outcome.model, Path(merged))
        return _write_release(settings, outcome, files, by_subject)


def _write_release(
    settings: Settings, outcome: FastOutcome, files: StagedFiles, by_subject: list[tuple[int, U.Unit]]
) -> tuple[StagedFiles, dict[str, Any], ValidationReport]:
    units = outcome.units
    report = ValidationReport(
        results=list(outcome.report.results),
        raw_graphs=dict(outcome.report.raw_graphs),
        validators_run=list(outcome.report.validators_run),
    )
    agg = Aggregates.of([u for _i, u in by_subject])
    write_data_files(files, settings, outcome.model, list(enumerate(units)), by_subject, agg)
    report.validators_run.append("output-schema")
    if agg.output_problems:
        rendered = [u for _i, u in by_subject]
        report.extend(_jsonld_problems(rendered) + _csv_problems(rendered, outcome.model))
        raise DataError("the exported files do not match their JSON Schemas", report=report)
    write_reports(files, report)
    with stage("datapackage"):
        for rel, data in datapackage_files(outcome.model, files).items():
            files.write(rel, data)
    with stage("catalog"):
        cat = CatalogBuild(settings, outcome.model)
        cat.update(files, list(enumerate(units)))
        cat.write(files)
    with stage("dcat-ap"), tempfile.TemporaryDirectory(prefix="policy-toolkit-catalog-") as tmp:
        # the catalog's lines in a file the engine reads, its sources' blocks let go as written
        lines: Path | None = Path(tmp) / "catalog.nt"
        with lines.open("wb") as out:
            cat.ntriples(out)
        agg.catalog = cat.state()
        cat = None
        give_back_memory()
        problems = dcat_ap(settings, lines)
        give_back_memory()
    report.extend(problems)
    report.validators_run.append("dcat-ap")
    if not report.conforms:
        raise DataError("the catalog metadata does not conform to DCAT-AP 3.0.1", report=report)
    entries = [(Path(u.folder).name, uid, manifest_source(u, settings)) for uid, u in enumerate(units) if u.source]
    triples = sum(u.triples for _i, u in by_subject)  # a triple two sources state is published once
    files.write_blocks(MANIFEST, *manifest_blocks(files, settings, triples, agg, report, entries))
    manifest = read_manifest(files)
    files.aggregates = agg
    return files, manifest, report


def write_reports(files: StagedFiles, report: ValidationReport) -> None:
    shacl_raw = report.raw_graphs.get("shacl")
    if shacl_raw is not None:
        files.write("validation-report.ttl", shacl_raw.serialize(format="turtle", encoding="utf-8"))
    files.write("validation-report.json", report.to_json())


def manifest_source(unit: U.Unit, settings: Settings) -> dict[str, Any]:
    src = unit.source
    assert src is not None
    return {
        "id": src.id,
        "iri": iris.source(settings.base_iri, src.id),
        "text": manifest_path(Path(unit.folder) / src.text_name, settings),
        "text_sha256": src.text_sha256,
        "facts": manifest_path(Path(unit.folder) / "facts.yaml", settings),
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
    blocks = sorted(((folder, uid, utf8(json_list_item(entry))) for folder, uid, entry in sources), key=lambda b: b[0])
    return json_list_spec(manifest, "sources"), blocks


def read_manifest(files: StagedFiles) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((files.folder / MANIFEST).read_bytes())
    return loaded


class Aggregates:
    """What the release's headers and orders need of all units together: the Turtle reference
    counts, the prefixes, the counts by class. Sums over units, so a changed unit's old part
    can be subtracted and its new part added (:mod:`toolkit.build.incremental`)."""

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
        ttl = load_part(unit, "ttl")
        U.bump(self.refs, ttl["references"], sign)
        self.ttl_prefixes.add(ttl["ttl_prefixes"], sign)
        self.xml_prefixes.add(load_part(unit, "rdf")["xml_prefixes"], sign)
        U.bump(self.counts, unit.counts_by_class, sign)


#: how a rebuild writes a block file instead: ``(file, spec, made of each source, blocks, rekey)``
#: splices the blocks into the previous file (see :func:`write_data_files`)
Splice = Callable[[str, Spec, bool, list[Block], Callable[[str], int] | None], None]


def write_data_files(
    files: StagedFiles,
    settings: Settings,
    model: Any,
    units: list[tuple[int, U.Unit]],
    by_subject: list[tuple[int, U.Unit]],
    agg: Aggregates,
    splice: Splice | None = None,
) -> None:
    """Every format of :data:`~toolkit.export.formats.FORMATS` and the CSV tables, one file at a
    time (the memory of a file's blocks is given back before the next): a format of named
    graphs from each source's unit, the others from ``by_subject`` (see :func:`subject_units`).

    The full build writes every unit's blocks; the incremental rebuild passes the changed units
    alone and ``splice``, which puts their blocks into the previous files (the global blocks,
    such as the ontology's graph, are kept there)."""
    ctx = FileContext(settings=settings, model=model, totals=agg)
    try:
        for fmt in FORMATS:
            with stage("export:" + fmt.file.rpartition(".")[2]):
                made_of = units if fmt.per_source else by_subject
                if splice is None:
                    files.write_blocks(fmt.file, fmt.spec(ctx), fmt.all_blocks(made_of, ctx))
                else:
                    add = [b for uid, unit in made_of for b in fmt.blocks(unit, uid, ctx)]
                    splice(fmt.file, fmt.spec(ctx), fmt.per_source, add, fmt.rekey(ctx) if fmt.rekey else None)
                give_back_memory()
        with stage("export:csv"):
            tables: dict[str, list[Block]] = {t: [] for t in model.tables}
            for uid, unit in by_subject:
                for name, rows in csv_blocks(load_part(unit, "csv"), uid).items():
                    tables[name].extend(rows)
            for table in model.tables.values():
                rows = tables.pop(table.name)
                rows.sort(key=lambda b: b[0])
                rel, spec = f"csv/{table.name}.csv", csv_spec(model, table)
                if splice is None:
                    files.write_blocks(rel, spec, rows)
                else:
                    splice(rel, spec, False, rows, None)
            del rows
            give_back_memory()
    except OutputProblems:
        agg.output_problems = True


def dcat_ap(settings: Settings, lines: Path) -> list[ValidationResult]:
    """:func:`toolkit.validate.dcatap.dcat_ap_results` on the file ``lines`` of the catalog's
    sorted N-Triples lines (no rdflib graph of the catalog)."""
    results, _raw = validate_data(lines, dcat_ap_shapes(settings.schema_dir / SHAPES), validator="dcat-ap")
    return as_dcat_ap(results, CATALOG_FILE)
