"""DCAT-AP 3 catalog metadata of a release: catalog.ttl and catalog.jsonld, from the units.

A ``dcat:Catalog`` holds one ``dcat:Dataset`` for the release and one per source, and a
``dcat:Distribution`` for every published file, with IANA media types, EU file types, byte
sizes and SHA-256 checksums of the very bytes in the release. Dates come from
``[tool.policy-toolkit.catalog]``, never from the clock, so the catalog is reproducible.

Each source's keywords, places and dates are made from the lines its unit keeps for it (types,
labels, links, dates), then written by :mod:`toolkit.export.render`'s Turtle writer and a JSON-LD
writer for the catalog's prefix-only context, as block files (:class:`CatalogBuild`); the tests
compare the bytes with the whole-graph oracle (``tests/oracle/catalog.py``). The distributions describe the
files already written, by size and SHA-256.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import groupby
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, XSD
from rdflib.plugins.serializers.nt import _quoteLiteral

from toolkit.config import Settings
from toolkit.export import units as U
from toolkit.export.blocks import GLOBAL, Block, Spec, Unsupported, json_list_item, json_list_spec, load_part
from toolkit.export.canonical import canonical_copy
from toolkit.export.formats import BY_SUFFIX
from toolkit.export.render import JsonLdWriter, Obj, TurtleWriter, subjects_of
from toolkit.export.units import bump
from toolkit.graph import iris
from toolkit.schema.model import Model

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
IANA = "https://www.iana.org/assignments/media-types/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme"
EU_AVAILABILITY = "http://publications.europa.eu/resource/authority/planned-availability/STABLE"
DCATAP = Namespace("http://data.europa.eu/r5r/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
#: EU data themes used, with their labels in the EU vocabulary
THEMES = {"GOVE": "Government and public sector", "TECH": "Science and technology"}

#: suffix -> (IANA media type, EU file type, zh title, en title): the formats' own
#: (:data:`~toolkit.export.formats.FORMATS`), the CSV tables and the JSON metadata files
FILE_KINDS: dict[str, tuple[str, str, str, str]] = {
    **{"." + sfx: (f.media_type, f.eu_file_type, *f.titles) for sfx, f in BY_SUFFIX.items()},
    ".csv": ("text/csv", "CSV", "CSV 表", "CSV table"),
    ".json": ("application/json", "JSON", "JSON 文件", "JSON file"),
}
SPECIAL_TITLES = {
    "validation-report.ttl": ("SHACL 验证报告", "SHACL validation report"),
    "validation-report.json": ("验证报告（JSON）", "Validation report (JSON)"),
    "datapackage.json": ("Frictionless 数据包描述", "Frictionless data package descriptor"),
    "csv-metadata.json": ("CSVW 元数据", "CSVW metadata"),
}


def catalog_conf(settings: Settings) -> dict[str, Any]:
    conf = {
        "download-base": settings.base_iri.rstrip("/") + "/release/",
        "homepage": settings.base_iri,
        "publisher-en": "policy-toolkit",
        "publisher-zh": "policy-toolkit",
        "contact-email": "opendata@example.org",
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "issued": "2026-01-01",
        "modified": "2026-01-01",
        "version": "1.0.0",
    }
    conf.update(settings.catalog)
    return conf


def date_literal(text: str) -> Literal:
    """A catalog date at its precision (``2026``, ``2026-01``, ``2026-01-01``)."""
    return Literal(text, datatype=XSD.date if len(text) == 10 else XSD.gYear if len(text) == 4 else XSD.gYearMonth)


def file_titles(model: Model, path: str) -> tuple[str, str]:
    if path in SPECIAL_TITLES:
        return SPECIAL_TITLES[path]
    p = PurePosixPath(path)
    if p.parent.name == "csv" and p.stem in model.tables:
        t = model.tables[p.stem].title
        return f"{t['zh']}（CSV）", f"{t['en']} (CSV)"
    _media, _eu, zh, en = FILE_KINDS.get(p.suffix, ("", "", "文件", "File"))
    return zh, en


DATE_TYPES = {str(XSD.date), str(XSD.gYearMonth), str(XSD.gYear)}


# The article's metadata in the catalog, by the model's property name: terms DCAT-AP 3.0.1 leaves
# open on a prov:Entity (its shapes target dcat: classes only) from the namespaces the catalog
# already binds. The original publisher is the article's dct:publisher; the platform that
# republished the archived page is the agent that copy is attributed to (prov:wasAttributedTo);
# the original page is what the archived one was derived from (prov:wasDerivedFrom); the archived
# page's address is its foaf:page; editors are dct:contributor (schema:editor would add a namespace
# to every catalog file for one term); the retrieval date is the model's own super-property dct:date.
ARTICLE_REFS = {
    "publisher": DCTERMS.publisher,
    "platform": PROV.wasAttributedTo,
    "author": DCTERMS.creator,
    "editor": DCTERMS.contributor,
}
ARTICLE_PAGES = {"url": FOAF.page, "originalUrl": PROV.wasDerivedFrom}
ARTICLE_DATES = {"retrievedOn": DCTERMS.date}


def _iri(x: Any) -> str:
    return f"<{x}>"


def _lit(value: Literal) -> str:
    return _quoteLiteral(value)


class _Triples:
    def __init__(self) -> None:
        self.lines: set[str] = set()

    def add(self, s: str, p: Any, o: str) -> None:
        self.lines.add(f"{_iri(s)} {_iri(p)} {o} .")

    def both(self, s: str, p: Any, zh: str, en: str) -> None:
        self.add(s, p, _lit(Literal(zh, lang="zh")))
        self.add(s, p, _lit(Literal(en, lang="en")))


def _date_lit(text: str) -> str:
    return _lit(date_literal(text))


class Index:
    """What the catalog reads of the data: technology fields and regions, the labels (as
    written) of every labelled subject, and the range of the dates. The whole data's is the sum
    of the units' (:meth:`of`; a unit's subjects are its own alone, labels too), so a rebuild
    keeps it up to date by subtracting a changed source's old part and adding its new one."""

    def __init__(self) -> None:
        self.fields: set[str] = set()
        self.regions: set[str] = set()
        self.labels: dict[str, list[str]] = {}
        self.dates: Counter[str] = Counter()

    @classmethod
    def of(cls, subjects: Subjects, model: Model) -> Index:
        """One source's part."""
        part = cls()
        # not dates of the dataset: when the article appeared, and a value it only claims (issue 17)
        undated = {model.properties["publishedNotBefore"].iri, model.properties["claimValue"].iri}
        tf, region = model.ns + "TechnologyField", model.ns + "Region"
        for s, items in subjects.items():
            for p, o in items:
                if p == RDF_TYPE:
                    if o.iri == tf:
                        part.fields.add(s)
                    elif o.iri == region:
                        part.regions.add(s)
                elif p == RDFS_LABEL:
                    part.labels.setdefault(s, []).append(o.text)
                elif o.datatype in DATE_TYPES and p not in undated:
                    part.dates[o.lexical] += 1
        for labels in part.labels.values():
            labels.sort()
        return part

    def add(self, part: Index, sign: int = 1) -> None:
        if sign > 0:
            self.fields.update(part.fields)
            self.regions.update(part.regions)
            self.labels.update(part.labels)
        else:
            self.fields.difference_update(part.fields)
            self.regions.difference_update(part.regions)
            for s in part.labels:
                self.labels.pop(s, None)
        bump(self.dates, part.dates, sign)


