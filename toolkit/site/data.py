"""What the site is made from: a finished release folder, read as published, plus the schema.

Generic over the RDF: every IRI subject under the site root gets a page, whatever its class;
every property is shown with the labels the ontology (``schema/ontology.ttl``) gives it. Only
the evidence mechanism is named here (an evidence node has ``quote``, ``startOffset``,
``endOffset`` and ``inSource``; a source has ``archivedFile``), because highlighting a quote
in its archived text needs to know which numbers are offsets.

Nothing of the build is imported: the release's ``policy.nq`` and ``catalog.ttl`` (kept in an
index beside the site, :mod:`toolkit.site.releaseindex`, brought up to date block by block and
read one subject at a time), its ``manifest.json``, the archived texts in the sources folder and
the schema files are the whole input. A whole site reads the index in one scan
(:meth:`Release.preload`); a site after a change reads only the subjects its pages ask for.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import operator
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from toolkit.config import Settings
from toolkit.errors import LoadError
from toolkit.query import load_store, release_base_iri, release_prefixes
from toolkit.site.releaseindex import IRI, ReleaseIndex, open_index, term_of

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


_MISSING = object()
#: rows read at once when a subject is first asked for (see :class:`Subjects`)
READ_AHEAD = 256


class LazyIndex:
    """A mapping read from the index one key at a time when first asked for, then kept (``complete``:
    every key is in the cache, after one scan). Subclasses say how one key is read (:meth:`read`)."""

    def __init__(self, index: ReleaseIndex) -> None:
        self.index = index
        self.cache: dict[str, Any] = {}
        self.complete = False

    def read(self, key: str) -> Any:
        """The value of ``key`` from the index (None: not there)."""
        raise NotImplementedError

    def get(self, key: str, default: Any = None) -> Any:
        found = self.cache.get(key, _MISSING)
        if found is _MISSING:
            found = None if self.complete else self.read(key)
            if not self.complete:
                self.cache[key] = found
        return default if found is None else found

    def __getitem__(self, key: str) -> Any:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


class Subjects(LazyIndex):
    """subject -> predicate -> object -> sorted graph names stating it: the release's quads as pages read
    them, made from the index (:class:`ReleaseIndex`) one subject at a time when first asked for, then
    kept. :meth:`preload` makes them all in one scan (a run that makes every page).

    Why a read ahead: the long lists (``browse/``, the saved queries' tables) go through the subjects
    in order; a miss reads the rows of the next subjects too (:data:`READ_AHEAD` rows, kept as rows and
    made into terms only when asked for), one query for dozens of subjects."""

    def __init__(self, index: ReleaseIndex) -> None:
        super().__init__(index)
        self.ahead: dict[str, list[tuple[Any, ...]]] = {}

    def read(self, key: str) -> dict[str, dict[Term, list[str]]] | None:
        return group(self._rows(key))

    def _rows(self, s: str) -> list[tuple[Any, ...]]:
        """(p, o, k, lang, dt, g) rows of ``s``, sorted: read ahead before, or now with the next subjects'."""
        rows = self.ahead.pop(s, None)
        if rows is not None:
            return rows
        found = self.index.subjects_from(s, READ_AHEAD)
        by_subject = itertools.groupby(found, operator.itemgetter(0))
        groups = [(subject, [r[1:] for r in part]) for subject, part in by_subject]
        if len(found) == READ_AHEAD:
            groups.pop()  # the last subject's rows may go on past the limit
        mine: list[tuple[Any, ...]] | None = None
        for subject, part in groups:
            part.sort()
            if subject == s:
                mine = part
            elif subject not in self.cache:
                self.ahead[subject] = part
        if mine is None and (not found or found[0][0] != s):
            return []  # no rows: the first subject read is after it
        return mine if mine is not None else self.index.subject(s)

    def __iter__(self) -> Iterator[str]:
        if self.complete:
            return iter(sorted(s for s, v in self.cache.items() if v is not None))
        return iter(self.index.subjects())

    def preload(self) -> None:
        cache: dict[str, dict[str, dict[Term, list[str]]] | None] = {}
        for s, rows in itertools.groupby(self.index.all_rows(), key=operator.itemgetter(0)):
            cache[s] = group([r[1:] for r in rows])
        self.cache, self.ahead, self.complete = cache, {}, True


class Incoming(LazyIndex):
    """object IRI -> the (subject, predicate) pairs pointing at it, from the index when first asked for."""

    def read(self, key: str) -> set[tuple[str, str]] | None:
        return set(self.index.incoming(key)) or None

    def preload(self) -> None:
        cache: dict[str, set[tuple[str, str]] | None] = {}
        for o, rows in itertools.groupby(self.index.all_incoming(), key=operator.itemgetter(0)):
            cache[o] = {(s, p) for _o, s, p in rows}
        self.cache, self.complete = cache, True


def group(rows: list[tuple[Any, ...]]) -> dict[str, dict[Term, list[str]]] | None:
    """A subject's rows (p, o, kind, lang, datatype, graph) as predicate -> term -> graph names (None: no rows)."""
    if not rows:
        return None
    out: dict[str, dict[Term, list[str]]] = {}
    made: dict[tuple[Any, ...], Term] = {}
    for p, o, k, lang, dt, g in rows:
        objs = out.get(p)
        if objs is None:
            objs = out[p] = {}
        key = (o, k, lang, dt)
        term = made.get(key)
        if term is None:
            term = made[key] = term_of(o, k, lang, dt)
        graphs = objs.get(term)
        if graphs is None:
            objs[term] = [g]
        elif g not in graphs:
            graphs.append(g)  # rows come sorted by graph: the list is sorted
    return out


@dataclass
class Release:
    """The release's triples indexed for pages, plus the ontology, shapes, catalog and texts."""

    settings: Settings
    folder: Path
    base_iri: str
    prefixes: dict[str, str]
    ontology_ns: str
    #: the release's quads and the catalog's triples, kept between runs (:mod:`toolkit.site.releaseindex`)
    index: ReleaseIndex
    #: subject -> predicate -> object -> sorted graph names stating it (read from the index when asked)
    out: Any = None
    #: object IRI -> (subject, predicate) pairs pointing at it (read from the index when asked)
    incoming: Any = None
    ontology: ox.Store = field(default_factory=ox.Store)
    shapes: ox.Store = field(default_factory=ox.Store)
    #: the release in a store for the saved queries: loaded when first asked for (:meth:`query_store`)
    store: ox.Store | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, SourceText] = field(default_factory=dict)
    #: source IRI -> its ``archivedFile`` (whether or not the file is there): the IRIs that may have a text
    archived: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.out is None:
            self.out = Subjects(self.index)
        if self.incoming is None:
            self.incoming = Incoming(self.index)

    def preload(self) -> None:
        """Every subject and incoming link read in one scan each (a run that makes every page)."""
        for lazy in (self.out, self.incoming):
            getattr(lazy, "data", lazy).preload()

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

    def with_predicate(self, predicate: str) -> list[tuple[str, Term]]:
        """(subject, object) of every statement with ``predicate``, by subject then term, from the index
        (not noted as a page's read: for the pages that are made on every run)."""
        return [(s, term_of(o, k, lang, dt)) for s, o, k, lang, dt in self.index.with_predicate(predicate)]

    def types_of_all(self) -> dict[str, list[str]]:
        """subject -> its classes, for every subject, in one query of the index: the long lists
        (``browse/``) are cut into parts each run, which must not read every subject's quads."""
        found: dict[str, list[str]] = {}
        for s, o, kind, _lang, _dt in self.index.with_predicate(TYPE):
            if kind == IRI:
                found.setdefault(s, []).append(o)
        return found

    def dates_of_all(self) -> dict[str, list[tuple[str, str]]]:
        """subject -> (date, property) of its dated values, for every subject, in one query (the
        timeline's rows, each run, as :meth:`types_of_all`)."""
        found: dict[str, list[tuple[str, str]]] = {}
        for s, p, value, _dt in self.index.with_datatype(DATE_TYPES):
            found.setdefault(s, []).append((value, p))
        return found

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


