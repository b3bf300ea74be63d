"""What the site is made from: a finished release folder, read as published, plus the schema.

Generic over the RDF: every IRI subject under the site root gets a page, whatever its class;
every property is shown with the labels the ontology (``schema/ontology.ttl``) gives it. Only
the evidence mechanism is named here (an evidence node has ``quote``, ``startOffset``,
``endOffset`` and ``inSource``; a source has ``archivedFile``), because highlighting a quote
in its archived text needs to know which numbers are offsets.

Nothing of the build is imported: the release's ``policy.nq`` (through the public
:func:`toolkit.query.load_store`), its ``catalog.ttl`` and ``manifest.json``, the archived
texts in the sources folder and the schema files are the whole input.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from toolkit.config import Settings
from toolkit.errors import LoadError
from toolkit.query import load_store, release_base_iri, release_prefixes

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
TYPE = RDF + "type"
LABEL_PROPS = (RDFS + "label", SKOS + "prefLabel", DCT + "title")
COMMENT_PROPS = (RDFS + "comment", SKOS + "definition", DCT + "description")
DATE_TYPES = frozenset({XSD + "date", XSD + "gYearMonth", XSD + "gYear", XSD + "dateTime"})
CLASS_TYPES = frozenset({OWL + "Class", RDFS + "Class"})
PROPERTY_TYPES = frozenset(
    {OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty", RDF + "Property"}
)
#: the ontology's own SKOS schemes and concepts (the inference methods) get a page too: they are
#: values in the release (``pt:inferenceMethod``), so their IRIs must lead somewhere
CONCEPT_TYPES = frozenset({SKOS + "Concept", SKOS + "ConceptScheme"})
CATALOG_FILE = "catalog.ttl"
RELEASE_FILE = "policy.nq"
MANIFEST_FILE = "manifest.json"
ONTOLOGY_FILE = "ontology.ttl"
SHAPES_FILE = "shapes.ttl"
#: the catalog's quads, as a graph of their own for :attr:`Release.graph_digests` (no IRI holds a NUL)
CATALOG_KEY = "\0catalog"

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class Paragraph:
    """A paragraph of an archived text: its character span in the file and its text."""

    start: int
    end: int
    text: str


class SourceText:
    """An archived article's text, split into paragraphs at blank lines (offsets kept).

    Read when a page first asks for it, not when the release is read: after one source changed,
    the pages made again name a few texts of thousands. What a page of it shows is a function of
    :attr:`signature` (the file's name, size, times and inode, and the checksum the release
    states), so the incremental site notes that instead of hashing every text again."""

    def __init__(self, path: Path, sha256: str | None, st: os.stat_result) -> None:
        self.path = path
        self.sha256 = sha256
        self.signature = (path.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, sha256 or "")
        self._read: tuple[str, list[Paragraph], bool | None] | None = None

    def load(self) -> tuple[str, list[Paragraph], bool | None]:
        """(text, paragraphs, checksum_ok), read once."""
        if self._read is None:
            data = self.path.read_bytes()
            ok = None if not self.sha256 else hashlib.sha256(data).hexdigest() == self.sha256
            text = data.decode("utf-8", "replace")
            self._read = (text, split_paragraphs(text), ok)
        return self._read

    @property
    def text(self) -> str:
        return self.load()[0]

    @property
    def paragraphs(self) -> list[Paragraph]:
        return self.load()[1]

    @property
    def checksum_ok(self) -> bool | None:  # None: the release states no checksum
        return self.load()[2]

    def paragraphs_for(self, start: int, end: int) -> list[Paragraph]:
        """The paragraphs that the span [start, end) touches."""
        return [p for p in self.paragraphs if p.start < max(end, start + 1) and p.end > start]


@dataclass
class Release:
    """The release's triples indexed for pages, plus the ontology, shapes, catalog and texts."""

    settings: Settings
    folder: Path
    base_iri: str
    prefixes: dict[str, str]
    ontology_ns: str
    #: subject -> predicate -> object -> sorted graph names stating it
    out: dict[str, dict[str, dict[Term, list[str]]]] = field(default_factory=dict)
    #: object IRI -> sorted (subject, predicate) pairs pointing at it
    incoming: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    ontology: ox.Store = field(default_factory=ox.Store)
    shapes: ox.Store = field(default_factory=ox.Store)
    #: the release in a store for the saved queries: loaded when first asked for (:meth:`query_store`)
    store: ox.Store | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, SourceText] = field(default_factory=dict)
    #: graph name -> a digest of its lines in ``policy.nq`` (the catalog: :data:`CATALOG_KEY`), and the
    #: IRIs its quads name; None when the file is not one quad a line (then every graph counts as changed)
    graph_digests: dict[str, str] | None = None
    graph_iris: dict[str, set[str]] | None = None

    def query_store(self) -> ox.Store:
        """The release in a store, loaded on first use: a site run whose saved queries were answered
        elsewhere (:mod:`toolkit.site.answers`) never holds the release twice."""
        if self.store is None:
            self.store = load_store(self.settings, self.folder)
        return self.store

    # ------------------------------------------------------------------ reading terms
    def values(self, subject: str, predicate: str) -> list[Term]:
        return sorted(self.out.get(subject, {}).get(predicate, {}), key=term_key)

    def first_literal(self, subject: str, predicate: str) -> str | None:
        for v in self.values(subject, predicate):
            if isinstance(v, ox.Literal):
                return v.value
        return None

    def triples(self, subject: str) -> list[ox.Triple]:
        """The subject's triples, sorted (for its data files). Made when asked, not for every subject
        up front: after a change only the pages made again need them."""
        return sorted(
            (
                ox.Triple(ox.NamedNode(subject), ox.NamedNode(p), o)
                for p, objs in self.out.get(subject, {}).items()
                for o in objs
            ),
            key=lambda t: (t.predicate.value, term_key(t.object)),
        )

    def types(self, subject: str) -> list[str]:
        return [v.value for v in self.values(subject, TYPE) if isinstance(v, ox.NamedNode)]

    def ont_values(self, subject: str, predicate: str) -> list[Term]:
        found = self.ontology.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None, None)
        return sorted({q.object for q in found}, key=term_key)

    def is_evidence(self, iri: str) -> bool:
        props = self.out.get(iri, {})
        return all(self.ontology_ns + p in props for p in ("quote", "startOffset", "endOffset", "inSource"))