RDF_TYPE = str(RDF.type)
RDFS_LABEL = str(RDFS.label)
RDFS_CLASS = str(RDFS.Class)
XSD_STRING = str(XSD.string)  # the IRIs as strings, once (a namespace's attribute is a call)


def unit_lines(unit: U.Unit) -> list[str]:
    return load_part(unit, "catalog")["catalog_lines"] if unit.has_nt else []


def _keywords_and_coverage(
    t: _Triples, ds: str, subjects: set[str] | None, data: Index, first: str | None, last: str | None
) -> None:
    """Keywords, places and period of a dataset (``subjects`` None: of every subject)."""
    for nodes, is_region in ((data.fields, False), (data.regions, True)):
        for node in nodes if subjects is None else nodes & subjects:
            for lab in data.labels.get(node, []):
                t.add(ds, DCAT.keyword, lab)
            if is_region:
                t.add(ds, DCTERMS.spatial, _iri(node))
                t.add(node, RDF.type, _iri(DCTERMS.Location))
    t.add(ds, DCAT.keyword, _lit(Literal("政策", lang="zh")))
    t.add(ds, DCAT.keyword, _lit(Literal("policy", lang="en")))
    if first is not None and last is not None:
        period = ds + "/temporal"
        t.add(ds, DCTERMS.temporal, _iri(period))
        t.add(period, RDF.type, _iri(DCTERMS.PeriodOfTime))
        t.add(period, DCAT.startDate, _date_lit(first))
        t.add(period, DCAT.endDate, _date_lit(last))