def read_release(settings: Settings, release_dir: Path | None = None, index_path: Path | None = None) -> Release:
    """Read the release in ``release_dir`` (default: the project's) for the site, through the index kept
    at ``index_path`` (None: one in memory, every page read from it at once)."""
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
    base_iri = release_base_iri(settings, folder)
    index = open_index(index_path)
    dataset, catalog = folder / RELEASE_FILE, folder / CATALOG_FILE
    try:
        # parsed from the file, not read back from a store: a store keeps values, not their
        # lexical forms and datatypes (a nonNegativeInteger comes back as an integer)
        index.sync(
            dataset if dataset.is_file() else None,
            catalog if catalog.is_file() else None,
            base_iri + "catalog",
            base_iri + "graph/ontology",
        )
    except LoadError:
        index.close()
        raise
    except (SyntaxError, OSError) as exc:
        index.close()
        raise LoadError(f"cannot read the release: {exc}", file=folder) from None
    rel = Release(
        settings=settings,
        folder=folder,
        base_iri=base_iri,
        prefixes=prefixes,
        ontology_ns=_ontology_ns(ontology, prefixes),
        index=index,
        ontology=ontology,
        shapes=_load_turtle(shapes_path) if shapes_path.is_file() else ox.Store(),
        manifest=manifest,
    )
    if index_path is None:
        rel.preload()  # in memory: nothing to gain from reading subjects one by one
    ns = rel.ontology_ns
    checksums: dict[str, str] = {}
    for s, v in rel.with_predicate(ns + "sha256"):
        if isinstance(v, ox.Literal):
            checksums.setdefault(s, v.value)  # the first literal by term order, as first_literal
    archived: dict[str, str] = {}
    for s, v in rel.with_predicate(ns + "archivedFile"):
        if isinstance(v, ox.Literal):
            archived.setdefault(s, v.value)
    rel.archived = archived
    for s in sorted(archived):
        text = read_source_text(settings.sources_dir, s, archived[s], checksums.get(s))
        if text is not None:
            rel.texts[s] = text
    return rel


def read_source_text(sources_dir: Path, source_iri: str, archived: str, sha256: str | None) -> SourceText | None:
    """The archived text of a source (``<sources>/<source id>/<archivedFile>``), or None when it is not
    there (only its status is read here: :class:`SourceText` reads the file when asked)."""
    source_id = source_iri.rstrip("/").rsplit("/", 1)[-1]
    if "/" in archived:
        return None
    # plain strings, not pathlib's joins (two a text: a third of reading the release for 15,674 sources)
    path = os.path.join(sources_dir, source_id, archived)
    try:
        st = os.stat(path)
    except OSError:
        return None
    return SourceText(Path(path), sha256, st) if stat.S_ISREG(st.st_mode) else None
