"""The per-source stage: one source folder in, everything the release needs from it out.

A :class:`Unit` is what the pipeline knows about one source after reading it alone: the
problems of its facts (JSON Schema, keys, dates, evidence quotes), a summary for the checks
across sources (ids, references, labels, file lines), its triples as sorted N-Triples lines,
and every per-subject rendering of the release (Turtle and RDF/XML blocks, JSON-LD nodes,
CSV rows), written as the oracle's rdflib and pyld serialisers write them, one subject at a time.

Why per subject is exact: every triple whose subject is a resource of a source comes from
that source (ids are unique across sources, evidence and inferred-date IRIs carry the entity
id), so a subject's block, node or row depends on its source alone; only the order of the
blocks and the prefixes declared are global, and the pipeline computes those as the
serialisers do. Units that state triples about a common subject are rendered merged
(:func:`merged_unit`).

Units are computed in worker processes and cached under a content hash of the facts file,
the archived text, the schema files and the toolkit's own code, so a rebuild after one
source changed reads every other unit from the cache.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pickle
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import rdflib
import yaml
from rdflib import Graph
from rdflib.namespace import RDF, RDFS

from toolkit.config import Settings, where
from toolkit.errors import LoadError
from toolkit.export import render as R
from toolkit.export.blocks import PARTS_SUFFIX, DamagedCache, Unsupported, json_list_item, parts_file, read_part
from toolkit.export.jsonld import context_json
from toolkit.export.render import JsonLdWriter, TurtleWriter, XmlWriter
from toolkit.graph.build import bind_prefixes, graph_lines
from toolkit.report import ValidationResult
from toolkit.schema.model import Model, load_model
from toolkit.sources import loader
from toolkit.sources.loader import FACTS_FILE, Entity, LangText, RefValue
from toolkit.sources.text import Normalised
from toolkit.yamlfile import load_yaml

UNIT_FORMAT = 3
SUBCLASS = b"<" + str(RDFS.subClassOf).encode() + b">"


# ---------------------------------------------------------------------------------- summaries


@dataclass(slots=True)
class EntitySummary:
    """One entity as the checks across sources need it (no values but its links). Slotted:
    a million-triple build holds some 150,000 of them for the whole build, so it keeps no more
    than the checks read: ``lines`` only of the properties that refer to other entities (the
    cycle check's message names the line of one), the problems as tuples (mostly the one empty
    tuple), and its names shared (see :func:`load`)."""

    id: str
    types: tuple[str, ...]
    label: str | None
    line: int
    id_line: int | None
    lines: dict[str, int]  # property -> line of its key (cycle messages, a shape's problem on its line)
    refs: tuple[tuple[str, str, int | None], ...]  # (property, referenced id, line of the reference)
    evidence: int
    load_problems: tuple[ValidationResult, ...]
    evidence_problems: tuple[ValidationResult, ...]
    about: bool = False  # an entry ``- subject: <id>`` about another source's entity
    keys: tuple[str, ...] = ()  # its keys, for the check across sources


@dataclass(slots=True)
class SourceSummary:
    id: str
    id_line: int | None
    label_zh: str | None
    label_en: str | None
    text_name: str
    text_sha256: str
    facts_sha256: str
    published: str
    refs: list[tuple[str, str, int | None]]


@dataclass
class Unit:
    """Everything one source contributes; ``lines`` and the renderings only when it loaded clean."""

    folder: str
    key: str
    facts_rel: str
    load_error: LoadError | None = None
    schema_problems: list[ValidationResult] = field(default_factory=list)
    ghosts: list[str] = field(default_factory=list)  # ids of entries with a format problem (not loaded)
    source_problems: list[ValidationResult] = field(default_factory=list)
    graph_problems: list[ValidationResult] = field(default_factory=list)  # triples it cannot publish
    source: SourceSummary | None = None
    entities: list[EntitySummary] = field(default_factory=list)
    lines: list[str] | None = None  # while computing only; the cache keeps ``nt`` and ``spans``
    nt_data: bytes | None = None  # ``nt`` while computing; once cached, read from the cache on demand
    has_nt: bool = False  # the unit loaded clean: it has lines (``nt``)
    nt_size: int = 0  # bytes of ``nt`` (a cache file of another size is damaged)
    states_subclass: bool = False  # a line states rdfs:subClassOf (the incremental build's locality)
    spans: Iterable[tuple[str, int, int]] = field(default_factory=list)  # subject, start, end in ``nt``
    triples: int = 0
    subjects: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # IRI objects (not of rdf:type) no own subject names
    cache_path: str | None = None
    # where each cached part (``nt`` and :data:`PARTS`) lies in the unit's parts file: (start, end)
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    counts_by_class: dict[str, int] = field(default_factory=dict)
    render: Render | None = None
    timings: dict[str, float] = field(default_factory=dict)  # CPU seconds of this unit's stages
    # the per-source validators' results, by validator (run in the worker: toolkit.build.pipeline)
    checks: dict[str, list[ValidationResult]] | None = None
    fresh: bool = False  # computed by this build (not read from the cache)

    @property
    def nt(self) -> bytes | None:
        """The sorted N-Triples lines, UTF-8 (None when the source did not load clean).

        Why not kept in memory: at a million triples the units' lines are 160 MB that the
        build needs only in a few stages, one unit or one stage at a time; a cached unit's
        lines are read from its cache file on each access (callers read them once per unit)."""
        if self.nt_data is not None or not self.has_nt:
            return self.nt_data
        return read_nt(self)

    @nt.setter
    def nt(self, value: bytes | None) -> None:
        self.nt_data = value
        self.has_nt = value is not None
        self.nt_size = len(value) if value is not None else 0

    def line_list(self) -> list[str]:
        nt = self.nt
        return nt.decode("utf-8").split("\n")[:-1] if nt else []

    @property
    def local_problems(self) -> bool:
        return bool(
            self.schema_problems
            or self.source_problems
            or self.graph_problems
            or self.source is None
            or any(e.load_problems or e.evidence_problems for e in self.entities)
            or len({e.id for e in self.entities if not e.about}) != sum(not e.about for e in self.entities)
        )


class Spans(Iterable[tuple[str, int, int]]):
    """A unit's spans (subject, start, end in its lines) as a loaded unit keeps them: the
    subjects and the ends in an array, not a tuple and two int objects a subject (a span starts
    where the one before ended). A million-triple build holds some 160,000 spans for the whole
    build; the stages that read them iterate them once."""

    __slots__ = ("ends", "subjects")

    def __init__(self, spans: Iterable[tuple[str, int, int]]) -> None:
        self.subjects: list[str] = []
        self.ends = array("q")
        at = 0
        for subject, start, end in spans:
            if start != at:
                raise ValueError("spans must follow one another")
            self.subjects.append(subject)
            self.ends.append(end)
            at = end

    def __iter__(self) -> Iterator[tuple[str, int, int]]:
        start = 0
        for subject, end in zip(self.subjects, self.ends, strict=True):
            yield subject, start, end
            start = end


@dataclass
class Render:
    """Per-subject renderings as the oracle's serialisers write them, and what their headers need."""

    ttl_ok: bool  # False: a prefix rdflib would generate or rewrite
    ttl_blocks: list[tuple[str, str]]
    ttl_prefixes: dict[str, str]
    references: dict[str, int]
    rdf_classes: list[str]
    xml_blocks: list[tuple[str, str]]
    xml_prefixes: dict[str, str]
    jsonld_nodes: list[tuple[str, str]]
    jsonld_errors: list[tuple[str, list[str | int], str]]  # (node id, path inside the node, message)
    csv_rows: dict[str, list[tuple[str, str]]]
    csv_errors: dict[str, list[tuple[str, int, str]]]  # table -> (row id, row index in unit, message)
    catalog_lines: list[str]


