"""The release's DCAT-AP catalog from the units, without an rdflib graph of the data.

:func:`toolkit.publish.catalog.catalog_graph` reads the data graph for each source's keywords,
places and dates; here the same triples are made from the lines the units keep for it (types,
labels, links, dates), then written by :mod:`toolkit.scale.render`'s Turtle writer and a JSON-LD
writer for the catalog's prefix-only context, exactly as ``catalog_files`` writes them (tests
compare the bytes). The distributions describe the files already written, by size and SHA-256.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, XSD
from rdflib.plugins.serializers.nt import _quoteLiteral

from toolkit.config import Settings
from toolkit.export.canonical import canonical_copy
from toolkit.publish import catalog as C
from toolkit.scale import units as U
from toolkit.scale.render import Obj, TurtleWriter, Unsupported, subjects_of
from toolkit.schema.model import Model

DATE_TYPES = {str(XSD.date), str(XSD.gYearMonth), str(XSD.gYear)}


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
    return _lit(C._date(text))


def _common(t: _Triples, ds: str, publisher: str, contact: str, licence: str, issued: str, modified: str) -> None:
    t.add(ds, RDF.type, _iri(DCAT.Dataset))
    t.add(ds, DCTERMS.publisher, _iri(publisher))
    t.add(ds, DCAT.contactPoint, _iri(contact))
    t.add(ds, DCTERMS.license, _iri(licence))
    t.add(ds, DCTERMS.issued, issued)
    t.add(ds, DCTERMS.modified, modified)
    for lang in ("ZHO", "ENG"):
        t.add(ds, DCTERMS.language, _iri(C.EU_LANGUAGE + lang))
    for theme in C.THEMES:
        t.add(ds, DCAT.theme, _iri(f"{C.EU_THEME}/{theme}"))


class _Data:
    """What the catalog reads of the data, gathered in one pass over the units' catalog lines:
    technology fields and regions, every label (as written), and the range of the dates."""

    def __init__(self, units: list[U.Unit], model: Model) -> None:
        self.pt = model.ns
        self.not_before = model.properties["publishedNotBefore"].iri
        tf, region = self.pt + "TechnologyField", self.pt + "Region"
        self.fields: set[str] = set()
        self.regions: set[str] = set()
        self.labels: dict[str, list[str]] = {}
        self.first_date: str | None = None
        self.last_date: str | None = None
        for unit in units:
            for s, items in subjects_of(unit_lines(unit)).items():
                for p, o in items:
                    if p == RDF_TYPE:
                        if o.iri == tf:
                            self.fields.add(s)
                        elif o.iri == region:
                            self.regions.add(s)
                    elif p == RDFS_LABEL:
                        self.labels.setdefault(s, []).append(o.text)
                    elif o.datatype in DATE_TYPES and p != self.not_before:
                        if self.first_date is None or o.lexical < self.first_date:
                            self.first_date = o.lexical
                        if self.last_date is None or o.lexical > self.last_date:
                            self.last_date = o.lexical
        for labels in self.labels.values():
            labels.sort()


RDF_TYPE = str(RDF.type)
RDFS_LABEL = str(RDFS.label)


def unit_lines(unit: U.Unit) -> list[str]:
    return U.load_part(unit, "catalog")["catalog_lines"] if unit.nt is not None else []


def _keywords_and_coverage(
    t: _Triples, ds: str, subjects: set[str] | None, data: _Data, first: str | None, last: str | None
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


def catalog_lines(settings: Settings, units: list[U.Unit], model: Model, files: Any) -> list[str]:
    """The sorted N-Triples lines of :func:`toolkit.publish.catalog.catalog_graph`."""
    conf = C.catalog_conf(settings)
    base = settings.base_iri
    data = _Data(units, model)
    t = _Triples()
    catalog, release = base + "catalog", base + "dataset/release"
    publisher, contact = base + "agent/publisher", base + "agent/contact-point"
    licence = conf["license"]
    issued, modified = _date_lit(conf["issued"]), _date_lit(conf["modified"])
    t.add(publisher, RDF.type, _iri(FOAF.Agent))
    t.both(publisher, FOAF.name, conf["publisher-zh"], conf["publisher-en"])
    t.add(contact, RDF.type, _iri(C.VCARD.Kind))
    t.add(contact, RDF.type, _iri(C.VCARD.Organization))
    t.add(contact, C.VCARD.fn, _lit(Literal(conf["publisher-en"])))
    t.add(contact, C.VCARD.hasEmail, _iri("mailto:" + conf["contact-email"]))
    t.add(licence, RDF.type, _iri(DCTERMS.LicenseDocument))
    for lang in ("ZHO", "ENG"):
        t.add(C.EU_LANGUAGE + lang, RDF.type, _iri(DCTERMS.LinguisticSystem))
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
    t.add(catalog, DCAT.themeTaxonomy, _iri(C.EU_THEME))
    t.add(C.EU_THEME, RDF.type, _iri(C.SKOS.ConceptScheme))
    t.add(C.EU_THEME, DCTERMS.title, _lit(Literal("Data theme", lang="en")))
    for theme, label in C.THEMES.items():
        t.add(f"{C.EU_THEME}/{theme}", RDF.type, _iri(C.SKOS.Concept))
        t.add(f"{C.EU_THEME}/{theme}", C.SKOS.prefLabel, _lit(Literal(label, lang="en")))
        t.add(f"{C.EU_THEME}/{theme}", C.SKOS.inScheme, _iri(C.EU_THEME))
    _common(t, release, publisher, contact, licence, issued, modified)
    sources = [u for u in units if u.source is not None]
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
    _keywords_and_coverage(t, release, None, data, data.first_date, data.last_date)
    for unit in sources:
        subjects = subjects_of(unit_lines(unit))
        src = unit.source
        assert src is not None
        ds, article = base + "dataset/" + src.id, base + "source/" + src.id
        t.add(catalog, DCAT.dataset, _iri(ds))
        _common(t, ds, publisher, contact, licence, issued, modified)
        zh, en = src.label_zh or src.id, src.label_en or src.id
        entities = [e for e in unit.entities]
        quotes = sum(e.evidence for e in entities)
        t.both(ds, DCTERMS.title, f"事实：{zh}", f"Facts: {en}")
        t.both(
            ds,
            DCTERMS.description,
            f"整理自《{zh}》的 {len(entities)} 项事实（{quotes} 条原文证据）。",
            f"{len(entities)} facts curated from '{en}', with {quotes} verbatim quotes.",
        )
        t.add(ds, DCTERMS.isPartOf, _iri(release))
        t.add(release, DCTERMS.hasPart, _iri(ds))
        t.add(ds, PROV.wasDerivedFrom, _iri(article))
        t.add(release, PROV.wasDerivedFrom, _iri(article))
        t.add(article, RDF.type, _iri(PROV.Entity))
        art = subjects.get(article, [])
        for p, o in art:
            if p == data.pt + "rightsHolder" and o.iri is not None:
                t.add(article, DCTERMS.rightsHolder, o.text)
                t.add(o.iri, RDF.type, _iri(FOAF.Agent))
                for lab in data.labels.get(o.iri, []):
                    t.add(o.iri, FOAF.name, lab)
        for lab in data.labels.get(article, []):
            t.add(article, DCTERMS.title, lab)
        for p, o in art:
            if p == data.pt + "datePublished":
                t.add(article, DCTERMS.issued, o.text)
        # the source's own sub-graph: its entities' triples and the types/labels of what they link to
        sub: set[str] = set()
        dates: list[str] = []
        for eid in {base + e.id for e in entities}:
            sub.add(eid)
            for p, o in subjects.get(eid, []):
                if o.iri is not None:
                    sub.add(o.iri)
                if o.datatype in DATE_TYPES and p != data.not_before:
                    dates.append(o.lexical)
        _keywords_and_coverage(t, ds, sub, data, min(dates, default=None), max(dates, default=None))
    for path in sorted(files):
        _distribution(
            t, release, path, files.sizes[path], files.sha256[path], model, conf, licence, issued, modified, base
        )
    return sorted(t.lines)


def _distribution(
    t: _Triples,
    release: str,
    path: str,
    size: int,
    sha256: str,
    model: Model,
    conf: dict[str, Any],
    licence: str,
    issued: str,
    modified: str,
    base: str,
) -> None:
    suffix = PurePosixPath(path).suffix
    media, eu, _zh, _en = C.FILE_KINDS.get(suffix, ("application/octet-stream", "BIN", "", ""))
    dist = base + "distribution/" + path.replace("/", "-")
    url = conf["download-base"] + path
    zh, en = C.file_titles(model, path)
    t.add(release, DCAT.distribution, _iri(dist))
    t.add(dist, RDF.type, _iri(DCAT.Distribution))
    t.both(dist, DCTERMS.title, zh, en)
    t.both(dist, DCTERMS.description, f"{zh}：{path}", f"{en}: {path}")
    t.add(dist, DCAT.accessURL, _iri(url))
    t.add(dist, DCAT.downloadURL, _iri(url))
    t.add(dist, DCAT.mediaType, _iri(C.IANA + media))
    t.add(C.IANA + media, RDF.type, _iri(DCTERMS.MediaType))
    t.add(dist, DCTERMS.format, _iri(C.EU_FILE_TYPE + eu))
    t.add(C.EU_FILE_TYPE + eu, RDF.type, _iri(DCTERMS.MediaTypeOrExtent))
    t.add(dist, DCAT.byteSize, _lit(Literal(str(size), datatype=XSD.nonNegativeInteger)))
    checksum = dist + "/checksum"
    t.add(dist, C.SPDX.checksum, _iri(checksum))
    t.add(checksum, RDF.type, _iri(C.SPDX.Checksum))
    t.add(checksum, C.SPDX.algorithm, _iri(C.SPDX.checksumAlgorithm_sha256))
    t.add(str(C.SPDX.checksumAlgorithm_sha256), RDF.type, _iri(C.SPDX.ChecksumAlgorithm))
    t.add(checksum, C.SPDX.checksumValue, _lit(Literal(sha256, datatype=XSD.hexBinary)))
    t.add(dist, DCTERMS.license, _iri(licence))
    t.add(dist, C.DCATAP.availability, _iri(C.EU_AVAILABILITY))
    t.add(C.EU_AVAILABILITY, RDF.type, _iri(C.SKOS.Concept))
    t.add(C.EU_AVAILABILITY, C.SKOS.prefLabel, _lit(Literal("Stable", lang="en")))
    t.add(dist, DCTERMS.issued, issued)
    t.add(dist, DCTERMS.modified, modified)


# --------------------------------------------------------------------------------- writing


def _namespaces() -> Graph:
    g = Graph()
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("spdx", C.SPDX),
        ("vcard", C.VCARD),
        ("dcatap", C.DCATAP),
        ("skos", C.SKOS),
    ):
        g.bind(prefix, ns, override=True, replace=True)
    g.bind("prov", PROV, override=True, replace=True)
    return canonical_copy(g)


def turtle(lines: list[str]) -> Iterator[str]:
    """``canonical_copy(catalog).serialize(format="turtle")``, from sorted lines."""
    writer = TurtleWriter(_namespaces())
    writer.start()
    subjects = subjects_of(lines)
    refs: Counter[str] = Counter(o.iri for items in subjects.values() for _p, o in items if o.iri is not None)
    if any(o.iri == str(RDFS.Class) for items in subjects.values() for p, o in items if p == str(RDF.type)):
        raise Unsupported("rdfs:Class in the catalog")
    blocks = sorted(((refs.get(s, 0), s, writer.block(s, items)) for s, items in subjects.items()))
    ok, prefixes = writer.prefixes()
    if not ok:
        raise Unsupported("a prefix rdflib would generate")
    for p, ns in sorted(prefixes.items()):
        yield f"@prefix {p}: <{ns}> .\n"
    for _n, _s, text in blocks:
        yield text
    yield "\n"


CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "spdx": str(C.SPDX),
    "vcard": str(C.VCARD),
    "prov": str(PROV),
    "owl": str(OWL),
    "xsd": str(XSD),
    "dcatap": str(C.DCATAP),
    "skos": str(C.SKOS),
}


def _compact(iri: str) -> str:
    best = None
    for p, ns in CONTEXT.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            cand = f"{p}:{iri[len(ns) :]}"
            if best is None or len(cand) < len(best) or (len(cand) == len(best) and cand < best):
                best = cand
    return best or iri


def _value(o: Obj) -> Any:
    if o.iri is not None:
        return {"@id": _compact(o.iri)}
    if o.lang is not None:
        return {"@language": o.lang, "@value": o.lexical}
    if o.datatype is not None and o.datatype != str(XSD.string):
        return {"@type": _compact(o.datatype), "@value": o.lexical}
    return o.lexical


def jsonld(lines: list[str]) -> Iterator[str]:
    """``catalog_files``' JSON-LD (pyld compaction with the prefix-only context), from sorted lines."""
    subjects = subjects_of(lines)
    order = sorted((_compact(s), s) for s in subjects)
    head = json.dumps({"@context": CONTEXT, "@graph": [0]}, ensure_ascii=False, indent=2)
    before, after = head.rsplit("\n    0\n", 1)
    if not order:
        yield json.dumps({"@context": CONTEXT, "@graph": []}, ensure_ascii=False, indent=2) + "\n"
        return
    yield before + "\n"
    for k, (_id, s) in enumerate(order):
        text = json.dumps(_node(s, subjects[s]), ensure_ascii=False, indent=2)
        yield "\n".join("    " + ln for ln in text.split("\n")) + (",\n" if k + 1 < len(order) else "\n")
    yield after + "\n"


def _node(s: str, items: list[tuple[str, Obj]]) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": _compact(s)}
    types = [_compact(o.iri) for p, o in items if p == str(RDF.type) and o.iri is not None]
    if any(p == str(RDF.type) and o.iri is None for p, o in items):
        raise Unsupported("a literal type")
    if types:
        node["@type"] = types[0] if len(types) == 1 else types
    grouped: dict[str, list[Any]] = {}
    for p, o in items:
        if p != str(RDF.type):
            grouped.setdefault(p, []).append(_value(o))
    for p in sorted(grouped):
        key = _compact(p)
        if key == p:
            raise Unsupported(f"an uncompacted property {p}")
        values = grouped[p]
        node[key] = values[0] if len(values) == 1 else values
    return node