def term_key(term: Term) -> tuple[int, str, str, str]:
    """A total, deterministic order of terms: IRIs, then blank nodes, then literals by text, language, type."""
    if isinstance(term, ox.NamedNode):
        return (0, term.value, "", "")
    if isinstance(term, ox.BlankNode):
        return (1, term.value, "", "")
    return (2, term.value, term.language or "", term.datatype.value if term.datatype else "")


def split_paragraphs(text: str) -> list[Paragraph]:
    """Paragraphs separated by blank lines, with their offsets in ``text`` (Python characters, as the release's)."""
    out: list[Paragraph] = []
    pos = 0
    for chunk in text.split("\n\n"):
        stripped_start = len(chunk) - len(chunk.lstrip())
        body = chunk.strip()
        if body:
            start = pos + stripped_start
            out.append(Paragraph(start=start, end=start + len(body), text=body))
        pos += len(chunk) + 2
    return out


def _load_turtle(path: Path) -> ox.Store:
    store = ox.Store()
    try:
        store.load(path=path, format=ox.RdfFormat.TURTLE)
    except (SyntaxError, OSError) as exc:
        raise LoadError(f"cannot read: {exc}", file=path) from None
    return store


def _ontology_ns(ontology: ox.Store, prefixes: dict[str, str]) -> str:
    """The ontology's namespace: its ``owl:Ontology`` IRI with ``#`` (or the release's ``pt:`` prefix)."""
    for q in ontology.quads_for_pattern(None, ox.NamedNode(TYPE), ox.NamedNode(OWL + "Ontology"), None):
        if isinstance(q.subject, ox.NamedNode):
            iri = q.subject.value
            return iri if iri.endswith(("#", "/")) else iri + "#"
    return prefixes.get("pt", "")


