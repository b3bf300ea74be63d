"""The oracle's DCAT-AP catalog: catalog.ttl and catalog.jsonld from an rdflib graph of the
whole release (the reference that :mod:`toolkit.publish.catalog` must equal byte for byte).

A ``dcat:Catalog`` holds one ``dcat:Dataset`` for the release and one per source, and a
``dcat:Distribution`` for every published file, with IANA media types, EU file types,
byte sizes and SHA-256 checksums of the very bytes in the release.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from pyld import jsonld
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, XSD

from oracle.graph import build_graph
from toolkit.export.canonical import canonical_copy, sorted_ntriples
from toolkit.graph import iris
from toolkit.publish.catalog import (
    DCATAP,
    EU_AVAILABILITY,
    EU_FILE_TYPE,
    EU_LANGUAGE,
    EU_THEME,
    FILE_KINDS,
    IANA,
    SKOS,
    SPDX,
    THEMES,
    VCARD,
    catalog_conf,
    date_literal,
    file_titles,
)
from toolkit.schema.model import Model
from toolkit.sources.loader import Corpus

if TYPE_CHECKING:
    from oracle import ReleaseInputs


def _both(g: Graph, s: URIRef, p: URIRef, zh: str, en: str) -> None:
    g.add((s, p, Literal(zh, lang="zh")))
    g.add((s, p, Literal(en, lang="en")))


def catalog_graph(inputs: ReleaseInputs) -> Graph:
    settings, outcome = inputs.settings, inputs.outcome
    model, corpus, data = outcome.model, outcome.corpus, outcome.graph
    assert corpus is not None and data is not None
    conf = catalog_conf(settings)
    base = settings.base_iri
    pt = Namespace(model.ns)
    g = Graph()
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("spdx", SPDX),
        ("vcard", VCARD),
        ("dcatap", DCATAP),
        ("skos", SKOS),
    ):
        g.bind(prefix, ns, override=True, replace=True)
    g.bind("prov", PROV, override=True, replace=True)
    catalog = URIRef(iris.catalog(base))
    release = URIRef(iris.dataset(base, "release"))
    publisher = URIRef(iris.agent(base, "publisher"))
    contact = URIRef(iris.agent(base, "contact-point"))
    licence = URIRef(conf["license"])
    issued, modified = date_literal(conf["issued"]), date_literal(conf["modified"])

    g.add((publisher, RDF.type, FOAF.Agent))
    _both(g, publisher, FOAF.name, conf["publisher-zh"], conf["publisher-en"])
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal(conf["publisher-en"])))
    g.add((contact, VCARD.hasEmail, URIRef("mailto:" + conf["contact-email"])))
    g.add((licence, RDF.type, DCTERMS.LicenseDocument))
    for lang in ("ZHO", "ENG"):
        g.add((URIRef(EU_LANGUAGE + lang), RDF.type, DCTERMS.LinguisticSystem))

    g.add((catalog, RDF.type, DCAT.Catalog))
    _both(g, catalog, DCTERMS.title, "政策新闻事实数据目录", "Policy news facts catalogue")
    _both(
        g,
        catalog,
        DCTERMS.description,
        "由政策新闻整理、逐条附原文证据并经验证的关联开放数据。",
        "Linked open data curated from policy news, every fact tied to a verbatim quote and validated.",
    )
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, DCTERMS.license, licence))
    g.add((catalog, DCTERMS.issued, issued))
    g.add((catalog, DCTERMS.modified, modified))
    g.add((catalog, FOAF.homepage, URIRef(conf["homepage"])))
    g.add((URIRef(conf["homepage"]), RDF.type, FOAF.Document))
    g.add((catalog, DCAT.dataset, release))
    g.add((catalog, DCAT.themeTaxonomy, URIRef(EU_THEME)))
    g.add((URIRef(EU_THEME), RDF.type, SKOS.ConceptScheme))
    g.add((URIRef(EU_THEME), DCTERMS.title, Literal("Data theme", lang="en")))
    for theme, label in THEMES.items():
        g.add((URIRef(f"{EU_THEME}/{theme}"), RDF.type, SKOS.Concept))
        g.add((URIRef(f"{EU_THEME}/{theme}"), SKOS.prefLabel, Literal(label, lang="en")))
        g.add((URIRef(f"{EU_THEME}/{theme}"), SKOS.inScheme, URIRef(EU_THEME)))

    _dataset_common(g, release, publisher, contact, licence, issued, modified)
    _both(
        g,
        release,
        DCTERMS.title,
        f"政策新闻事实数据集 {conf['version']}",
        f"Policy news facts dataset {conf['version']}",
    )
    _both(
        g,
        release,
        DCTERMS.description,
        f"{len(corpus.sources)} 篇来源文章的事实：政策文件、会议、机构、人物、区域、科创中心、言论及其原文证据。",
        f"Facts of {len(corpus.sources)} source article(s): policy documents, meetings, bodies, people, "
        "regions, innovation centres, statements, each with its verbatim evidence.",
    )
    g.add((release, URIRef(str(DCAT) + "version"), Literal(conf["version"])))
    g.add((release, OWL.versionInfo, Literal(conf["version"])))
    g.add((release, DCTERMS.conformsTo, URIRef(model.ontology["iri"])))
    g.add((URIRef(model.ontology["iri"]), RDF.type, DCTERMS.Standard))
    _keywords_and_coverage(g, release, data, model, pt, base)

    for src in corpus.sources:
        ds = URIRef(iris.dataset(base, src.id))
        article = URIRef(iris.source(base, src.id))
        g.add((catalog, DCAT.dataset, ds))
        _dataset_common(g, ds, publisher, contact, licence, issued, modified)
        zh = src.article.label("zh") or src.id
        en = src.article.label("en") or src.id
        _both(g, ds, DCTERMS.title, f"事实：{zh}", f"Facts: {en}")
        # a facts file's entries: a claim shares its `subject:` entry's evidence and is not one
        entries = [e for e in src.entities if "Claim" not in e.types]
        quotes = sum(len(e.evidence) for e in entries)
        _both(
            g,
            ds,
            DCTERMS.description,
            f"整理自《{zh}》的 {len(entries)} 项事实（{quotes} 条原文证据）。",
            f"{len(entries)} facts curated from '{en}', with {quotes} verbatim quotes.",
        )
        g.add((ds, DCTERMS.isPartOf, release))
        g.add((release, DCTERMS.hasPart, ds))
        # DCAT-AP reserves dct:source on a dataset for another dcat:Dataset; an article is prov:wasDerivedFrom.
        g.add((ds, PROV.wasDerivedFrom, article))
        g.add((release, PROV.wasDerivedFrom, article))
        g.add((article, RDF.type, PROV.Entity))
        for holder in data.objects(article, pt.rightsHolder):
            g.add((article, DCTERMS.rightsHolder, holder))
            g.add((holder, RDF.type, FOAF.Agent))
            for lab in data.objects(holder, RDFS.label):
                g.add((holder, FOAF.name, lab))
        for lab in data.objects(article, RDFS.label):
            g.add((article, DCTERMS.title, lab))
        for d in data.objects(article, pt.datePublished):
            g.add((article, DCTERMS.issued, d))
        # the article's metadata (terms chosen in toolkit.publish.catalog.ARTICLE_REFS and after)
        for name, term in (
            ("publisher", DCTERMS.publisher),
            ("platform", PROV.wasAttributedTo),
            ("author", DCTERMS.creator),
            ("editor", DCTERMS.contributor),
            ("retrievedOn", DCTERMS.date),
        ):
            for o in data.objects(article, pt[name]):
                g.add((article, term, o))
        for name, term in (("url", FOAF.page), ("originalUrl", PROV.wasDerivedFrom)):
            for o in data.objects(article, pt[name]):
                g.add((article, term, URIRef(str(o))))
        own = build_graph(Corpus(sources=[src], entities=corpus.entities), model, base)
        _keywords_and_coverage(g, ds, _source_graph(data, own, entries, base), model, pt, base)

    for path in sorted(inputs.files):
        _distribution(g, release, path, inputs.files[path], model, conf, licence, issued, modified, base)
    return g


def _source_graph(data: Graph, own: Graph, entities: list[Any], base: str) -> Graph:
    """What a source says of its entries (``own``: its graph alone, not what other sources say
    of a subject it shares), with the kinds and labels of what it links to (from ``data``)."""
    sub = Graph()
    for ent in entities:
        for t in own.triples((URIRef(base + ent.id), None, None)):
            sub.add(t)
    for _s, _p, o in list(sub):
        if isinstance(o, URIRef):
            for t in data.triples((o, RDF.type, None)):
                sub.add(t)
            for t in data.triples((o, RDFS.label, None)):
                sub.add(t)
    return sub


def _dataset_common(
    g: Graph, ds: URIRef, publisher: URIRef, contact: URIRef, licence: URIRef, issued: Literal, modified: Literal
) -> None:
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCTERMS.publisher, publisher))
    g.add((ds, DCAT.contactPoint, contact))
    g.add((ds, DCTERMS.license, licence))
    g.add((ds, DCTERMS.issued, issued))
    g.add((ds, DCTERMS.modified, modified))
    for lang in ("ZHO", "ENG"):
        g.add((ds, DCTERMS.language, URIRef(EU_LANGUAGE + lang)))
    for theme in THEMES:
        g.add((ds, DCAT.theme, URIRef(f"{EU_THEME}/{theme}")))


def _keywords_and_coverage(g: Graph, ds: URIRef, data: Graph, model: Model, pt: Namespace, base: str) -> None:
    """Keywords from technology fields, spatial coverage from regions, temporal from the dated facts."""
    for cls in ("TechnologyField", "Region"):
        for node in data.subjects(RDF.type, pt[cls]):
            for lab in data.objects(node, RDFS.label):
                g.add((ds, DCAT.keyword, lab))
            if cls == "Region":
                g.add((ds, DCTERMS.spatial, node))
                g.add((node, RDF.type, DCTERMS.Location))
    g.add((ds, DCAT.keyword, Literal("政策", lang="zh")))
    g.add((ds, DCAT.keyword, Literal("policy", lang="en")))
    dates = sorted(
        str(o)
        for _s, p, o in data
        if isinstance(o, Literal)
        and o.datatype in (XSD.date, XSD.gYearMonth, XSD.gYear)
        and str(p) not in (model.properties["publishedNotBefore"].iri, model.properties["claimValue"].iri)
    )
    if dates:
        period = URIRef(str(ds) + "/temporal")
        g.add((ds, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        g.add((period, DCAT.startDate, date_literal(dates[0])))
        g.add((period, DCAT.endDate, date_literal(dates[-1])))


def _distribution(
    g: Graph,
    release: URIRef,
    path: str,
    data: bytes,
    model: Model,
    conf: dict[str, Any],
    licence: URIRef,
    issued: Literal,
    modified: Literal,
    base: str,
) -> None:
    suffix = PurePosixPath(path).suffix
    media, eu, _zh, _en = FILE_KINDS.get(suffix, ("application/octet-stream", "BIN", "", ""))
    dist = URIRef(iris.distribution(base, path))
    url = URIRef(conf["download-base"] + path)
    zh, en = file_titles(model, path)
    g.add((release, DCAT.distribution, dist))
    g.add((dist, RDF.type, DCAT.Distribution))
    _both(g, dist, DCTERMS.title, zh, en)
    _both(g, dist, DCTERMS.description, f"{zh}：{path}", f"{en}: {path}")
    g.add((dist, DCAT.accessURL, url))
    g.add((dist, DCAT.downloadURL, url))
    g.add((dist, DCAT.mediaType, URIRef(IANA + media)))
    g.add((URIRef(IANA + media), RDF.type, DCTERMS.MediaType))
    g.add((dist, DCTERMS.format, URIRef(EU_FILE_TYPE + eu)))
    g.add((URIRef(EU_FILE_TYPE + eu), RDF.type, DCTERMS.MediaTypeOrExtent))
    g.add((dist, DCAT.byteSize, Literal(str(len(data)), datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(str(dist) + "/checksum")
    g.add((dist, SPDX.checksum, checksum))
    g.add((checksum, RDF.type, SPDX.Checksum))
    g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
    g.add((checksum, SPDX.checksumValue, Literal(hashlib.sha256(data).hexdigest(), datatype=XSD.hexBinary)))
    g.add((dist, DCTERMS.license, licence))
    g.add((dist, DCATAP.availability, URIRef(EU_AVAILABILITY)))
    g.add((URIRef(EU_AVAILABILITY), RDF.type, SKOS.Concept))
    g.add((URIRef(EU_AVAILABILITY), SKOS.prefLabel, Literal("Stable", lang="en")))
    g.add((dist, DCTERMS.issued, issued))
    g.add((dist, DCTERMS.modified, modified))


def catalog_files(inputs: ReleaseInputs) -> dict[str, bytes]:
    g = canonical_copy(catalog_graph(inputs))
    ttl = g.serialize(format="turtle", encoding="utf-8")
    nquads = "\n".join(sorted_ntriples(g)) + "\n"
    expanded = jsonld.from_rdf(nquads, {"format": "application/n-quads"})
    context = {
        "dcat": str(DCAT),
        "dct": str(DCTERMS),
        "foaf": str(FOAF),
        "spdx": str(SPDX),
        "vcard": str(VCARD),
        "prov": str(PROV),
        "owl": str(OWL),
        "xsd": str(XSD),
        "dcatap": str(DCATAP),
        "skos": str(SKOS),
    }
    doc = jsonld.compact(expanded, context, {"graph": True})
    doc["@graph"] = sorted(doc.get("@graph", []), key=lambda n: n["@id"])
    return {
        "catalog.ttl": ttl,
        "catalog.jsonld": (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    }