class Context:
    """The settings the catalog's lines are made from, read once."""

    def __init__(self, settings: Settings, model: Model) -> None:
        self.conf = catalog_conf(settings)
        self.model = model
        self.pt = model.ns
        self.not_before = model.properties["publishedNotBefore"].iri
        base = self.base = settings.base_iri
        self.catalog, self.release = iris.catalog(base), iris.dataset(base, "release")
        self.publisher, self.contact = iris.agent(base, "publisher"), iris.agent(base, "contact-point")
        self.licence = self.conf["license"]
        self.issued, self.modified = _date_lit(self.conf["issued"]), _date_lit(self.conf["modified"])

    def owned(self, source_id: str) -> tuple[str, str, str]:
        """The subjects a source's own part describes: its dataset, the dataset's period, its article."""
        ds = iris.dataset(self.base, source_id)
        return ds, ds + "/temporal", iris.source(self.base, source_id)

    def common(self, t: _Triples, ds: str) -> None:
        """What every dataset of the catalog states: type, publisher, contact, licence, dates, languages, themes."""
        t.add(ds, RDF.type, _iri(DCAT.Dataset))
        t.add(ds, DCTERMS.publisher, _iri(self.publisher))
        t.add(ds, DCAT.contactPoint, _iri(self.contact))
        t.add(ds, DCTERMS.license, _iri(self.licence))
        t.add(ds, DCTERMS.issued, self.issued)
        t.add(ds, DCTERMS.modified, self.modified)
        for lang in ("ZHO", "ENG"):
            t.add(ds, DCTERMS.language, _iri(EU_LANGUAGE + lang))
        for theme in THEMES:
            t.add(ds, DCAT.theme, _iri(f"{EU_THEME}/{theme}"))


Subjects = dict[str, list[tuple[str, Obj]]]


class OwnedInput:
    """What :func:`owned_lines_of` reads of a source's catalog lines: its article's rights holders
    and publication dates (as written), and the IRIs and dates of its entities. A fraction of
    the lines: the full build keeps this of every source while the :class:`Index` is summed,
    rather than every source's lines."""

    __slots__ = ("article_dates", "article_holders", "article_meta", "dates", "links")

    def __init__(self, ctx: Context, unit: U.Unit, subjects: Subjects) -> None:
        assert unit.source is not None
        art = subjects.get(ctx.owned(unit.source.id)[2], [])
        self.article_holders = [o.text for p, o in art if p == ctx.pt + "rightsHolder" and o.iri is not None]
        self.article_dates = [o.text for p, o in art if p == ctx.pt + "datePublished"]
        # (catalog term, object as written) of the article's metadata (:data:`ARTICLE_REFS` ...)
        self.article_meta: list[tuple[str, str]] = []
        for p, o in art:
            name = p[len(ctx.pt) :] if p.startswith(ctx.pt) else ""
            if name in ARTICLE_REFS and o.iri is not None:
                self.article_meta.append((str(ARTICLE_REFS[name]), o.text))
            elif name in ARTICLE_PAGES and o.iri is None:
                self.article_meta.append((str(ARTICLE_PAGES[name]), URIRef(o.lexical).n3()))
            elif name in ARTICLE_DATES:
                self.article_meta.append((str(ARTICLE_DATES[name]), o.text))
        self.links: set[str] = set()
        self.dates: list[str] = []
        for eid in {ctx.base + e.id for e in unit.entities}:
            self.links.add(eid)
            for p, o in subjects.get(eid, []):
                if o.iri is not None:
                    self.links.add(o.iri)
                if o.datatype in DATE_TYPES and p != ctx.not_before:
                    self.dates.append(o.lexical)


def owned_lines_of(ctx: Context, unit: U.Unit, given: OwnedInput, data: Index) -> list[str]:
    """The lines about a source's own subjects (:meth:`Context.owned`): its dataset, the dataset's
    period and its article. They depend on the source and on what ``data`` says of the subjects
    its entities link to (kind and labels), nothing else."""
    src = unit.source
    assert src is not None
    t = _Triples()
    ds, _period, article = ctx.owned(src.id)
    ctx.common(t, ds)
    zh, en = src.label_zh or src.id, src.label_en or src.id
    entities = list(unit.entities)
    quotes = sum(e.evidence for e in entities)
    t.both(ds, DCTERMS.title, f"事实：{zh}", f"Facts: {en}")
    t.both(
        ds,
        DCTERMS.description,
        f"整理自《{zh}》的 {len(entities)} 项事实（{quotes} 条原文证据）。",
        f"{len(entities)} facts curated from '{en}', with {quotes} verbatim quotes.",
    )
    t.add(ds, DCTERMS.isPartOf, _iri(ctx.release))
    t.add(ds, PROV.wasDerivedFrom, _iri(article))
    t.add(article, RDF.type, _iri(PROV.Entity))
    for text in given.article_holders:
        t.add(article, DCTERMS.rightsHolder, text)
    for lab in data.labels.get(article, []):
        t.add(article, DCTERMS.title, lab)
    for text in given.article_dates:
        t.add(article, DCTERMS.issued, text)
    for term, text in given.article_meta:
        t.add(article, term, text)
    # the source's own sub-graph: its entities' triples and the types/labels of what they link to
    dates = given.dates
    _keywords_and_coverage(t, ds, given.links, data, min(dates, default=None), max(dates, default=None))
    own = set(ctx.owned(src.id))
    return sorted(line for line in t.lines if line[1 : line.index("> ")] in own)


