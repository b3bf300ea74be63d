"""Turn a :class:`~toolkit.site.data.Release` into the site's files: path -> bytes.

Every HTML page comes from a Jinja2 template in ``toolkit/site/templates`` (autoescaped);
Python only prepares plain values for them. Everything is sorted, nothing reads the clock,
so the same release gives the same bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pyoxigraph as ox
from markupsafe import Markup

from toolkit.errors import UsageError
from toolkit.query import SavedQuery, bind, find_query, saved_queries
from toolkit.query.engine import evaluate
from toolkit.query.sitefiles import DATA_FILES
from toolkit.query.store import turtle_head
from toolkit.site.cut import Cut, cut_answer
from toolkit.site.data import (
    CLASS_TYPES,
    COMMENT_PROPS,
    CONCEPT_TYPES,
    DATE_TYPES,
    LABEL_PROPS,
    PROPERTY_TYPES,
    RDF,
    RDFS,
    SH,
    TYPE,
    XSD,
    Release,
    Term,
    term_key,
)
from toolkit.site.highlight import Mark, runs
from toolkit.site.i18n import UI
from toolkit.site.paths import DEFAULT_LANG, LANGS, SiteMap, lang_path, rel
from toolkit.site.search import SearchIndex

SITEMAP_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)
#: at most this many incoming links are listed on a page (the rest are counted)
MAX_INCOMING = 200
#: the values of one property a resource page shows (in term order; the rest are counted, and its
#: Turtle, JSON-LD and N-Triples files hold them all). Why: at 1M triples the release's dataset has
#: 15,674 parts, and its page, made again after every build, named each one (most of a run's time)
MAX_VALUES = 1000
_ANCHOR_BAD = re.compile(r"[^A-Za-z0-9_-]")
_PREFIX_LINE = re.compile(r"^@prefix\s+([A-Za-z][\w.-]*):\s*<([^>]*)>\s*\.\s*$", re.MULTILINE)
PLAIN_TYPES = frozenset({XSD + "string", RDF + "langString"})
#: the rest jobs made in a worker beside the resource pages (by name prefix)
LONG_JOBS = ("browse", "timeline", "sources\t", "query\t")
#: rows on a part of a long list (``browse/``, ``timeline/``, a saved query's table); setting ``page-rows``
PAGE_ROWS = 1000
#: URLs in one sitemap file (the sitemaps protocol's limit); setting ``sitemap-urls``
SITEMAP_URLS = 50_000
SITEMAP_INDEX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
)
#: pages shown around the current one in a list's navigation (then the first and the last)
PAGER_SPAN = 2


def part_count(rows: int, size: int) -> int:
    """How many parts a list of ``rows`` rows has at ``size`` rows a part (one, when it is empty)."""
    return max(1, -(-rows // size))


def part_path(base: str, k: int) -> str:
    """The folder of part ``k`` (from 1) of the list at ``base``: the first at ``base`` itself, so a
    short list (one part) is where it always was, then ``base/2/``, ``base/3/`` ..."""
    return base if k == 1 else f"{base}{k}/"


def pager(base: str, k: int, n: int, here: str, lang: str) -> dict[str, Any] | None:
    """The navigation of part ``k`` of ``n`` (None for a list of one part): previous, next, and the page
    numbers around ``k`` with the first and the last (a gap as None), each a relative link."""
    if n <= 1:
        return None

    def href(j: int) -> str:
        return rel(here, lang_path(part_path(base, j), lang))

    shown = sorted({1, n, *range(max(1, k - PAGER_SPAN), min(n, k + PAGER_SPAN) + 1)})
    numbers: list[dict[str, Any] | None] = []
    for j in shown:
        if numbers and numbers[-1] is not None and j > numbers[-1]["n"] + 1:
            numbers.append(None)
        numbers.append({"n": j, "href": href(j), "current": j == k})
    return {
        "k": k,
        "n": n,
        "prev": href(k - 1) if k > 1 else "",
        "next": href(k + 1) if k < n else "",
        "numbers": numbers,
    }


def anchor_of(iri: str) -> str:
    """An HTML id for a quote: ``q-`` and the evidence IRI's last segment."""
    return "q-" + _ANCHOR_BAD.sub("-", iri.rstrip("/").rsplit("/", 1)[-1])