# -------------------------------------------------------------------------- schema prefilter


@cache
def _fast_schema(path: str, mtime: float) -> Any:
    """A compiled (fastjsonschema) validator used only to skip jsonschema for valid documents."""
    return fastjsonschema.compile(json.loads(Path(path).read_text(encoding="utf-8")))


def _fast_valid(validator: Any, data: Any) -> bool:
    try:
        validator(data)
    except Exception:  # invalid (JsonSchemaException), or anything odd: let jsonschema decide
        return False
    return True


# --------------------------------------------------------------------------- the stage itself


@dataclass(frozen=True)
class StageContext:
    """What a worker needs (picklable): settings and a digest of everything the result depends on."""

    settings: Settings
    digest: str


def code_digest(settings: Settings) -> str:
    """Schema files + the toolkit's code + versions of the libraries whose output we reproduce +
    the settings a unit depends on (base IRI, project root, sources folder, catalog settings)."""
    h = hashlib.sha256()
    h.update(f"unit-format={UNIT_FORMAT};base={settings.base_iri};root={settings.root}".encode())
    h.update(f";sources={os.path.abspath(settings.sources_dir)};".encode())
    h.update(json.dumps(settings.catalog, sort_keys=True, default=str).encode())
    # pyld has no __version__ attribute: its version is the installed distribution's
    h.update(f"rdflib={rdflib.__version__};pyld={metadata.version('PyLD')};yaml={yaml.__version__}".encode())
    for p in sorted(settings.schema_dir.glob("*")):
        if p.is_file():
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    pkg = Path(__file__).resolve().parents[1]
    for p in sorted(pkg.rglob("*.py")):
        h.update(str(p.relative_to(pkg)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def unit_key(folder: Path, digest: str) -> str:
    """Content hash of a source folder: its path (a unit records where it was read, and the
    manifest publishes that path), every file in it by name, plus the code/schema digest. The
    same files copied elsewhere are another unit: they must not stand in for these."""
    h = hashlib.sha256(digest.encode())
    h.update(os.fsencode(os.path.abspath(folder)) + b"\0")
    for p in sorted(folder.iterdir()):
        if p.is_file():
            h.update(p.name.encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@cache
def _model(schema_dir: str) -> Model:
    return load_model(Path(schema_dir))


@cache
def _facts_schema(schema_dir: str) -> dict[str, Any]:
    return json.loads((Path(schema_dir) / "facts.schema.json").read_text(encoding="utf-8"))


def process_folder(folder: Path, ctx: StageContext, key: str) -> Unit:
    """Run every per-source stage for one folder (no cache here; see :mod:`toolkit.build.pipeline`)."""
    settings = ctx.settings
    model = _model(str(settings.schema_dir))
    facts_path = folder / FACTS_FILE
    unit = Unit(folder=str(folder), key=key, facts_rel=where(facts_path, settings))
    try:
        _fill(unit, folder, settings, model)
    except LoadError as exc:
        unit.load_error = exc
        unit.lines = None
        unit.render = None
    return unit


def _tick(timings: dict[str, float], name: str, since: float) -> float:
    """Add the time since ``since`` to ``timings[name]``; the time now, for the next stage."""
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - since
    return now


def _fill(unit: Unit, folder: Path, settings: Settings, model: Model) -> None:
    t = time.perf_counter()
    loader.check_source_folder(folder)  # the incremental rebuild reaches here without source_folders
    doc = load_yaml(folder / FACTS_FILE, fast=True)  # libyaml's parser first: every build reads every facts file
    problems = loader.Problems(settings, doc)
    schema_path = settings.schema_dir / "facts.schema.json"
    fast = _fast_schema(str(schema_path), schema_path.stat().st_mtime)
    broken: dict[int, str] | None = {}
    if not _fast_valid(fast, doc.data):
        paths = loader.schema_errors(doc, _facts_schema(str(settings.schema_dir)), problems)
        broken = loader.broken_entries(doc, paths)
    unit.schema_problems = list(problems.results)
    problems.results.clear()
    if broken is None:
        return
    unit.ghosts = sorted(set(broken.values()))
    t = _tick(unit.timings, "facts", t)
    src = loader.load_source(folder, doc, problems, model, settings)
    unit.source_problems = list(problems.results)
    if src is None:
        return
    problems.results.clear()
    unit.source = SourceSummary(
        id=src.id,
        id_line=doc.line_of(("source", "id")),
        label_zh=src.article.label("zh"),
        label_en=src.article.label("en"),
        text_name=src.text_path.name,
        text_sha256=src.sha256,
        facts_sha256=hashlib.sha256(src.facts_path.read_bytes()).hexdigest(),
        published=src.published.lexical,
        refs=[
            (p, v.id, doc.line_of(("source", p)))
            for p, vs in src.article.values.items()
            for v in vs
            if isinstance(v, RefValue)
        ],
    )
    body = Normalised.of(src.text, src.body_start, src.body_end)
    seen: set[str] = set()
    t = _tick(unit.timings, "facts", t)
    for i, raw in enumerate(doc.data["entities"]):
        if i in broken:
            continue
        ent = loader.load_entity(raw, i, src, doc, problems, model, settings)
        load_problems = list(problems.results)
        problems.results.clear()
        t = _tick(unit.timings, "facts", t)
        loader.locate_evidence(raw, i, ent, src, body, problems, settings)
        evidence_problems = list(problems.results)
        problems.results.clear()
        t = _tick(unit.timings, "evidence", t)
        refs = tuple((prop, ref.id, doc.line_of(path)) for prop, ref, path in loader.ref_paths(raw, i, ent))
        unit.entities.append(
            EntitySummary(
                id=ent.id,
                types=ent.types,
                label=ent.label(),
                line=ent.line,
                id_line=doc.line_of(("entities", i, "id")),
                lines=dict(ent.lines),
                refs=refs,
                evidence=len(ent.evidence),
                load_problems=tuple(load_problems),
                evidence_problems=tuple(evidence_problems),
                about=ent.about,
                keys=tuple(raw) if ent.about else (),
            )
        )
        if ent.about:
            src.entities.append(ent)
            src.entities.extend(ent.claims)
            for claim in ent.claims:
                claim.evidence = list(ent.evidence)
        elif ent.id not in seen:
            seen.add(ent.id)
            src.entities.append(ent)
            src.entities.extend(ent.claims)  # values the entry attributes to the article
    t = _tick(unit.timings, "facts", t)
    if unit.local_problems:
        return
    lines = graph_lines(src, model, settings.base_iri)
    if any("_:" in line and has_blank_node(line) for line in lines):
        unit.graph_problems.append(
            ValidationResult(
                validator="facts",
                message="blank nodes are not published: give the resource an id of its own",
                source_file=unit.facts_rel,
            )
        )
        return
    t = _tick(unit.timings, "graph", t)
    try:
        rendering = render(lines, model, settings, unit.timings)
    except Unsupported as exc:
        unit.graph_problems.append(
            ValidationResult(
                validator="facts",
                message=f"its triples cannot be published exactly: {exc}",
                source_file=unit.facts_rel,
            )
        )
        return
    set_lines(unit, lines, model)
    unit.render = rendering


def has_blank_node(line: str) -> bool:
    """Whether an N-Triples line has a blank node subject or object. The per-source build
    refuses them (the release mints an IRI for every resource, and a blank node's label would
    not be stable across sources and builds)."""
    return line.startswith("_:") or split_line(line)[2].startswith("_:")


def set_lines(unit: Unit, lines: list[str], model: Model) -> None:
    """A unit's sorted N-Triples lines and what is read from them: subjects and their spans in
    the lines' bytes, counts by class, links, whether it states rdfs:subClassOf."""
    rdf_type = f"> <{RDF.type}> <"
    counter: Counter[str] = Counter()
    for line in lines:
        if rdf_type in line:
            o = line[line.index(rdf_type) + len(rdf_type) : -3]
            cls = model.class_by_iri.get(o)
            counter[cls.name if cls else o] += 1
    unit.lines = lines
    unit.counts_by_class = dict(counter)
    unit.triples = len(lines)
    nt = "".join(line + "\n" for line in lines).encode("utf-8")
    unit.nt = nt
    unit.states_subclass = SUBCLASS in nt
    pos = 0
    spans: list[tuple[str, int, int]] = []
    for line in lines:
        size = len(line.encode("utf-8")) + 1
        subject = line[1 : line.index("> ")]
        if spans and spans[-1][0] == subject:
            spans[-1] = (subject, spans[-1][1], pos + size)
        else:
            spans.append((subject, pos, pos + size))
        pos += size
    unit.spans = spans
    unit.subjects = sorted(s for s, _a, _b in spans)
    unit.external = links(lines, set(unit.subjects))


def merged_unit(members: list[Unit], settings: Settings, model: Model, path: Path) -> Unit:
    """One unit rendered from the union of the lines of units that state triples about the
    same subjects (a subject's Turtle, RDF/XML, JSON-LD and CSV are made from every source that
    states it; a triple stated twice is published once, as in the graph), cached at ``path``."""
    lines = sorted({line for m in members for line in m.line_list()})
    unit = Unit(folder="", key=path.stem, facts_rel="")
    set_lines(unit, lines, model)
    unit.render = render(lines, model, settings, unit.timings)
    dump(unit, path)
    return unit


def split_line(line: str) -> tuple[str, str, str]:
    """An N-Triples line with IRI subject and predicate: (subject IRI, predicate IRI, object as written)."""
    s, rest = line[1:].split("> ", 1)
    p, o = rest[1:].split("> ", 1)
    return s, p, o[:-2]


def links(lines: list[str], subjects: set[str]) -> list[str]:
    """The IRIs a source's triples point to outside itself (not its classes): what the
    incremental build follows when another source changes (see :mod:`toolkit.build.incremental`)."""
    external: set[str] = set()
    rdf_type = str(RDF.type)
    for line in lines:
        _s, pred, obj = split_line(line)
        if obj.startswith("<") and pred != rdf_type and obj[1:-1] not in subjects:
            external.add(obj[1:-1])
    return sorted(external)


# --------------------------------------------------------------------------- the renderings


@cache
def _node_schema(schema_dir: str) -> tuple[Any, Any]:
    schema = json.loads((Path(schema_dir) / "jsonld.schema.json").read_text(encoding="utf-8"))
    items = dict(schema["properties"]["@graph"]["items"])
    items["$schema"] = schema["$schema"]
    return fastjsonschema.compile(items), jsonschema.Draft202012Validator(items)


@cache
def _row_schemas(schema_dir: str) -> dict[str, tuple[Any, Any]]:
    schema = json.loads((Path(schema_dir) / "csv.schema.json").read_text(encoding="utf-8"))
    out = {}
    for table in schema["$defs"]:
        row = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{table}"}
        out[table] = (fastjsonschema.compile(row), jsonschema.Draft202012Validator(row))
    return out


def csv_line(cells: list[str]) -> str:
    """One CSV record exactly as pandas' ``to_csv`` writes it (minimal quoting, CRLF)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return buf.getvalue()


@cache
def _writers(schema_dir: str, base: str) -> tuple[Any, Any, Any]:
    model = _model(schema_dir)

    def ns() -> Graph:
        g = Graph()
        bind_prefixes(g, model, base)
        return g

    return TurtleWriter(ns()), XmlWriter(ns()), JsonLdWriter(json.loads(context_json(model)))


def _node_errors(node: dict[str, Any], fast: Any, slow: Any) -> list[tuple[str, list[str | int], str]]:
    """A JSON-LD node's JSON Schema errors (the compiled check first; jsonschema for the messages)."""
    if _fast_valid(fast, node):
        return []
    return [(node.get("id"), list(err.absolute_path), err.message) for err in slow.iter_errors(node)]


def _row_errors(schema: tuple[Any, Any], rows: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """A table's CSV rows' JSON Schema errors: (row id, row index, message)."""
    fast, slow = schema
    out = []
    for i, r in enumerate(rows):
        if not _fast_valid(fast, r):
            for err in slow.iter_errors(r):
                path = "/".join(map(str, err.absolute_path)) or "(row)"
                out.append((r.get("id"), i, f"{path}: {err.message}"))
    return out


def render(lines: list[str], model: Model, settings: Settings, timings: dict[str, float]) -> Render:
    """Every per-subject rendering of sorted lines, written directly (:mod:`toolkit.export.render`);
    raises :class:`~toolkit.export.blocks.Unsupported` for what those writers cannot write
    exactly as the oracle's serialisers would (the build refuses it, naming the reason)."""
    t = time.perf_counter()
    ttl, xml, jsonld = _writers(str(settings.schema_dir), settings.base_iri)
    ttl.start()
    xml.start()
    subjects = R.subjects_of(lines)
    references: Counter[str] = Counter(o.iri for items in subjects.values() for _p, o in items if o.iri is not None)
    classes = sorted(
        s for s, items in subjects.items() if any(p == str(RDF.type) and o.iri == str(RDFS.Class) for p, o in items)
    )
    ttl_blocks = [(s, ttl.block(s, items)) for s, items in subjects.items()]
    ok_ttl, ttl_prefixes = ttl.prefixes()
    t = _tick(timings, "render:ttl", t)
    xml_blocks = [(s, xml.block(s, items)) for s, items in subjects.items()]
    t = _tick(timings, "render:rdf", t)
    fast, slow = _node_schema(str(settings.schema_dir))
    jsonld_nodes, jsonld_errors = [], []
    for s, items in subjects.items():
        node = jsonld.node(s, items)
        jsonld_nodes.append((node["id"], json_list_item(node)))
        jsonld_errors += _node_errors(node, fast, slow)
    jsonld_nodes.sort(key=lambda n: n[0])
    t = _tick(timings, "render:jsonld", t)
    csv_rows: dict[str, list[tuple[str, str]]] = {}
    csv_errors: dict[str, list[tuple[str, int, str]]] = {}
    schemas = _row_schemas(str(settings.schema_dir))
    index = R.CsvIndex(subjects, model)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for table in model.tables.values():
        for pointer in table.reverse.values():
            if any(o not in subjects for o in index.reverse(model.properties[pointer].iri)):
                raise R.Unsupported("a reverse column pointing out of the source")
        rows = R.table_rows(index, table)
        columns = R.table_plan(model, table.name)[1]
        texts = []
        for r in rows:
            buf.seek(0)
            buf.truncate()
            writer.writerow([r[c] for c in columns])
            texts.append((r["id"], buf.getvalue()))
        csv_rows[table.name] = texts
        if table.name in schemas and (errors := _row_errors(schemas[table.name], rows)):
            csv_errors[table.name] = errors
    t = _tick(timings, "render:csv", t)
    catalog = catalog_lines(lines, model)
    _tick(timings, "render:catalog", t)
    return Render(
        ttl_ok=ok_ttl,
        ttl_blocks=ttl_blocks,
        ttl_prefixes=ttl_prefixes,
        references=dict(references),
        rdf_classes=classes,
        xml_blocks=xml_blocks,
        xml_prefixes=dict(xml.used),
        jsonld_nodes=jsonld_nodes,
        jsonld_errors=jsonld_errors,
        csv_rows=csv_rows,
        csv_errors=csv_errors,
        catalog_lines=catalog,
    )


_DATE_TYPES = (
    "^^<http://www.w3.org/2001/XMLSchema#date>",
    "^^<http://www.w3.org/2001/XMLSchema#gYearMonth>",
    "^^<http://www.w3.org/2001/XMLSchema#gYear>",
)


def catalog_lines(lines: list[str], model: Model) -> list[str]:
    """The triples the catalog reads from the data: types, labels, links, dates and the
    article's addresses (``url``, ``originalUrl``: strings the catalog turns into links)."""
    rdf_type, label = str(RDF.type), str(RDFS.label)
    skip = {model.properties[p].iri for p in ("evidence",)}
    keep = {rdf_type, label} | {model.properties[p].iri for p in ("url", "originalUrl")}
    out = []
    for line in lines:
        _s, pred, obj = split_line(line)
        if pred in skip:
            continue
        if pred in keep or obj.startswith("<") or obj.endswith(_DATE_TYPES):
            out.append(line)
    return out


# ------------------------------------------------------------------------------- cache files


#: the renderings are cached apart from the unit, one pickle per kind, so that the release is
#: written one format at a time without every rendering of every source in memory at once
PARTS = {
    "ttl": ("ttl_ok", "ttl_blocks", "ttl_prefixes", "references", "rdf_classes"),
    "rdf": ("xml_blocks", "xml_prefixes"),
    "jsonld": ("jsonld_nodes", "jsonld_errors"),
    "csv": ("csv_rows", "csv_errors"),
    "catalog": ("catalog_lines",),
}


NT_PART = "nt"  # a unit's N-Triples lines, as bytes


def _write(path: Path, obj: Any) -> None:
    _write_bytes(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _write_bytes(path: Path, data: bytes) -> None:
    """``data`` as the file at ``path``, replaced whole (a reader never sees it half written)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def dump(unit: Unit, path: Path) -> None:
    """Cache a unit: its lines and renderings first, then the unit, which marks it done and
    says where each part lies. The lines stay in the cache only (see :attr:`Unit.nt`).

    Why one parts file, not a file per kind: a build writes every source's entry, and making a
    file, not pickling, was the cost of caching a unit (seven files a source, 14,000 at 120k
    triples: about 0.3 ms each on an idle disk, several ms while other processes write, against
    about 10 ms of work a source); each part is still read alone (:func:`read_part`)."""
    render, lines = unit.render, unit.lines
    chunks: list[bytes] = []
    unit.parts = {}
    at = 0

    def put(name: str, data: bytes) -> None:
        nonlocal at
        chunks.append(data)
        unit.parts[name] = (at, at + len(data))
        at += len(data)

    if unit.nt_data is not None:
        put(NT_PART, unit.nt_data)
    if render is not None:
        for part, names in PARTS.items():
            put(part, pickle.dumps({n: getattr(render, n) for n in names}, protocol=pickle.HIGHEST_PROTOCOL))
    if chunks:
        _write_bytes(Path(f"{path}{PARTS_SUFFIX}"), b"".join(chunks))
    unit.render, unit.lines, unit.nt_data, unit.cache_path = None, None, None, str(path)
    try:
        _write(path, unit)
    finally:
        unit.render, unit.lines = render, lines


def load(path: Path) -> Unit | None:
    try:
        with open(path, "rb") as fh:
            unit = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if not isinstance(unit, Unit):
        return None
    unit.cache_path = str(path)
    share_names(unit)
    return unit


def share_names(unit: Unit) -> None:
    """One string object for each name many units repeat (class names, properties,
    entity ids and the references to them, the IRIs they link to), rather than one per unit:
    each unit is unpickled on its own, so nothing is shared between units otherwise, and a
    million-triple build holds every unit's summary from the first stage to the last."""
    unit.external = [sys.intern(x) for x in unit.external]
    unit.counts_by_class = {sys.intern(k): n for k, n in unit.counts_by_class.items()}
    if not isinstance(unit.spans, Spans):
        unit.spans = Spans(unit.spans)
    if unit.source is not None:
        unit.source.refs = [(sys.intern(p), sys.intern(r), n) for p, r, n in unit.source.refs]
    for e in unit.entities:
        e.id = sys.intern(e.id)  # the ids other units refer to: one object with their references
        e.types = tuple(sys.intern(t) for t in e.types)
        e.refs = tuple((sys.intern(p), sys.intern(r), n) for p, r, n in e.refs)
        e.lines = {sys.intern(p): n for p, n in e.lines.items()}


def read_nt(unit: Unit) -> bytes:
    """A cached unit's N-Triples lines; a part that cannot be read drops the unit's cache entry
    and raises :class:`DamagedCache`."""
    assert unit.cache_path is not None
    try:
        data = read_part(unit, NT_PART)
        if len(data) != unit.nt_size:
            raise ValueError(f"{len(data)} bytes, not {unit.nt_size}")
        return data
    except (OSError, ValueError, KeyError) as exc:
        Path(unit.cache_path).unlink(missing_ok=True)
        raise DamagedCache(f"{parts_file(unit)} ({NT_PART}): {exc}") from None


def has_render(unit: Unit) -> bool:
    """A cached clean unit's lines and renderings are all there (its parts file of its size)."""
    if unit.cache_path is None or not unit.has_nt or not all(p in unit.parts for p in (NT_PART, *PARTS)):
        return False
    try:
        return os.path.getsize(parts_file(unit)) == max(end for _start, end in unit.parts.values())
    except OSError:
        return False


# ------------------------------------------------------------------- for the checks across sources


def entity_stub(summary: EntitySummary, source_id: str, facts: Path) -> Entity:
    """A light :class:`Entity` carrying only what the cycle check reads."""
    values: dict[str, list[Any]] = {}
    for prop, ref, _line in summary.refs:
        values.setdefault(prop, []).append(RefValue(ref))
    if summary.label is not None:
        values["label"] = [LangText(summary.label, "zh")]
    return Entity(
        id=summary.id,
        types=summary.types,
        source_id=source_id,
        file=facts,
        line=summary.line,
        values=values,
        lines=summary.lines,
    )


def bump(counter: Counter[Any], counts: Mapping[Any, int], sign: int) -> None:
    """Add (sign 1) or subtract (-1) counts, dropping what falls to zero (only the keys touched:
    normalising the whole counter per unit would make a sum over units quadratic)."""
    for k, v in counts.items():
        n = counter.get(k, 0) + sign * v
        if n > 0:
            counter[k] = n
        else:
            counter.pop(k, None)