def global_lines(ctx: Context, sources: list[tuple[str, list[str]]], data: Index, files: Any) -> list[str]:
    """Every line about a subject no source owns: the catalog, the release dataset, the agents,
    regions and distributions. ``sources`` are (source id, rights holders) in the units' order."""
    conf, model = ctx.conf, ctx.model
    catalog, release, publisher, contact = ctx.catalog, ctx.release, ctx.publisher, ctx.contact
    licence, issued, modified = ctx.licence, ctx.issued, ctx.modified
    t = _Triples()
    t.add(publisher, RDF.type, _iri(FOAF.Agent))
    t.both(publisher, FOAF.name, conf["publisher-zh"], conf["publisher-en"])
    t.add(contact, RDF.type, _iri(VCARD.Kind))
    t.add(contact, RDF.type, _iri(VCARD.Organization))
    t.add(contact, VCARD.fn, _lit(Literal(conf["publisher-en"])))
    t.add(contact, VCARD.hasEmail, _iri("mailto:" + conf["contact-email"]))
    t.add(licence, RDF.type, _iri(DCTERMS.LicenseDocument))
    for lang in ("ZHO", "ENG"):
        t.add(EU_LANGUAGE + lang, RDF.type, _iri(DCTERMS.LinguisticSystem))
    t.add(catalog, RDF.type, _iri(DCAT.Catalog))
    t.both(catalog, DCTERMS.title, "政策新闻事实数据目录", "Policy news facts catalogue")
    t.both(
        catalog,
        DCTERMS.description,
        "由政策新闻整理、逐条附原文证据并经验证的关联开放数据。",
        "Linked open data curated from policy news, every fact tied to a verbatim quote and validated.",
    )
    t.add(catalog, DCTERMS.publisher, _iri(publisher))
    t.add(catalog, DCTERMS.license, _iri(licence))
    t.add(catalog, DCTERMS.issued, issued)
    t.add(catalog, DCTERMS.modified, modified)
    t.add(catalog, FOAF.homepage, _iri(conf["homepage"]))
    t.add(conf["homepage"], RDF.type, _iri(FOAF.Document))
    t.add(catalog, DCAT.dataset, _iri(release))
    t.add(catalog, DCAT.themeTaxonomy, _iri(EU_THEME))
    t.add(EU_THEME, RDF.type, _iri(SKOS.ConceptScheme))
    t.add(EU_THEME, DCTERMS.title, _lit(Literal("Data theme", lang="en")))
    for theme, label in THEMES.items():
        t.add(f"{EU_THEME}/{theme}", RDF.type, _iri(SKOS.Concept))
        t.add(f"{EU_THEME}/{theme}", SKOS.prefLabel, _lit(Literal(label, lang="en")))
        t.add(f"{EU_THEME}/{theme}", SKOS.inScheme, _iri(EU_THEME))
    ctx.common(t, release)
    t.both(
        release, DCTERMS.title, f"政策新闻事实数据集 {conf['version']}", f"Policy news facts dataset {conf['version']}"
    )
    t.both(
        release,
        DCTERMS.description,
        f"{len(sources)} 篇来源文章的事实：政策文件、会议、机构、人物、区域、科创中心、言论及其原文证据。",
        f"Facts of {len(sources)} source article(s): policy documents, meetings, bodies, people, "
        "regions, innovation centres, statements, each with its verbatim evidence.",
    )
    t.add(release, URIRef(str(DCAT) + "version"), _lit(Literal(conf["version"])))
    t.add(release, OWL.versionInfo, _lit(Literal(conf["version"])))
    t.add(release, DCTERMS.conformsTo, _iri(model.ontology["iri"]))
    t.add(model.ontology["iri"], RDF.type, _iri(DCTERMS.Standard))
    _keywords_and_coverage(t, release, None, data, min(data.dates, default=None), max(data.dates, default=None))
    for source_id, agents in sources:
        ds, _period, article = ctx.owned(source_id)
        t.add(catalog, DCAT.dataset, _iri(ds))
        t.add(release, DCTERMS.hasPart, _iri(ds))
        t.add(release, PROV.wasDerivedFrom, _iri(article))
        for agent in agents:
            t.add(agent, RDF.type, _iri(FOAF.Agent))
            for lab in data.labels.get(agent, []):
                t.add(agent, FOAF.name, lab)
    for path in sorted(files):
        _distribution(t, ctx, path, files.sizes[path], files.sha256[path])
    return sorted(t.lines)