def read_release(settings: Settings, release_dir: Path | None = None) -> Release:
    """Read the release in ``release_dir`` (default: the project's) for the site."""
    folder = release_dir or settings.release_dir
    if not (folder / MANIFEST_FILE).is_file():
        raise LoadError("no release here (no manifest.json)", file=folder, hint="run `policy-toolkit build` first")
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot read: {exc}", file=folder / MANIFEST_FILE) from None
    prefixes = release_prefixes(settings, folder)
    ontology = _load_turtle(settings.schema_dir / ONTOLOGY_FILE)
    shapes_path = settings.schema_dir / SHAPES_FILE
    rel = Release(
        settings=settings,
        folder=folder,
        base_iri=release_base_iri(settings, folder),
        prefixes=prefixes,
        ontology_ns=_ontology_ns(ontology, prefixes),
        ontology=ontology,
        shapes=_load_turtle(shapes_path) if shapes_path.is_file() else ox.Store(),
        manifest=manifest,
    )
    # parsed from the file, not read back from the store: the store keeps values, not their
    # lexical forms and datatypes (a nonNegativeInteger comes back as an integer)
    dataset = folder / RELEASE_FILE
    lines: list[bytes] | None = None
    if dataset.is_file():
        raw = dataset.read_bytes()
        quads: list[Any] = list(ox.parse(raw, format=ox.RdfFormat.N_QUADS))
        lines = [line for line in raw.split(b"\n") if line.strip()]
        if len(lines) != len(quads):  # not one quad a line, as the release writes it: no digests
            lines = None
    else:
        quads = list(rel.query_store().quads_for_pattern(None, None, None, None))
    # plain dicts and local names: each attribute of a pyoxigraph term is a new object when read,
    # and this loop runs once per quad (a fifth of a site's time after one change, before)
    out: dict[str, dict[str, dict[Term, list[str]]]] = {}
    index = Index(out, rel.incoming, rel.base_iri + "graph/ontology")
    digests = index.quads(quads, lines)
    catalog = folder / CATALOG_FILE
    if catalog.is_file():
        try:
            catalog_triples = list(ox.parse(path=catalog, format=ox.RdfFormat.TURTLE))
        except (SyntaxError, OSError) as exc:
            raise LoadError(f"cannot read: {exc}", file=catalog) from None
        groups = index.triples(catalog_triples, rel.base_iri + "catalog")
        if digests is not None:
            if groups is None:  # blank nodes: the catalog counts as one graph
                groups = (
                    {CATALOG_KEY: hashlib.blake2b(catalog.read_bytes(), digest_size=16).hexdigest()},
                    {
                        CATALOG_KEY: {
                            t.value
                            for q in catalog_triples
                            for t in (q.subject, q.object)
                            if isinstance(t, ox.NamedNode)
                        }
                    },
                )
            digests[0].update(groups[0])
            digests[1].update(groups[1])
    if digests is not None:
        rel.graph_digests, rel.graph_iris = digests
    for ps in out.values():
        for objs in ps.values():
            for graphs in objs.values():
                if len(graphs) > 1:
                    graphs.sort()
    rel.out = out
    for s in sorted(rel.out):
        archived = rel.first_literal(s, rel.ontology_ns + "archivedFile")
        if archived:
            text = read_source_text(settings.sources_dir, s, archived, rel.first_literal(s, rel.ontology_ns + "sha256"))
            if text is not None:
                rel.texts[s] = text
    return rel