def esc(text: str) -> str:
    """``markupsafe.escape`` as a plain string (the same five entities): a long list's cells are
    escaped here without making a ``Markup`` object per value (a fifth of ``browse/``'s time)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
    )


def term_html(v: dict[str, Any] | None) -> Markup:
    """A term as the templates show it (``{{ term(v) }}``): a link, a literal with its tags, or a dash.

    Why Python and not a Jinja2 macro: a query's table or the browse page show tens of thousands of
    terms, and a macro call costs ten times this; every value is escaped as autoescape would."""
    if v is None:
        return Markup('<span class="none">—</span>')
    kind = v["kind"]
    if kind == "iri" and not v["href"]:
        return Markup(f'<span class="iri-text" title="{esc(v["iri"])}">{esc(v["text"])}</span>')
    if kind == "iri":
        external = ' class="external"' if v["external"] else ""
        return Markup(f'<a href="{esc(v["href"])}" title="{esc(v["iri"])}"{external}>{esc(v["text"])}</a>')
    if kind == "literal":
        lang, text = v["lang"], esc(v["text"])
        if lang:
            out = f'<span class="literal" lang="{esc(lang)}">{text}</span> <span class="tag">@{esc(lang)}</span>'
        else:
            out = f'<span class="literal">{text}</span>'
        if v["datatype"]:
            out += f' <span class="tag">{esc(v["datatype"])}</span>'
        return Markup(out)
    return Markup(f'<span class="blank">{esc(v["text"])}</span>')


def environment() -> jinja2.Environment:
    """The template environment: templates shipped in the package, autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("toolkit.site", "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["term"] = term_html
    return env


@dataclass
class ResourceUnit:
    """A resource page as made by :meth:`SiteBuilder.resource_unit` (picklable: it crosses processes)."""

    iri: str
    path: str
    files: dict[str, bytes]
    doc: tuple[dict[str, str], str, str]
    #: "kind<TAB>key" -> hash of its value when the page was made
    deps: dict[str, str]
    #: once written: path -> (size, modification time in ns)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Job:
    """An overview or ontology page made by :meth:`SiteBuilder.rest`: its files, search entries and reads.

    Why: a job whose reads did not change since the last site is not made again (its files are
    kept), as for resource pages; ``deps`` is None for the jobs that are always made."""

    files: list[str] = field(default_factory=list)
    docs: dict[str, tuple[dict[str, str], str, str]] = field(default_factory=dict)
    deps: set[tuple[str, str]] | None = None


@dataclass
class Page:
    """A page known to the site: its folder and its title in each language (for nav, search, sitemap)."""

    path: str
    titles: dict[str, str]
    kind: str


class Tracked:
    """A mapping of the release that notes each key a page reads (``get``, ``[]``, ``in``) into ``deps``.

    Why: a page is a pure function of what it reads, so the keys it read and a hash of their
    values say exactly when it must be made again (the incremental site); nothing else is needed.
    :meth:`peek` reads without noting (for the hashes themselves)."""

    def __init__(self, data: Any, kind: str, builder: SiteBuilder) -> None:
        self.data = data
        self.kind = kind
        self.builder = builder

    def get(self, key: Any, default: Any = None) -> Any:
        self.builder.note(self.kind, key)
        return self.data.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self.builder.note(self.kind, key)
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        self.builder.note(self.kind, key)
        return key in self.data

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data)

    def peek(self, key: Any, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class SiteBuilder:
    release: Release
    sitemap: SiteMap
    files: dict[str, bytes] = field(default_factory=dict)
    #: files copied as they are from the release folder (site path -> the release's file), never held in
    #: memory: at 1M triples they are 870 MB, read, hashed and written again after every build before
    copies: dict[str, Path] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    env: jinja2.Environment = field(default_factory=environment)
    prefixes: dict[str, str] = field(default_factory=dict)
    search: SearchIndex = field(default_factory=SearchIndex)
    _label_cache: dict[str, dict[str, str]] = field(default_factory=dict)
    _compact_cache: dict[str, str] = field(default_factory=dict)
    #: the (kind, key) reads of the page being made, or None outside a resource page
    deps: set[tuple[str, str]] | None = None
    #: the rest job being made (its files and search entries are noted into it)
    job: Job | None = None
    _dep_cache: dict[tuple[str, str], str] = field(default_factory=dict)
    _page_cache: dict[str, str | None] = field(default_factory=dict)
    _answers: dict[str, tuple[SavedQuery, Cut | None, str]] = field(default_factory=dict)
    #: the long lists' rows (:meth:`list_rows`), once a run
    _rows: dict[str, list[Any]] = field(default_factory=dict)
    _class_counts: dict[str, int] | None = None
    #: saved queries' answers as :func:`answer_saved` gives them, or already cut into rows (:class:`Cut`), made
    #: elsewhere (:mod:`toolkit.site.answers`)
    wire: dict[str, tuple[str, bytes] | Cut] = field(default_factory=dict)
    #: where those answers come from, asked only when an answer is first needed (:meth:`wire_of`): the
    #: child that makes them works meanwhile, while this process hashes the other keys
    pending: Callable[[], dict[str, tuple[str, bytes] | Cut]] | None = None
    #: the rows of ``browse/`` and ``timeline/`` as the last run kept them, for the lists whose rows did not
    #: change since (:class:`toolkit.site.incremental.StoredLists`: ``has``, ``count``, ``rows``, ``counts``):
    #: a part reads its slice there, not every resource's types or dates (None: :meth:`list_rows`)
    stored: Any = None

    def __post_init__(self) -> None:
        rel_ = self.release
        if not isinstance(rel_.out, Tracked):
            rel_.out = Tracked(rel_.out, "out", self)
            rel_.incoming = Tracked(rel_.incoming, "in", self)
            rel_.texts = Tracked(rel_.texts, "text", self)
        self.prefixes = dict(self.release.prefixes)
        schema = self.release.settings.schema_dir
        texts = [t.read_text(encoding="utf-8") for t in (schema / "ontology.ttl", schema / "shapes.ttl") if t.is_file()]
        texts.append(turtle_head(self.release.folder / "catalog.ttl"))  # written by the build: its directives on top
        for text in texts:
            for name, iri in _PREFIX_LINE.findall(text):
                if iri not in self.prefixes.values():
                    self.prefixes.setdefault(name, iri)
        self.prefixes.setdefault("sh", SH)
        self.page_rows = self.setting("page-rows", PAGE_ROWS)
        self.sitemap_urls = self.setting("sitemap-urls", SITEMAP_URLS)
        self.resources = sorted(s for s in self.release.out if self.sitemap.page_dir(s) is not None)
        self.resource_set = set(self.resources)
        self.terms = self._ontology_terms()
        #: the IRIs the ontology and the shapes say anything about (where a label may come from)
        self.schema_subjects = {
            q.subject.value
            for store in (self.release.ontology, self.release.shapes)
            for q in store.quads_for_pattern(None, None, None, None)
            if isinstance(q.subject, ox.NamedNode)
        }

    def note(self, kind: str, key: Any) -> None:
        if self.deps is not None and isinstance(key, str):
            self.deps.add((kind, key))

    @contextmanager
    def untracked(self) -> Iterator[None]:
        """Reads that are noted by a finer key of their own (``types``, ``dates``), not as the whole ``out``."""
        saved, self.deps = self.deps, None
        try:
            yield
        finally:
            self.deps = saved

    def types_of(self, iri: str) -> list[str]:
        self.note("types", iri)
        with self.untracked():
            return self.release.types(iri)

    def dates_of(self, iri: str) -> list[tuple[str, str]]:
        """(date, property) of every dated value of ``iri``."""
        self.note("dates", iri)
        with self.untracked():
            return [
                (o.value, p)
                for p, objs in self.release.out[iri].items()
                for o in objs
                if isinstance(o, ox.Literal) and o.datatype and o.datatype.value in DATE_TYPES
            ]

    def is_evidence(self, iri: str) -> bool:
        """Whether ``iri`` is an evidence node (a quote with its offsets and source), noted as that alone.

        Why a key of its own: every page asks it of each IRI it links to, and noted as the IRI's whole
        ``out`` a page was made again whenever anything of what it links to changed (the release's
        dataset page, 15,674 parts and 3.4 s at 1M triples, after every build: its distributions'
        sizes and checksums change)."""
        self.note("evidence", iri)
        with self.untracked():
            return self.release.is_evidence(iri)

    def dep_value(self, kind: str, key: str) -> str:
        """A short hash of what a read of (kind, key) gives in this release: the incremental site's test."""
        cached = self._dep_cache.get((kind, key))
        if cached is None:
            cached = self._dep_cache[(kind, key)] = self._dep_value(kind, key)
        return cached

    def _dep_value(self, kind: str, key: str) -> str:
        saved, self.deps = self.deps, None
        try:
            rel_ = self.release
            if kind == "out":
                v = rel_.out.peek(key) or {}
                text = repr(sorted((p, sorted((str(o), gs) for o, gs in objs.items())) for p, objs in v.items()))
            elif kind == "in":
                text = repr(sorted(rel_.incoming.peek(key) or ()))
            elif kind == "text":
                t = rel_.texts.peek(key)
                text = "" if t is None else repr(t.signature)  # not the text: see SourceText
            elif kind == "label":
                text = repr(sorted(self.labels(key).items()))
            elif kind == "page":
                text = repr(self.page_of(key))
            elif kind == "types":
                text = repr(self.types_of(key))
            elif kind == "evidence":
                text = repr(rel_.is_evidence(key))
            elif kind == "dates":
                text = repr(sorted(self.dates_of(key)) if key in self.resource_set else None)
            elif kind == "resources" and key == "home":
                text = self.home_key()
            elif kind == "resources":  # "<list>\t<part>": what that part of a long list shows
                name, _, k = key.rpartition("\t")
                text = self.part_key(name, int(k))
            else:
                raise ValueError(f"unknown dependency kind {kind!r}")
        finally:
            self.deps = saved
        return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()

    # ------------------------------------------------------------------ naming things
    def compact(self, iri: str) -> str:
        """``prefix:local`` for an IRI under a known prefix (the longest), else the IRI."""
        cached = self._compact_cache.get(iri)
        if cached is None:
            cached = self._compact_cache[iri] = self._compact(iri)
        return cached

    def _compact(self, iri: str) -> str:
        best = ""
        name = ""
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and len(ns) > len(best) and re.fullmatch(r"[\w.-]*", iri[len(ns) :]):
                best, name = ns, prefix
        return f"{name}:{iri[len(best) :]}" if best else iri

    def labels(self, iri: str) -> dict[str, str]:
        """zh/en (and untagged) labels of an IRI: from the data, else the ontology, else the shapes."""
        self.note("label", iri)
        cached = self._label_cache.get(iri)
        if cached is None:
            with self.untracked():  # noted as the label, not as the reads behind it (cached or not: the same)
                cached = self._label_cache[iri] = self._find_labels(iri)
        return cached

    def _find_labels(self, iri: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for source in (self.release.out.get(iri, {}),):
            for p in LABEL_PROPS:
                objs = source.get(p)
                if not objs:
                    continue
                for v in sorted(objs, key=term_key) if len(objs) > 1 else objs:
                    if isinstance(v, ox.Literal):
                        found.setdefault(v.language or "", v.value)
        if not found and iri in self.schema_subjects:  # most IRIs (evidence, sources) are not named there
            for p in (*LABEL_PROPS, SH + "name"):
                for store in (self.release.ontology, self.release.shapes):
                    for v in self._store_values(store, iri, p):
                        if isinstance(v, ox.Literal):
                            found.setdefault(v.language or "", v.value)
        if not found and self.release.is_evidence(iri):  # a quote is named by its words
            quote = self.release.first_literal(iri, self.release.ontology_ns + "quote") or ""
            found[""] = "“" + (quote if len(quote) <= 40 else quote[:40] + "…") + "”"
        return found

    def label(self, iri: str, lang: str) -> str:
        found = self.labels(iri)
        other = "en" if lang == "zh" else "zh"
        return found.get(lang) or found.get("") or found.get(other) or self.compact(iri)

    def comment(self, iri: str, lang: str) -> str:
        for store_values in (
            lambda p: self.release.values(iri, p),
            lambda p: self._store_values(self.release.ontology, iri, p),
        ):
            found = {
                v.language or "": v.value for p in COMMENT_PROPS for v in store_values(p) if isinstance(v, ox.Literal)
            }
            if found:
                return found.get(lang) or found.get("") or next(iter(sorted(found.items())))[1]
        return ""

    @staticmethod
    def _store_values(store: ox.Store, iri: str, predicate: str) -> list[Term]:
        if iri.startswith("_:"):
            return []
        found = store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(predicate), None, None)
        return sorted({q.object for q in found}, key=term_key)

    def page_of(self, iri: str) -> str | None:
        """The page folder of an IRI if the site has that page."""
        self.note("page", iri)
        try:
            return self._page_cache[iri]
        except KeyError:
            path = self.sitemap.page_dir(iri)
            found = path if path is not None and (iri in self.resource_set or iri in self.terms) else None
            self._page_cache[iri] = found
            return found

    def term_view(self, term: Term, here: str, lang: str) -> dict[str, Any]:
        """A term as the templates show it: text, link (relative, or the IRI itself when external), tags."""
        if isinstance(term, ox.NamedNode):
            page = self.page_of(term.value)
            return {
                "kind": "iri",
                "text": self.label(term.value, lang),
                "href": rel(here, lang_path(page, lang)) if page else term.value,
                "iri": term.value,
                "short": self.compact(term.value),
                "external": page is None,
            }
        if isinstance(term, ox.BlankNode):
            return {"kind": "blank", "text": "_:" + term.value, "href": "", "iri": "", "short": "", "external": False}
        dtype = term.datatype.value if term.datatype else ""
        return {
            "kind": "literal",
            "text": term.value,
            "lang": term.language or "",
            "datatype": "" if dtype in PLAIN_TYPES else self.compact(dtype),
            "href": "",
            "iri": "",
            "short": "",
            "external": False,
        }

    def term_markup(self, term: Term | None, here: str, lang: str) -> str:
        """``term_html(term_view(...))`` as a string: what a table cell of a long list shows.

        Why not the template's ``term()`` per cell: ``browse/``, ``timeline/`` and the saved queries'
        tables hold tens of thousands of terms, and a Jinja2 call per cell was most of their time
        (they are made again after any change of a label they show). The reads noted are the same."""
        if term is None:
            return str(term_html(None))
        if isinstance(term, ox.NamedNode):
            return self.iri_markup(term.value, here, lang)
        return str(term_html(self.term_view(term, here, lang)))

    def iri_markup(self, iri: str, here: str, lang: str) -> str:
        """An IRI as :func:`term_html` shows it (its label, linked to its page or to itself)."""
        page = self.page_of(iri)
        text = self.label(iri, lang)
        href = rel(here, lang_path(page, lang)) if page else iri
        if not href:
            return f'<span class="iri-text" title="{esc(iri)}">{esc(text)}</span>'
        external = ' class="external"' if page is None else ""
        return f'<a href="{esc(href)}" title="{esc(iri)}"{external}>{esc(text)}</a>'

    # ------------------------------------------------------------------ rendering
    def render(self, template: str, path: str, lang: str, title: str, **ctx: Any) -> None:
        here = lang_path(path, lang)
        other = "en" if lang == "zh" else "zh"
        nav = [
            ("home", ""),
            ("browse", "browse/"),
            ("ontology", "ontology/"),
            ("timeline", "timeline/"),
            ("queries", "queries/"),
            ("catalog", "catalog/"),
            ("sparql", "sparql/"),
            ("search", "search/"),
        ]
        html = self.env.get_template(template).render(
            lang=lang,
            ui=UI[lang],
            title=title,
            here=here,
            root=rel(here, ""),
            static=rel(here, "static/"),
            switch_href=rel(here, lang_path(path, other)),
            switch_lang=other,
            canonical=self.sitemap.url(path, lang),
            alternate_langs=[(code, self.sitemap.url(path, code)) for code in LANGS],
            nav=[(UI[lang][key], rel(here, lang_path(p, lang)), p == path) for key, p in nav],
            link=lambda p: rel(here, lang_path(p, lang)),
            **ctx,
        )
        self.files[here + "index.html"] = html.encode("utf-8")
        if self.job is not None:
            self.job.files.append(here + "index.html")

    def build(self) -> dict[str, bytes]:
        """Every file of the site, in memory, made in this process."""
        for iri in self.resources:
            self.resource_page(iri)
        self.rest()
        files = dict(self.files)
        files.update((rel, src.read_bytes()) for rel, src in self.copies.items())
        return dict(sorted(files.items()))

    def rest_jobs(self, queries: bool = True) -> list[tuple[str, Callable[[], None], bool]]:
        """The pages besides the resource pages, as (name, maker, whether its reads are tracked); without
        the saved queries' parts when not ``queries`` (their number needs the answers, :meth:`wire_of`)."""
        jobs: list[tuple[str, Callable[[], None], bool]] = [
            (f"term\t{iri}", lambda iri=iri: self.term_page(iri), True) for iri in sorted(self.terms)
        ]
        jobs += [("ontology", self.ontology_index, True)]
        # a long list is one job a part, each with its own reads (one part is made again, the others kept)
        jobs += [(f"browse\t{k}", lambda k=k: self.browse_page(k), True) for k in range(1, self.parts("browse") + 1)]
        jobs += [
            (f"timeline\t{k}", lambda k=k: self.timeline_page(k), True) for k in range(1, self.parts("timeline") + 1)
        ]
        jobs += [(f"sources\t{k}", lambda k=k: self.sources_page(k), True) for k in range(1, self.parts("sources") + 1)]
        jobs += [
            (f"query\t{q.name}\t{k}", lambda q=q, k=k: self.query_page(q.name, k), True)
            for q in (self.saved_queries() if queries else [])
            for k in range(1, self.parts(f"query\t{q.name}") + 1)
        ]
        jobs += [("queries", self.queries_index, False), ("catalog", self.catalog_page, False)]
        jobs += [("home", self.home_page, True), ("static", self.static_pages, False)]
        return jobs

    def long_jobs(self, reuse: Callable[[str], Job | None] | None, queries: bool) -> list[str]:
        """The rest jobs worth a worker of their own (``browse/``, ``timeline/``, the saved queries'
        pages: the long lists), those of them not kept from the last site: only the saved queries'
        (``queries``) or only the others (their answers are not needed)."""
        return [
            name
            for name, _make, tracked in self.rest_jobs(queries=queries)
            if tracked
            and name.startswith(LONG_JOBS)
            and name.startswith("query\t") == queries
            and (reuse is None or reuse(name) is None)
        ]

    def make_job(self, name: str) -> tuple[Job, dict[str, bytes]]:
        """One rest job made on its own (in a worker): its record and the files it wrote."""
        make = next(m for n, m, _tracked in self.rest_jobs(queries=name.startswith("query\t")) if n == name)
        before, self.files = self.files, {}
        self.job = Job(deps=set())
        self.deps = self.job.deps
        try:
            make()
            return self.job, self.files
        finally:
            self.files, self.job, self.deps = before, None, None

    def rest(
        self,
        more_files: Iterable[str] = (),
        reuse: Callable[[str], Job | None] | None = None,
        made: dict[str, tuple[Job, dict[str, bytes]]] | None = None,
        derived: Callable[[dict[str, Job], list[str]], dict[str, bytes]] | None = None,
    ) -> dict[str, Job]:
        """Everything but the resource pages (made already, here or elsewhere): ontology and overview
        pages, copies, search index, sitemap. ``more_files``: the paths of resource files not in ``files``.
        ``reuse(name)``: a job of the last site to keep as it is (its reads unchanged), or None to make it.
        ``made``: jobs made elsewhere by :meth:`make_job`. ``derived(jobs, files)``: the search index's
        and the sitemap's files made from what changed since the last site (:class:`toolkit.site.
        incremental.Derived`, which notes the files it keeps as jobs), instead of from every page.
        Returns the jobs made or kept, by name."""
        done: dict[str, Job] = {}
        for name, make, tracked in self.rest_jobs():
            if made is not None and name in made:
                job, files = made[name]
                self.files.update(files)
                self.search.docs.update(job.docs)
                done[name] = job
                continue
            kept = reuse(name) if reuse is not None and tracked else None
            if kept is not None:
                self.search.docs.update(kept.docs)
                done[name] = kept
                continue
            self.job = Job(deps=set() if tracked else None)
            self.deps = self.job.deps
            try:
                make()
            finally:
                done[name], self.job, self.deps = self.job, None, None
        more = list(more_files)
        for job in done.values():
            more += job.files
        self.release_copy()
        self.static_files()
        if derived is not None:
            self.files.update(derived(done, [*self.files, *self.copies, *more]))
        else:
            self.files.update(self.search.to_files(self.search_shards()))
            self.files.update(self.sitemap_files([*self.files, *self.copies, *more]))
        self.files["robots.txt"] = f"User-agent: *\nAllow: /\nSitemap: {self.sitemap.root_iri}sitemap.xml\n".encode()
        return done

    def resource_unit(self, iri: str) -> ResourceUnit:
        """One resource's page: its files, its search entry and what it read (keys and their hashes)."""
        before = self.files
        self.files = {}
        self.deps = set()
        try:
            self.resource_page(iri)
            deps = self.deps
        finally:
            self.deps = None
            files, self.files = self.files, before
        path = self.sitemap.page_dir(iri) or ""
        titles, terms, snippet = self.search.docs[path]
        return ResourceUnit(
            iri=iri,
            path=path,
            files=files,
            doc=(titles, terms, snippet),
            deps={f"{k}\t{key}": self.dep_value(k, key) for k, key in sorted(deps)},
        )

    def keep(self, path: str, doc: tuple[dict[str, str], str, str]) -> None:
        """Take a resource page made by an earlier run as it is (its search entry and nav title)."""
        self.pages[path] = Page(path, doc[0], "resource")
        self.search.docs[path] = doc

    # ------------------------------------------------------------------ resources
    def resource_page(self, iri: str) -> None:
        path = self.sitemap.page_dir(iri)
        assert path is not None
        self.data_files(iri, path)
        titles = {lang: self.label(iri, lang) for lang in LANGS}
        quotes: list[str] = []
        for lang in LANGS:
            here = lang_path(path, lang)
            ctx = self.resource_context(iri, here, lang)
            if lang == DEFAULT_LANG:
                quotes = [e["quote"] for e in ctx["evidence"]]
            self.render("resource.html", path, lang, titles[lang], **ctx)
        kinds = [self.label(t, "en") for t in self.release.types(iri)]
        self.pages[path] = Page(path, titles, "resource")
        self.search.add(
            path, titles, [*quotes, self.release.first_literal(iri, self.release.ontology_ns + "quote") or ""], kinds
        )

    def resource_context(self, iri: str, here: str, lang: str) -> dict[str, Any]:
        rel_ = self.release
        props = rel_.out.get(iri, {})
        groups = []
        evidence_nodes: list[str] = []
        for p in sorted(props, key=lambda p: (p != TYPE, p not in LABEL_PROPS, self.label(p, lang), p)):
            values = []
            graph_sets = set()
            for n, v in enumerate(sorted(props[p], key=term_key)):
                graphs = props[p][v]
                graph_sets.add(tuple(graphs))
                if n >= MAX_VALUES:
                    continue  # not shown, nor its evidence: asking would read each value's subject
                shown = [self.graph_view(g, here, lang) for g in graphs]
                values.append({"v": self.term_view(v, here, lang), "sources": shown})
                if isinstance(v, ox.NamedNode) and self.is_evidence(v.value):
                    evidence_nodes.append(v.value)
            groups.append(
                {
                    "prop": self.term_view(ox.NamedNode(p), here, lang),
                    "values": values,
                    "more": max(0, len(props[p]) - MAX_VALUES),
                    "conflict": len(graph_sets) > 1 and p not in LABEL_PROPS and p not in COMMENT_PROPS and p != TYPE,
                }
            )
        if rel_.is_evidence(iri):
            evidence_nodes.append(iri)
        evidence = [self.evidence_view(e, here, lang) for e in sorted(set(evidence_nodes))]
        incoming = sorted(rel_.incoming.get(iri, set()))
        text = self.source_text_view(iri, here, lang) if iri in rel_.texts else None
        sources = sorted({g for p in props.values() for gs in p.values() for g in gs})
        return {
            "iri": iri,
            "types": [self.term_view(ox.NamedNode(t), here, lang) for t in rel_.types(iri)],
            "description": self.comment(iri, lang),
            "groups": groups,
            "evidence": [e for e in evidence if e is not None],
            "incoming": [
                {"s": self.term_view(ox.NamedNode(s), here, lang), "p": self.term_view(ox.NamedNode(p), here, lang)}
                for s, p in incoming[:MAX_INCOMING]
            ],
            "incoming_more": max(0, len(incoming) - MAX_INCOMING),
            "sources": [self.graph_view(g, here, lang) for g in sources],
            "alternates": [
                {"href": rel(here, self.sitemap.page_dir(iri) + f), "type": t, "name": f} for f, t in DATA_FILES.items()
            ],
            "text": text,
        }

    def graph_view(self, graph: str, here: str, lang: str) -> dict[str, Any]:
        """A named graph as a source link: ``<base>graph/<id>`` -> the page of ``<base>source/<id>`` if any."""
        base = self.release.base_iri
        if graph.startswith(base + "graph/"):
            source = base + "source/" + graph[len(base + "graph/") :]
            self.note("page", source)
            if source in self.resource_set:
                return self.term_view(ox.NamedNode(source), here, lang)
        if not graph:
            return {"kind": "literal", "text": "default", "href": "", "iri": "", "short": "", "external": False}
        return {**self.term_view(ox.NamedNode(graph), here, lang), "href": ""}

    def evidence_view(self, ev: str, here: str, lang: str) -> dict[str, Any] | None:
        rel_ = self.release
        ns = rel_.ontology_ns
        quote = rel_.first_literal(ev, ns + "quote") or ""
        try:
            start = int(rel_.first_literal(ev, ns + "startOffset") or "")
            end = int(rel_.first_literal(ev, ns + "endOffset") or "")
        except ValueError:
            return None
        sources = [v.value for v in rel_.values(ev, ns + "inSource") if isinstance(v, ox.NamedNode)]
        source = sources[0] if sources else ""
        source_page = self.page_of(source) if source else None
        paragraphs = []
        text = rel_.texts.get(source)
        if text is not None:
            mark = Mark(start, end, anchor_of(ev), "", quote)
            for para in text.paragraphs_for(start, end):
                paragraphs.append(runs(para.text, para.start, [mark]))
        return {
            "iri": ev,
            "quote": quote,
            "start": start,
            "end": end,
            "source": self.term_view(ox.NamedNode(source), here, lang) if source else None,
            "source_href": (rel(here, lang_path(source_page, lang)) + "#" + anchor_of(ev)) if source_page else "",
            "paragraphs": paragraphs,
        }

    def source_text_view(self, source: str, here: str, lang: str) -> dict[str, Any]:
        """The archived text with every quote of the release that cites it highlighted and linked to its fact."""
        rel_ = self.release
        ns = rel_.ontology_ns
        text = rel_.texts[source]
        # paragraphs outside the article body (bodyStart..bodyEnd: the page's furniture) are shown dimmed
        try:
            body = (
                int(rel_.first_literal(source, ns + "bodyStart") or 0),
                int(rel_.first_literal(source, ns + "bodyEnd") or len(text.text)),
            )
        except ValueError:
            body = (0, len(text.text))
        marks = []
        for ev, _p in sorted(rel_.incoming.get(source, set())):
            if not self.is_evidence(ev):
                continue
            try:
                start = int(rel_.first_literal(ev, ns + "startOffset") or "")
                end = int(rel_.first_literal(ev, ns + "endOffset") or "")
            except ValueError:
                continue
            facts = sorted(s for s, _ in rel_.incoming.get(ev, set()))
            target = facts[0] if facts else ev
            page = self.page_of(target)
            href = rel(here, lang_path(page, lang)) if page else ""
            marks.append(Mark(start, end, anchor_of(ev), href, self.label(target, lang)))
        return {
            "file": text.path.name,
            "checksum_ok": text.checksum_ok,
            "paragraphs": [
                {"runs": runs(p.text, p.start, marks), "outside": not (body[0] < p.end and p.start < body[1])}
                for p in text.paragraphs
            ],
            "quote_count": len(marks),
        }

    def data_files(self, iri: str, path: str) -> None:
        """The resource's own triples as N-Triples, Turtle and JSON-LD, written by pyoxigraph (fast, and
        a pure function of the sorted triples and prefixes: it orders the prefixes itself)."""
        triples = self.release.triples(iri)  # a pure function of ``out``, noted as such
        self.files[path + "data.nt"] = "".join(f"{t} .\n" for t in triples).encode("utf-8")
        text = "".join(str(t) for t in triples)
        used = {name: ns for name, ns in sorted(self.prefixes.items()) if "<" + ns in text}
        self.files[path + "data.ttl"] = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=used)
        expanded = json.loads(ox.serialize(triples, format=ox.RdfFormat.JSON_LD))
        self.files[path + "data.jsonld"] = (
            json.dumps(expanded, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        ).encode("utf-8")

    # ------------------------------------------------------------------ ontology
    def _ontology_terms(self) -> dict[str, str]:
        """IRI -> "class" | "property" | "concept" for the terms of the ontology's own namespace."""
        ns = self.release.ontology_ns
        out: dict[str, str] = {}
        for q in self.release.ontology.quads_for_pattern(None, ox.NamedNode(TYPE), None, None):
            if not isinstance(q.subject, ox.NamedNode) or not q.subject.value.startswith(ns) or q.subject.value == ns:
                continue
            if q.object.value in CLASS_TYPES:
                out[q.subject.value] = "class"
            elif q.object.value in PROPERTY_TYPES:
                out.setdefault(q.subject.value, "property")
            elif q.object.value in CONCEPT_TYPES:
                out.setdefault(q.subject.value, "concept")
        return out

    def describe(self, term: Term, depth: int = 0) -> str:
        """A SHACL value as compact text: IRIs compacted, lists as ( ... ), blank nodes as [ p o ; ... ]."""
        if isinstance(term, ox.NamedNode):
            return self.compact(term.value)
        if isinstance(term, ox.Literal):
            return term.value if len(term.value) <= 200 else term.value[:200] + "…"
        if depth > 4:
            return "[…]"
        items = self._rdf_list(term)
        if items is not None:
            return "( " + " ".join(self.describe(i, depth + 1) for i in items) + " )"
        parts = []
        for q in sorted(self.release.shapes.quads_for_pattern(term, None, None, None), key=lambda q: q.predicate.value):
            parts.append(f"{self.compact(q.predicate.value)} {self.describe(q.object, depth + 1)}")
        return "[ " + " ; ".join(parts) + " ]"

    def _rdf_list(self, node: Term) -> list[Term] | None:
        shapes = self.release.shapes
        items: list[Term] = []
        seen = set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            first = list(shapes.quads_for_pattern(node, ox.NamedNode(RDF + "first"), None, None))
            rest = list(shapes.quads_for_pattern(node, ox.NamedNode(RDF + "rest"), None, None))
            if not first or not rest:
                return None
            items.append(first[0].object)
            node = rest[0].object
        if isinstance(node, ox.NamedNode) and node.value == RDF + "nil":
            return items
        return None

    def shape_rows(self, shape: Term) -> list[tuple[str, str]]:
        rows = []
        for q in sorted(
            self.release.shapes.quads_for_pattern(shape, None, None, None),
            key=lambda q: (q.predicate.value, term_key(q.object)),
        ):
            if q.predicate.value in (SH + "property", SH + "targetClass", TYPE, SH + "name"):
                continue
            rows.append((self.compact(q.predicate.value), self.describe(q.object)))
        return rows

    def constraints(self, iri: str, kind: str, lang: str) -> list[dict[str, Any]]:
        shapes = self.release.shapes
        out = []
        if kind == "class":
            for q in sorted(
                shapes.quads_for_pattern(None, ox.NamedNode(SH + "targetClass"), ox.NamedNode(iri), None),
                key=lambda q: str(q.subject),
            ):
                props = sorted(
                    (p.object for p in shapes.quads_for_pattern(q.subject, ox.NamedNode(SH + "property"), None, None)),
                    key=term_key,
                )
                out.append(
                    {
                        "shape": self.describe(q.subject) if isinstance(q.subject, ox.NamedNode) else "",
                        "rows": self.shape_rows(q.subject),
                        "properties": [
                            {
                                "shape": self.describe(p) if isinstance(p, ox.NamedNode) else "",
                                "rows": self.shape_rows(p),
                            }
                            for p in props
                        ],
                    }
                )
        else:
            for q in sorted(
                shapes.quads_for_pattern(None, ox.NamedNode(SH + "path"), ox.NamedNode(iri), None),
                key=lambda q: str(q.subject),
            ):
                owners = sorted(
                    {o.subject for o in shapes.quads_for_pattern(None, ox.NamedNode(SH + "property"), q.subject, None)},
                    key=term_key,
                )
                targets = sorted(
                    {
                        t.object.value
                        for o in owners
                        for t in shapes.quads_for_pattern(o, ox.NamedNode(SH + "targetClass"), None, None)
                    }
                )
                out.append(
                    {
                        "shape": self.describe(q.subject) if isinstance(q.subject, ox.NamedNode) else "",
                        "rows": self.shape_rows(q.subject),
                        "properties": [],
                        "targets": targets,
                    }
                )
        return out

    def term_page(self, iri: str) -> None:
        kind = self.terms[iri]
        path = self.sitemap.page_dir(iri)
        assert path is not None
        ont = self.release.ontology
        titles = {lang: self.label(iri, lang) for lang in LANGS}
        for lang in LANGS:
            here = lang_path(path, lang)
            rows = []
            for q in sorted(
                ont.quads_for_pattern(ox.NamedNode(iri), None, None, None),
                key=lambda q: (q.predicate.value, term_key(q.object)),
            ):
                if isinstance(q.object, ox.BlankNode):
                    continue
                rows.append({"p": self.term_view(q.predicate, here, lang), "v": self.term_view(q.object, here, lang)})
            alignments = [r for r in rows if r["v"]["kind"] == "iri" and r["v"]["external"] and r["p"]["iri"] != TYPE]
            used_by = sorted(
                {
                    (q.subject.value, kind)
                    for q in ont.quads_for_pattern(None, None, ox.NamedNode(iri), None)
                    if isinstance(q.subject, ox.NamedNode) and q.subject.value in self.terms
                }
            )
            constraints = self.constraints(iri, kind, lang)
            for c in constraints:
                c["targets_view"] = [self.term_view(ox.NamedNode(t), here, lang) for t in c.get("targets", [])]
            instances = []
            if kind == "class":
                instances = sorted(
                    (s for s, _p in self.release.incoming.get(iri, set()) if _p == TYPE and s in self.resource_set)
                )
            self.render(
                "term.html",
                path,
                lang,
                titles[lang],
                iri=iri,
                kind=kind,
                short=self.compact(iri),
                labels=sorted(
                    (v.language or "", v.value)
                    for p in LABEL_PROPS
                    for v in self._store_values(ont, iri, p)
                    if isinstance(v, ox.Literal)
                ),
                comments=sorted(
                    (v.language or "", v.value)
                    for p in COMMENT_PROPS
                    for v in self._store_values(ont, iri, p)
                    if isinstance(v, ox.Literal)
                ),
                rows=rows,
                alignments=alignments,
                related=[self.term_view(ox.NamedNode(s), here, lang) for s, _k in used_by],
                constraints=constraints,
                instances=[self.term_view(ox.NamedNode(s), here, lang) for s in instances[:MAX_INCOMING]],
                instance_count=len(instances),
            )
        self.pages[path] = Page(path, titles, kind)
        self.search.add(path, titles, [self.comment(iri, "zh"), self.comment(iri, "en")], [kind])
        if self.job is not None:
            self.job.docs[path] = self.search.docs[path]

    def ontology_index(self) -> None:
        for lang in LANGS:
            here = lang_path("ontology/", lang)
            groups = []
            for kind, heading in (("class", "classes"), ("property", "properties"), ("concept", "concepts")):
                items = sorted((self.label(i, lang), i) for i, k in self.terms.items() if k == kind)
                groups.append(
                    {
                        "kind": kind,
                        "heading": heading,
                        "items": [
                            {"v": self.term_view(ox.NamedNode(i), here, lang), "comment": self.comment(i, lang)}
                            for _l, i in items
                        ],
                    }
                )
            self.render(
                "ontology.html",
                "ontology/",
                lang,
                UI[lang]["ontology"],
                groups=groups,
                ontology_iri=self.release.ontology_ns,
            )

    # ------------------------------------------------------------------ overview pages
    def setting(self, name: str, default: int) -> int:
        """A positive whole number of ``[tool.policy-toolkit.site]`` (``page-rows``, ``sitemap-urls``,
        ``search-shards``), else ``default``."""
        value = self.release.settings.site.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(
                f"[tool.policy-toolkit.site] {name} = {value!r} is not a positive whole number",
                hint=f"set {name} to a number such as {default}, or remove it",
            )
        return value

    def search_shards(self) -> int | None:
        """The number of search shards set (``search-shards``), else None (:func:`auto_shards` decides)."""
        shards = self.release.settings.site.get("search-shards")
        return self.setting("search-shards", 1) if shards is not None else None

    def list_rows(self, name: str) -> list[Any]:
        """The rows of a long list, in its order, once a run: ``browse`` ((class, resource), by class
        IRI then resource IRI), ``timeline`` ((date, resource, property)), ``sources`` (the IRIs of the
        sources with an archived text). A saved query's rows are not here: they stay serialised, cut
        into rows (:meth:`query_answer`), and a part parses its own.

        Why by IRI and not by label: the parts are cut at fixed row counts, so a row must not move
        when a label changes; a label edit then changes the one part that shows it. Read untracked:
        each part notes its own slice (:meth:`part_key`), not every resource's types and dates."""
        found = self._rows.get(name)
        if found is None:
            with self.untracked():
                if name == "browse":
                    types = self.release.types_of_all()
                    found = sorted((t, iri) for iri in self.resources for t in types.get(iri) or [RDFS + "Resource"])
                elif name == "sources":
                    found = sorted(self.release.texts)
                elif name == "timeline":
                    dates = self.release.dates_of_all()
                    found = sorted((d, s, p) for s in self.resources for d, p in dates.get(s, ()))
                else:
                    raise ValueError(f"not a list with rows of its own: {name!r}")
            self._rows[name] = found
        return found

    def kept_list(self, name: str) -> bool:
        """Whether the rows of ``name`` are read from the last run's (:attr:`stored`): they did not change."""
        return self.stored is not None and self.stored.has(name)

    def class_counts(self) -> dict[str, int]:
        """How many resources each class of ``browse/`` has (its headings show it), once a run."""
        if self._class_counts is None:
            self._class_counts = defaultdict(int)
            for c, _iri in self.list_rows("browse"):
                self._class_counts[c] += 1
        return self._class_counts

    def counts_of(self, classes: Iterable[str]) -> dict[str, int]:
        """How many resources each of ``classes`` has in ``browse/`` (what a part's headings show)."""
        if self.kept_list("browse"):
            return self.stored.counts("browse", classes)
        counts = self.class_counts()
        return {c: counts[c] for c in classes}

    def parts(self, name: str) -> int:
        """How many parts the list ``name`` (:meth:`list_rows`, or ``query\t<name>``) is cut into."""
        return part_count(self.list_size(name), self.page_rows)

    def list_size(self, name: str) -> int:
        """How many rows the list ``name`` has (a saved query's: its answer's rows, counted unparsed)."""
        if name.startswith("query\t"):
            cut = self.query_answer(name.partition("\t")[2])[1]
            return 0 if cut is None else cut.count
        return self.stored.count(name) if self.kept_list(name) else len(self.list_rows(name))

    def part_rows(self, name: str, k: int) -> list[Any]:
        size = self.page_rows
        if name.startswith("query\t"):  # parsed from the part's own bytes, not the whole answer
            cut = self.query_answer(name.partition("\t")[2])[1]
            return [] if cut is None else cut.rows((k - 1) * size, k * size)
        if self.kept_list(name):
            return self.stored.rows(name, (k - 1) * size, size)
        return self.list_rows(name)[(k - 1) * size : k * size]

    def part_key(self, name: str, k: int) -> str:
        """The value of the read ``("resources", "<list>\t<k>")``: what part ``k`` shows besides labels
        and pages (its rows, the number of parts, the counts of the classes it shows), so that a part
        whose rows did not change is kept, whatever changed in the other parts.

        A saved query's part: the hash of its rows as the answer serialises them (:mod:`toolkit.site.cut`),
        not the rows parsed: the answers are not parsed for their keys, and a part is parsed only when
        it is made."""
        if name.startswith("query\t"):
            saved, cut, error = self.query_answer(name.partition("\t")[2])
            size = self.page_rows
            return repr(
                (
                    k,
                    self.parts(name),
                    None if cut is None else cut.digest((k - 1) * size, k * size),
                    saved.path.read_bytes(),
                    error,
                    saved.missing_params,
                    None if cut is None else (cut.kind, cut.variables, cut.boolean, cut.select_rows, cut.count),
                )
            )
        rows = self.part_rows(name, k)
        extra: Any = None
        if name == "browse":
            extra = sorted(self.counts_of({c for c, _ in rows}).items())
        return repr((k, self.parts(name), rows, extra))

    def open_part(self, name: str, k: int) -> tuple[list[Any], int, str]:
        """Part ``k`` of the list ``name`` noted as read: its rows, the number of parts and its path."""
        self.note("resources", f"{name}\t{k}")
        return self.part_rows(name, k), self.parts(name), part_path(f"{name}/", k)

    def browse_page(self, k: int = 1) -> None:
        """Part ``k`` of ``browse/``: every resource under each of its classes, in IRI order."""
        rows, n, path = self.open_part("browse", k)
        counts = self.counts_of({c for c, _ in rows})
        for lang in LANGS:
            here = lang_path(path, lang)
            groups = []
            for c, members in itertools.groupby(rows, key=lambda r: r[0]):
                html = "".join(f"<li>{self.iri_markup(i, here, lang)}</li>" for _c, i in members)
                groups.append(
                    {"cls": self.term_view(ox.NamedNode(c), here, lang), "count": counts[c], "items_html": Markup(html)}
                )
            title = UI[lang]["all_resources"] + (UI[lang]["part"].format(k=k, n=n) if n > 1 else "")
            self.render("browse.html", path, lang, title, groups=groups, pager=pager("browse/", k, n, here, lang))

    def sources_page(self, k: int = 1) -> None:
        """Part ``k`` of ``sources/``: every source with an archived text, in IRI order.

        Why a list in parts and not on the home page: the home page shows the release files' checksums,
        so it is made again after every change, and at 1M triples it named 15,674 sources (7.5 s a run);
        in parts, a source's label changes the one part that shows it."""
        rows, n, path = self.open_part("sources", k)
        for lang in LANGS:
            here = lang_path(path, lang)
            html = "".join(f"<li>{self.iri_markup(s, here, lang)}</li>" for s in rows)
            title = UI[lang]["all_sources"] + (UI[lang]["part"].format(k=k, n=n) if n > 1 else "")
            self.render(
                "sources.html", path, lang, title, items_html=Markup(html), pager=pager("sources/", k, n, here, lang)
            )

    def timeline_page(self, k: int = 1) -> None:
        """Part ``k`` of ``timeline/``: the dated facts, by date."""
        events, n, path = self.open_part("timeline", k)
        for lang in LANGS:
            here = lang_path(path, lang)
            rows = "".join(
                f"<tr><td><time>{esc(d)}</time></td><td>{self.iri_markup(p, here, lang)}</td>"
                f"<td>{self.iri_markup(s, here, lang)}</td></tr>\n"
                for d, s, p in events
            )
            title = UI[lang]["timeline"] + (UI[lang]["part"].format(k=k, n=n) if n > 1 else "")
            self.render(
                "timeline.html", path, lang, title, rows_html=Markup(rows), pager=pager("timeline/", k, n, here, lang)
            )

    def saved_queries(self) -> list[SavedQuery]:
        folder = self.release.settings.root / "queries"
        return saved_queries(folder) if folder.is_dir() else []

    def answer_saved_queries(self) -> None:
        """Answer every saved query now and cut the answers into rows (each once a run: :meth:`wire_of` and
        :meth:`query_answer` keep them), so that forked workers inherit them."""
        for q in self.saved_queries():
            self.query_answer(q.name)

    def wire_of(self, saved: SavedQuery) -> tuple[str, bytes] | Cut | None:
        """A saved query's answer as :func:`answer_saved` serialises it, or cut (None: it needs a parameter),
        once a run: made by the child of :mod:`toolkit.site.answers` (taken now, when first needed), else here."""
        if saved.missing_params:
            return None
        if self.pending is not None:
            take, self.pending = self.pending, None
            self.wire.update(take())
        wired = self.wire.get(saved.name)
        if wired is None:
            wired = self.wire[saved.name] = answer_saved(self.release.query_store(), saved, self.release.base_iri)
        return wired

    def query_answer(self, name: str) -> tuple[SavedQuery, Cut | None, str]:
        """A saved query, its answer with its default parameters cut into rows (None: it needs a parameter,
        or failed) and an error, once a run (:meth:`run_saved`)."""
        found = self._answers.get(name)
        if found is None:
            saved = find_query(name, self.release.settings.root / "queries")
            cut = None
            error = ""
            if not saved.missing_params:
                try:
                    cut = self.run_saved(saved)
                except UsageError as exc:  # e.g. a default parameter naming nothing in this release
                    error = str(exc)
            found = self._answers[name] = (saved, cut, error)
        return found

    def query_page(self, name: str, k: int = 1) -> None:
        """Part ``k`` of a saved query's page (``queries/<name>/``, then ``2/``, ...): its table cut
        at :attr:`page_rows` rows, each part with the query's text."""
        # the query's file, its error and its rows on this part (:meth:`part_key`): not its whole answer,
        # so that a part whose rows are the same is kept when another part's rows change
        self.note("resources", f"query\t{name}\t{k}")
        saved, result, error = self.query_answer(name)
        needs = saved.missing_params
        base = f"queries/{name}/"
        path = part_path(base, k)
        n = self.parts(f"query\t{name}")
        part = self.part_rows(f"query\t{name}", k)
        titles = {lang: saved.title.get(lang) or name for lang in LANGS}
        for lang in LANGS:
            here = lang_path(path, lang)
            table = None
            if result is not None:
                cell = self.term_markup
                table = {
                    "kind": result.kind,
                    "variables": result.variables,
                    "count": result.select_rows,
                    "first": (k - 1) * self.page_rows + 1,
                    "last": (k - 1) * self.page_rows + len(part),
                    "rows_html": Markup(
                        "".join(
                            "<tr>" + "".join(f"<td>{cell(t, here, lang)}</td>" for t in row) + "</tr>\n"
                            for row in (part if result.kind == "select" else ())
                        )
                    ),
                    "boolean": result.boolean,
                    "triples_html": Markup(
                        "".join(
                            f"<tr><td>{cell(t.subject, here, lang)}</td><td>{cell(t.predicate, here, lang)}</td>"
                            f"<td>{cell(t.object, here, lang)}</td></tr>\n"
                            for t in (part if result.kind == "graph" else ())
                        )
                    ),
                }
            self.render(
                "query.html",
                path,
                lang,
                titles[lang] + (UI[lang]["part"].format(k=k, n=n) if n > 1 else ""),
                name=name,
                answers=saved.answers,
                text=saved.text,
                needs=needs,
                table=table,
                error=error,
                pager=pager(base, k, n, here, lang),
            )
        self.pages[path] = Page(path, titles, "query")

    def queries_index(self) -> None:
        index = []
        for q in self.saved_queries():
            saved = find_query(q.name, self.release.settings.root / "queries")
            index.append((q.name, {lang: saved.title.get(lang) or q.name for lang in LANGS}))
        for lang in LANGS:
            here = lang_path("queries/", lang)
            self.render(
                "queries.html",
                "queries/",
                lang,
                UI[lang]["queries"],
                items=[
                    {"name": n, "title": t[lang], "href": rel(here, lang_path(f"queries/{n}/", lang))} for n, t in index
                ],
            )

    def run_saved(self, saved: SavedQuery) -> Cut:
        """A saved query's answer with its default parameters, cut into rows: the one a child made meanwhile
        (:mod:`toolkit.site.answers`), else from the embedded engine in this process.

        In process, not through :func:`toolkit.query.run_query`'s child process: the queries are the
        project's own files (no SERVICE to refuse, no Ctrl-C to honour mid-query), and ten child
        processes would be most of the site's build time.
        """
        wired = self.wire_of(saved)
        assert wired is not None, "a query that needs a parameter has no answer"
        if isinstance(wired, Cut):  # answered and cut by the child
            return wired
        kind, data = wired
        if kind == REFUSED:
            raise UsageError(data.decode("utf-8"))
        if kind in ("syntax", "failed"):
            raise UsageError(f"the saved query failed: {data.decode('utf-8')}", file=saved.path)
        return cut_answer(kind, data)

    def catalog_info(self) -> dict[str, Any]:
        """Title, description, licence and distributions, from the release's DCAT catalog and manifest."""
        rel_ = self.release
        base = rel_.base_iri
        catalog = base + "catalog"
        dct = "http://purl.org/dc/terms/"
        dcat = "http://www.w3.org/ns/dcat#"
        titles = {v.language or "": v.value for v in rel_.values(catalog, dct + "title") if isinstance(v, ox.Literal)}
        descs = {
            v.language or "": v.value for v in rel_.values(catalog, dct + "description") if isinstance(v, ox.Literal)
        }
        licence = rel_.first_literal(catalog, dct + "license") or next(
            (v.value for v in rel_.values(catalog, dct + "license")), str(rel_.settings.catalog.get("license", ""))
        )
        files = []
        download_base = str(rel_.settings.catalog.get("download-base", self.sitemap.root_iri + "release/"))
        for f in sorted(rel_.manifest.get("files", []), key=lambda f: f["path"]):
            url = download_base + f["path"]
            # the distribution whose downloadURL is the file's: looked up by the URL (what points at it),
            # not found by reading every subject of the release (the home page is made every run)
            found = sorted(s for s, p in rel_.incoming.peek(url) or () if p == dcat + "downloadURL")
            files.append({**f, "url": url, "distribution": found[-1] if found else ""})
        return {
            "titles": titles or {"": str(rel_.manifest.get("title", ""))},
            "descriptions": descs,
            "licence": licence,
            "files": files,
            "version": str(rel_.settings.catalog.get("version", "")),
            "modified": str(rel_.settings.catalog.get("modified", "")),
            "issued": str(rel_.settings.catalog.get("issued", "")),
            "triples": rel_.manifest.get("triples"),
        }

    def catalog_page(self) -> None:
        info = self.catalog_info()
        for lang in LANGS:
            here = lang_path("catalog/", lang)
            files = [
                {
                    **f,
                    "href": rel(here, "release/" + f["path"]),
                    "dist": self.term_view(ox.NamedNode(f["distribution"]), here, lang) if f["distribution"] else None,
                }
                for f in info["files"]
            ]
            self.render(
                "catalog.html",
                "catalog/",
                lang,
                UI[lang]["catalog"],
                info=info,
                files=files,
                catalog_title=info["titles"].get(lang) or next(iter(info["titles"].values())),
            )

    def schema_org(self, info: dict[str, Any]) -> str:
        """schema.org Dataset JSON-LD for the home page, made from the DCAT catalog (same title, licence, files)."""
        doc = {
            "@context": "https://schema.org/",
            "@type": "Dataset",
            "@id": self.sitemap.root_iri,
            "url": self.sitemap.root_iri,
            "name": info["titles"].get("en") or next(iter(info["titles"].values())),
            "alternateName": info["titles"].get("zh", ""),
            "description": info["descriptions"].get("en", "") or info["descriptions"].get("zh", ""),
            "license": info["licence"],
            "version": info["version"],
            "dateModified": info["modified"],
            "datePublished": info["issued"],
            "inLanguage": ["zh", "en"],
            "isAccessibleForFree": True,
            "publisher": {
                "@type": "Organization",
                "name": str(self.release.settings.catalog.get("publisher-en", "")),
            },
            "distribution": [
                {
                    "@type": "DataDownload",
                    "contentUrl": f["url"],
                    "encodingFormat": f.get("media_type", ""),
                    "contentSize": f"{f['bytes']} B",
                    "sha256": f["sha256"],
                }
                for f in info["files"]
                if f["distribution"]  # the catalog's distributions, as DCAT lists them
            ],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True).replace("</", "<\\/")

    def home_key(self) -> str:
        """The value of the read ``("resources", "home")``: what the home page shows besides labels and
        pages (the catalog's title, licence and files, the classes' counts, how many sources have a text)."""
        settings = self.release.settings
        counts = self.release.manifest.get("counts_by_class", {})
        return repr(
            (
                self.catalog_info(),
                sorted(counts.items()),
                len(self.release.texts.data),
                sorted(settings.catalog.items()),
            )
        )

    def home_page(self) -> None:
        """The home page: the catalog's summary, the classes and how many sources (listed in ``sources/``).

        A job noted like the others (the classes' labels and :meth:`home_key`); it shows the release
        files' checksums, so it is made again after any change: it names no source (at 1M triples the
        15,674 sources it listed were 7.5 s of every run; they are in :meth:`sources_page`'s parts)."""
        self.note("resources", "home")
        with self.untracked():  # noted as what it shows (in the key), not as the catalog's quads (every build's)
            info = self.catalog_info()
        counts = self.release.manifest.get("counts_by_class", {})
        for lang in LANGS:
            here = lang_path("", lang)
            class_counts = []
            for name, n in sorted(counts.items()):
                iri = name if "://" in name else self.release.ontology_ns + name
                class_counts.append({"v": self.term_view(ox.NamedNode(iri), here, lang), "n": n})
            self.render(
                "home.html",
                "",
                lang,
                info["titles"].get(lang) or UI[lang]["site"],
                schema_org=self.schema_org(info),
                info=info,
                class_counts=class_counts,
                source_count=len(self.release.texts.data),
                description=info["descriptions"].get(lang, ""),
            )

    def static_pages(self) -> None:
        for lang in LANGS:
            example = next((s for s in self.resources if self.release.types(s)), "")
            self.render(
                "sparql.html",
                "sparql/",
                lang,
                UI[lang]["sparql"],
                base_iri=self.release.base_iri,
                ontology_ns=self.release.ontology_ns,
                example_path=(self.sitemap.page_dir(example) or "").rstrip("/"),
                queries=[q.name for q in saved_queries(self.release.settings.root / "queries")]
                if (self.release.settings.root / "queries").is_dir()
                else [],
            )
            self.render("search.html", "search/", lang, UI[lang]["search"])

    def release_copy(self) -> None:
        """The release files under ``release/``, so that the catalog's download links work on the site itself."""
        for f in sorted(self.release.manifest.get("files", []), key=lambda f: f["path"]):
            src = self.release.folder / f["path"]
            if src.is_file():
                self.copies["release/" + f["path"]] = src
        self.copies["release/manifest.json"] = self.release.folder / "manifest.json"

    def static_files(self) -> None:
        folder = resources.files("toolkit.site") / "static"
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.is_file():
                self.files["static/" + item.name] = item.read_bytes()

    @staticmethod
    def sitemap_paths(files: Iterable[str]) -> list[str]:
        """The page folders of ``files`` (their ``index.html``), Chinese ones: each stands for its two URLs."""
        return sorted(
            {p for p in (f[: -len("index.html")] for f in files if f.endswith("index.html")) if not p.startswith("en/")}
        )

    def urlset(self, paths: list[str]) -> bytes:
        """A sitemap of ``paths`` in both languages, each URL with its ``hreflang`` alternates."""
        # written here, not by a template: tens of thousands of lines (a test compares with sitemap.xml's)
        out = [SITEMAP_HEAD]
        for path in paths:
            zh, en = esc(self.sitemap.url(path, "zh")), esc(self.sitemap.url(path, "en"))
            alternates = f'<xhtml:link rel="alternate" hreflang="zh" href="{zh}"/>'
            alternates += f'<xhtml:link rel="alternate" hreflang="en" href="{en}"/>'
            out.append(f"<url><loc>{zh}</loc>{alternates}</url>\n<url><loc>{en}</loc>{alternates}</url>\n")
        out.append("</urlset>\n")
        return "".join(out).encode("utf-8")

    def sitemap_xml(self, files: Iterable[str]) -> bytes:
        """One sitemap of every page of ``files`` (what :meth:`sitemap_files` writes when it fits)."""
        return self.urlset(self.sitemap_paths(files))

    def sitemap_files(self, files: Iterable[str]) -> dict[str, bytes]:
        """``sitemap.xml`` and, past :attr:`sitemap_urls` URLs (the protocol's 50,000), the numbered
        ``sitemap-<n>.xml`` it then indexes: a fixed number of pages each, in path order, so a changed
        page changes no file and a page added or gone the files from its own on. The numbered files sit
        beside ``sitemap.xml`` at the site root: a sitemap may only list URLs under its own folder."""
        paths = self.sitemap_paths(files)
        per_file = max(1, self.sitemap_urls // 2)  # two URLs a page
        if len(paths) <= per_file:
            return {"sitemap.xml": self.urlset(paths)}
        out: dict[str, bytes] = {}
        index = [SITEMAP_INDEX_HEAD]
        for n, at in enumerate(range(0, len(paths), per_file), start=1):
            name = f"sitemap-{n}.xml"
            out[name] = self.urlset(paths[at : at + per_file])
            index.append(f"<sitemap><loc>{esc(self.sitemap.root_iri + name)}</loc></sitemap>\n")
        index.append("</sitemapindex>\n")
        out["sitemap.xml"] = "".join(index).encode("utf-8")
        return out

    def sitemap_by_template(self, files: Iterable[str]) -> bytes:
        """The sitemap as the template ``sitemap.xml`` writes it (what :meth:`sitemap_xml` must equal)."""
        urls = []
        for path in sorted(
            {p for p in (f[: -len("index.html")] for f in files if f.endswith("index.html")) if not p.startswith("en/")}
        ):
            urls.append({"zh": self.sitemap.url(path, "zh"), "en": self.sitemap.url(path, "en")})
        return self.env.get_template("sitemap.xml").render(urls=urls).encode("utf-8")


#: the kind of :func:`answer_saved`'s answer when the query could not be bound (the message follows)
REFUSED = "refused"


def answer_saved(store: ox.Store, saved: SavedQuery, base_iri: str) -> tuple[str, bytes]:
    """A saved query's answer with its default parameters, serialised (:func:`toolkit.query.engine.evaluate`),
    or (:data:`REFUSED`, the message) when a default parameter names nothing in the release."""
    try:
        bound, _terms = bind(saved.text, {}, saved.params, base_iri=base_iri, store=store)
    except UsageError as exc:
        return REFUSED, str(exc).encode("utf-8")
    return evaluate(store, bound, tsv=True)


def build_files(release: Release, sitemap: SiteMap) -> dict[str, bytes]:
    """Every file of the site (relative path -> bytes), for ``release``."""
    return SiteBuilder(release, sitemap).build()


__all__ = ["SiteBuilder", "answer_saved", "build_files", "environment"]