def _distribution(t: _Triples, ctx: Context, path: str, size: int, sha256: str) -> None:
    """The release file ``path`` as a distribution of the release, with its size and checksum."""
    suffix = PurePosixPath(path).suffix
    media, eu, _zh, _en = FILE_KINDS.get(suffix, ("application/octet-stream", "BIN", "", ""))
    dist = iris.distribution(ctx.base, path)
    url = ctx.conf["download-base"] + path
    zh, en = file_titles(ctx.model, path)
    t.add(ctx.release, DCAT.distribution, _iri(dist))
    t.add(dist, RDF.type, _iri(DCAT.Distribution))
    t.both(dist, DCTERMS.title, zh, en)
    t.both(dist, DCTERMS.description, f"{zh}：{path}", f"{en}: {path}")
    t.add(dist, DCAT.accessURL, _iri(url))
    t.add(dist, DCAT.downloadURL, _iri(url))
    t.add(dist, DCAT.mediaType, _iri(IANA + media))
    t.add(IANA + media, RDF.type, _iri(DCTERMS.MediaType))
    t.add(dist, DCTERMS.format, _iri(EU_FILE_TYPE + eu))
    t.add(EU_FILE_TYPE + eu, RDF.type, _iri(DCTERMS.MediaTypeOrExtent))
    t.add(dist, DCAT.byteSize, _lit(Literal(str(size), datatype=XSD.nonNegativeInteger)))
    checksum = dist + "/checksum"
    t.add(dist, SPDX.checksum, _iri(checksum))
    t.add(checksum, RDF.type, _iri(SPDX.Checksum))
    t.add(checksum, SPDX.algorithm, _iri(SPDX.checksumAlgorithm_sha256))
    t.add(str(SPDX.checksumAlgorithm_sha256), RDF.type, _iri(SPDX.ChecksumAlgorithm))
    t.add(checksum, SPDX.checksumValue, _lit(Literal(sha256, datatype=XSD.hexBinary)))
    t.add(dist, DCTERMS.license, _iri(ctx.licence))
    t.add(dist, DCATAP.availability, _iri(EU_AVAILABILITY))
    t.add(EU_AVAILABILITY, RDF.type, _iri(SKOS.Concept))
    t.add(EU_AVAILABILITY, SKOS.prefLabel, _lit(Literal("Stable", lang="en")))
    t.add(dist, DCTERMS.issued, ctx.issued)
    t.add(dist, DCTERMS.modified, ctx.modified)


# --------------------------------------------------------------------------------- writing


def _namespaces() -> Graph:
    g = Graph()
    for prefix, ns in CONTEXT.items():
        g.bind(prefix, ns, override=True, replace=True)
    return canonical_copy(g)


def ttl_blocks(
    writer: TurtleWriter, subjects: dict[str, list[tuple[str, Obj]]], refs: Callable[[str], int], owner: Any
) -> tuple[list[tuple[Any, int, bytes]], dict[str, frozenset[str]]]:
    """Turtle blocks keyed as rdflib orders them (``refs``: how often a subject is an object),
    and the prefixes each block uses."""
    used: dict[str, frozenset[str]] = {}
    out = []
    for s, items in subjects.items():
        if any(p == RDF_TYPE and o.iri == RDFS_CLASS for p, o in items):
            raise Unsupported("rdfs:Class in the catalog")
        writer.start()
        out.append(((refs(s), s), owner(s), writer.block(s, items).encode("utf-8")))
        used[s] = frozenset(writer.used)
    return out, used


def prefix_uses(used: Mapping[str, frozenset[str]]) -> Counter[str]:
    """How many blocks use each prefix (a prefix is declared while any block uses it)."""
    return Counter(p for prefixes in used.values() for p in prefixes)


def ttl_header(writer: TurtleWriter, used: Counter[str]) -> bytes:
    """The prefixes the blocks use (counted over every block, rendered in this build or not),
    as the graph binds them; rdflib generating or rewriting one is not reproducible here."""
    names = {p for p, n in used.items() if n > 0}
    writer.used = set()
    ok, _none = writer.prefixes()
    if not ok or not names <= set(writer.bound):
        raise Unsupported("a prefix rdflib would generate")
    return "".join(f"@prefix {p}: <{writer.bound[p]}> .\n" for p in sorted(names)).encode("utf-8")