class Index:
    """The release's quads into :attr:`Release.out` and :attr:`Release.incoming`, with each graph's
    digest and the IRIs it names on the way (one pass over the quads: reading a pyoxigraph term's
    attribute makes a new object, so each is read once).

    Why digests: after one source changed, only the keys of IRIs named in a changed graph can have
    a new value, so the incremental site hashes those and takes the others' hashes as they were."""

    def __init__(
        self, out: dict[str, dict[str, dict[Term, list[str]]]], incoming: dict[str, set[tuple[str, str]]], skip: str
    ) -> None:
        self.out = out
        self.incoming = incoming
        self.skip = skip  # the ontology's graph: the ontology has pages of its own (schema/ontology.ttl)

    def add(self, s: str, p: str, o: Term, g: str) -> None:
        ps = self.out.get(s)
        if ps is None:
            ps = self.out[s] = {}
        objs = ps.get(p)
        if objs is None:
            objs = ps[p] = {}
        graphs = objs.get(o)
        if graphs is None:
            objs[o] = [g]
        elif g not in graphs:
            graphs.append(g)
        if type(o) is ox.NamedNode:
            pairs = self.incoming.get(o.value)
            if pairs is None:
                pairs = self.incoming[o.value] = set()
            pairs.add((s, p))

    def quads(
        self, quads: list[ox.Quad], lines: list[bytes] | None
    ) -> tuple[dict[str, str], dict[str, set[str]]] | None:
        """Index ``quads``; with their ``lines`` of ``policy.nq``, each graph's digest and named IRIs.
        (:meth:`add` written out here: this loop runs once per quad of the release.)"""
        hashers: dict[str, Any] = {}
        iris: dict[str, set[str]] = {}
        named = ox.NamedNode
        out, incoming, skip = self.out, self.incoming, self.skip
        for n, q in enumerate(quads):
            subject, graph_name, o = q.subject, q.graph_name, q.object
            g = graph_name.value if type(graph_name) is named else ""
            s = subject.value if type(subject) is named else None
            ov = o.value if type(o) is named else None
            if lines is not None:
                h = hashers.get(g)
                if h is None:
                    h = hashers[g] = hashlib.blake2b(digest_size=16)
                    iris[g] = set()
                h.update(lines[n])
                h.update(b"\n")
                if s is not None:
                    iris[g].add(s)
                if ov is not None:
                    iris[g].add(ov)
            if s is None or g == skip:
                continue
            p = q.predicate.value
            ps = out.get(s)
            if ps is None:
                ps = out[s] = {}
            objs = ps.get(p)
            if objs is None:
                objs = ps[p] = {}
            graphs = objs.get(o)
            if graphs is None:
                objs[o] = [g]
            elif g not in graphs:
                graphs.append(g)
            if ov is not None:
                pairs = incoming.get(ov)
                if pairs is None:
                    pairs = incoming[ov] = set()
                pairs.add((s, p))
        if lines is None:
            return None
        return {g: h.hexdigest() for g, h in hashers.items()}, iris

    def triples(self, triples: list[ox.Triple], graph: str) -> tuple[dict[str, str], dict[str, set[str]]] | None:
        """Index the catalog's ``triples`` as the quads of ``graph``; a digest and the named IRIs per
        subject (keyed :data:`CATALOG_KEY` + subject), or None when a blank node is among them.

        Why per subject: the catalog changes with every build (its checksums), and as one graph all
        its thousands of IRIs counted as changed; per subject, only the changed files' do."""
        parts: dict[str, list[str]] = {}
        iris: dict[str, set[str]] = {}
        named = ox.NamedNode
        plain = True
        for t in triples:
            subject, o = t.subject, t.object
            if type(subject) is not named:
                plain = False
                continue
            s, p = subject.value, t.predicate.value
            self.add(s, p, o, graph)
            if type(o) is ox.BlankNode:
                plain = False
            if not plain:
                continue
            found = parts.get(s)
            if found is None:
                found = parts[s] = []
                iris[s] = {s}
            found.append(p)
            found.append(str(o))  # N-Triples: a term's text, language and type
            if type(o) is named:
                iris[s].add(o.value)
        if not plain:
            return None
        key = CATALOG_KEY + "\t"
        digests = {
            key + s: hashlib.blake2b("\0".join(v).encode(), digest_size=16).hexdigest() for s, v in parts.items()
        }
        return digests, {key + s: named_ for s, named_ in iris.items()}


def read_source_text(sources_dir: Path, source_iri: str, archived: str, sha256: str | None) -> SourceText | None:
    """The archived text of a source (``<sources>/<source id>/<archivedFile>``), or None when it is not
    there (only its status is read here: :class:`SourceText` reads the file when asked)."""
    source_id = source_iri.rstrip("/").rsplit("/", 1)[-1]
    path = sources_dir / source_id / archived
    if "/" in archived:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return SourceText(path, sha256, st) if stat.S_ISREG(st.st_mode) else None