#: the catalog's prefixes: its graph binds them, its JSON-LD context declares them (in this order)
CONTEXT = {
    prefix: str(ns)
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("spdx", SPDX),
        ("vcard", VCARD),
        ("prov", PROV),
        ("owl", OWL),
        ("xsd", XSD),
        ("dcatap", DCATAP),
        ("skos", SKOS),
    )
}


#: an IRI as the prefix-only context compacts it (the shortest prefixed name, as pyld picks it)
_compact = JsonLdWriter({"@context": CONTEXT}).compact_iri


def _value(o: Obj) -> Any:
    if o.iri is not None:
        return {"@id": _compact(o.iri)}
    if o.lang is not None:
        return {"@language": o.lang, "@value": o.lexical}
    if o.datatype is not None and o.datatype != XSD_STRING:
        return {"@type": _compact(o.datatype), "@value": o.lexical}
    return o.lexical


def jsonld_blocks(subjects: dict[str, list[tuple[str, Obj]]], owner: Any) -> list[tuple[Any, int, bytes]]:
    out = []
    for s, items in subjects.items():
        out.append((_compact(s) + "\x01" + s, owner(s), json_list_item(_node(s, items)).encode("utf-8")))
    return out


JSONLD_SPEC = json_list_spec({"@context": CONTEXT, "@graph": []}, "@graph")


def _node(s: str, items: list[tuple[str, Obj]]) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": _compact(s)}
    types = [_compact(o.iri) for p, o in items if p == RDF_TYPE and o.iri is not None]
    if any(p == RDF_TYPE and o.iri is None for p, o in items):
        raise Unsupported("a literal type")
    if types:
        node["@type"] = types[0] if len(types) == 1 else types
    grouped: dict[str, list[Any]] = {}
    for p, o in items:
        if p != RDF_TYPE:
            grouped.setdefault(p, []).append(_value(o))
    for p in sorted(grouped):
        key = _compact(p)
        if key == p:
            raise Unsupported(f"an uncompacted property {p}")
        values = grouped[p]
        node[key] = values[0] if len(values) == 1 else values
    return node


# ------------------------------------------------------------------------------ incremental


def refs_in(lines: Iterable[str]) -> Counter[str]:
    """How often each IRI is the object of ``lines`` (Turtle orders subjects by it)."""
    out: Counter[str] = Counter()
    for line in lines:
        obj = U.split_line(line)[2]
        if obj.startswith("<"):
            out[obj[1:-1]] += 1
    return out


class CatalogBuild:
    """The catalog's lines and blocks, kept apart by owner: each source's own subjects
    (:meth:`Context.owned`) and the rest (``GLOBAL``), which is made again on every build from
    the :class:`Index` and the sources' ids and rights holders.

    One algorithm for both builds (:meth:`update`): the full build is the change "every unit
    added" to an empty catalog; a rebuild starts from the previous build's :meth:`state` (the
    index, every source's id and holders, the Turtle reference counts and prefix uses of the
    sources' own blocks, their rdf:type lines, and what it knew of each global subject), and
    makes again only the parts of changed and affected sources and the global subjects whose
    lines changed (:attr:`changed_global`)."""

    def __init__(self, settings: Settings, model: Model, state: dict[str, Any] | None = None) -> None:
        self.ctx = Context(settings, model)
        self.model = model
        st = state or {}
        self.index: Index = st.get("index") or Index()
        self.sources: dict[int, tuple[str, list[str]]] = dict(st.get("sources", {}))
        self.owned_refs: Counter[str] = Counter(st.get("owned_refs", {}))
        self.owned_prefixes: Counter[str] = Counter(st.get("owned_prefixes", {}))
        self.owned_types: dict[int, list[str]] = dict(st.get("owned_types", {}))
        self.global_memo: dict[str, GlobalSubject] = dict(st.get("global", {}))
        self.global_refs: Counter[str] = Counter(st.get("global_refs", {}))
        self.owner_of: dict[str, int] = {}
        self.global_lines: list[str] = []
        #: the global subjects whose lines changed (all of them in a full build) -> their lines
        self.changed_global: dict[str, list[str]] = {}
        #: the rdf:type lines of the sources' parts made again, before the change, by source
        self.types_before: dict[int, list[str]] = {}
        # the sources' own lines made in this build (and before it, for those made again),
        # subject by subject: "<subject> " -> that subject's sorted lines as UTF-8, each ending
        # with a newline (see :meth:`ntriples`)
        self.owned: dict[str, bytes] = {}
        self.old_owned: dict[str, bytes] = {}
        self.writer = TurtleWriter(_namespaces())

    # ---------------------------------------------------------------- the parts
    def update(
        self,
        files: Any,
        added: list[tuple[int, U.Unit]],
        removed: Iterable[tuple[int, U.Unit]] = (),
        affected: Iterable[tuple[int, U.Unit]] = (),
    ) -> None:
        """The catalog after ``removed`` units went (a changed one: its old unit), ``added``
        came, and ``affected`` ones (whose entities link to a subject whose labels or kind
        changed) stayed: their own parts made again, the global part made anew.

        One source's lines at a time: parsed once, summed into the index, and only what its own
        lines are made from kept until the index is whole (every source's lines at once were
        the catalog's largest cost in memory at a million triples)."""
        ctx, remade = self.ctx, set()
        gone: list[Index] = []
        given: list[tuple[int, U.Unit, OwnedInput]] = []
        for uid, unit, goes in [*((u, x, True) for u, x in removed), *((u, x, False) for u, x in affected)]:
            subjects = subjects_of(unit_lines(unit))
            inp = OwnedInput(ctx, unit, subjects)
            self.old_owned.update(subject_blocks(owned_lines_of(ctx, unit, inp, self.index)))
            if goes:
                gone.append(Index.of(subjects, self.model))
                self.sources.pop(uid, None)
            else:
                given.append((uid, unit, inp))
            remade.add(uid)
        for part in gone:
            self.index.add(part, -1)
        for uid, u in added:
            if u.source is None:
                continue
            subjects = subjects_of(unit_lines(u))
            self.index.add(Index.of(subjects, self.model))
            inp = OwnedInput(ctx, u, subjects)
            self.sources[uid] = (u.source.id, [text[1:-1] for text in inp.article_holders])  # <iri>
            given.append((uid, u, inp))
            remade.add(uid)
            del subjects
        for i, (_uid, u, inp) in enumerate(given):
            for key, block in subject_blocks(owned_lines_of(ctx, u, inp, self.index)):
                if key in self.owned:
                    raise Unsupported("a subject described by two sources' catalog parts")
                self.owned[key] = block
            given[i] = None  # type: ignore[call-overload]  # what it was made from goes as it is used
        del given
        self.global_lines = global_lines(ctx, list(self.sources.values()), self.index, files)
        for uid, (source_id, _h) in self.sources.items():
            for s in ctx.owned(source_id):
                self.owner_of[s] = uid
        self._sums(remade)

    def _sums(self, remade: set[int]) -> None:
        """The reference counts, the global subjects' memo and the rdf:type lines of the owned
        parts, less what the parts made again held before, plus what they hold now."""
        groups = group_lines(self.global_lines)
        for s in set(self.global_memo) - set(groups):
            bump(self.global_refs, self.global_memo.pop(s).refs, -1)
            self.changed_global[s] = []
        for s, lines in groups.items():
            g = GlobalSubject.of(lines)
            old = self.global_memo.get(s)
            if old is None or old.digest != g.digest:
                if old is not None:
                    bump(self.global_refs, old.refs, -1)
                bump(self.global_refs, g.refs, 1)
                self.global_memo[s] = g
                self.changed_global[s] = lines
        for uid in remade:
            self.types_before[uid] = self.owned_types.pop(uid, [])
        for blocks, sign in ((self.old_owned, -1), (self.owned, 1)):
            for key in sorted(blocks):
                if self.owner(key[1:-2]) == GLOBAL and sign > 0:
                    raise Unsupported("a subject described both by a source and by the catalog")
                lines = blocks[key].decode("utf-8").split("\n")[:-1]
                bump(self.owned_refs, refs_in(lines), sign)
                if sign > 0:
                    types = [ln for ln in lines if " <" + RDF_TYPE + "> " in ln]
                    self.owned_types.setdefault(self.owner(key[1:-2]), []).extend(types)

    def owner(self, subject: str) -> int:
        return self.owner_of.get(subject, GLOBAL)

    def refs(self, subject: str) -> int:
        """How often ``subject`` is an object in the catalog (Turtle orders subjects by it)."""
        return self.owned_refs.get(subject, 0) + self.global_refs.get(subject, 0)

    # ---------------------------------------------------------------- writing
    def ttl(self) -> tuple[Spec, list[Block]]:
        """catalog.ttl's header and the blocks made again (every block in a full build): the
        changed global subjects', then the sources' own subjects one at a time (in the order of
        the sorted lines: the parsed objects of the whole catalog are never alive at once)."""
        g_subjects = subjects_of([ln for lines in self.changed_global.values() for ln in lines])
        if any(self.owner(s) != GLOBAL for s in g_subjects):
            raise Unsupported("a subject described both by a source and by the catalog")
        ttl, g_used = ttl_blocks(self.writer, g_subjects, self.refs, self.owner)
        for s, used in g_used.items():
            self.global_memo[s].prefixes = used
        for blocks, sign in ((self.old_owned, -1), (self.owned, 1)):
            o_used: dict[str, frozenset[str]] = {}
            for key in sorted(blocks):
                o_ttl, used = ttl_blocks(self.writer, _parsed(blocks[key]), self.refs, self.owner)
                if sign > 0:
                    ttl.extend(o_ttl)
                o_used.update(used)
            bump(self.owned_prefixes, prefix_uses(o_used), sign)
        self.old_owned = {}
        ttl.sort(key=lambda b: b[0])
        global_prefixes = prefix_uses({s: g.prefixes for s, g in self.global_memo.items()})
        return Spec(header=ttl_header(self.writer, self.owned_prefixes + global_prefixes), footer=b"\n"), ttl

    def jsonld(self) -> list[Block]:
        """catalog.jsonld's blocks made again (after :meth:`ttl`: one rendering at a time, each
        is ~50 MB at a million triples)."""
        blocks = jsonld_blocks(subjects_of([ln for ls in self.changed_global.values() for ln in ls]), self.owner)
        for key in sorted(self.owned):
            blocks.extend(jsonld_blocks(_parsed(self.owned[key]), self.owner))
        blocks.sort(key=lambda b: b[0])
        return blocks

    def write(self, files: Any) -> None:
        """catalog.ttl and catalog.jsonld, whole (the full build)."""
        files.write_blocks("catalog.ttl", *self.ttl())
        files.write_blocks("catalog.jsonld", JSONLD_SPEC, self.jsonld())

    def ntriples(self, out: BinaryIO) -> None:
        """Every line of the catalog, sorted, as N-Triples in UTF-8 (the DCAT-AP check's input),
        written to ``out`` after :meth:`write` (a file: the engine reads it, ~80 MB at 1M never
        held here); the sources' own lines are let go as they are copied out.

        Why by subject: the sorted lines of the catalog are its subjects' blocks in the order of
        their ``"<subject> "`` (no IRI holds ``>``, so no such key is a prefix of another), each
        block sorted. Kept so, the sources' ~490,000 lines at a million triples are ~45,000 byte
        strings of UTF-8 (one byte an ASCII character), not a Python str a line (two bytes a
        character once a line holds a Chinese label, and 50-70 bytes of header)."""
        blocks = dict(subject_blocks(self.global_lines))
        owned, self.owned = self.owned, {}
        if owned.keys() & blocks.keys():
            raise Unsupported("a subject described both by a source and by the catalog")
        for key in sorted(blocks.keys() | owned.keys()):
            out.write(owned.pop(key) if key in owned else blocks[key])

    def state(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "sources": self.sources,
            "owned_refs": self.owned_refs,
            "owned_prefixes": self.owned_prefixes,
            "owned_types": self.owned_types,
            "global": self.global_memo,
            "global_refs": self.global_refs,
        }


def _parsed(block: bytes) -> Subjects:
    """One subject's block of lines (see :func:`subject_blocks`), parsed."""
    return subjects_of(block.decode("utf-8").split("\n")[:-1])


def subject_blocks(lines: list[str]) -> Iterator[tuple[str, bytes]]:
    """Sorted lines by subject: ``"<subject> "`` and that subject's lines as UTF-8, each ending
    with a newline (a subject's lines are consecutive in sorted lines)."""
    for key, group in groupby(lines, key=lambda line: line[: line.index("> ") + 2]):
        yield key, "".join(line + "\n" for line in group).encode("utf-8")


def group_lines(lines: list[str]) -> dict[str, list[str]]:
    """Sorted lines by subject (a subject's lines are consecutive)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        out.setdefault(line[1 : line.index("> ")], []).append(line)
    return out


class GlobalSubject:
    """What the next build needs to know of a subject no source owns, to tell whether its
    block, its DCAT-AP results and its share of the reference counts can be kept."""

    __slots__ = ("digest", "prefixes", "refs", "types")

    def __init__(self, digest: bytes, refs: Counter[str], types: tuple[str, ...]) -> None:
        self.digest = digest
        self.refs = refs
        self.types = types
        self.prefixes: frozenset[str] = frozenset()

    @classmethod
    def of(cls, lines: list[str]) -> GlobalSubject:
        digest = hashlib.sha1("\n".join(lines).encode("utf-8")).digest()
        types = tuple(ln for ln in lines if " <" + RDF_TYPE + "> " in ln)
        return cls(digest, refs_in(lines), types)
