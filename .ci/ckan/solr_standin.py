#!/usr/bin/env python3
"""Solr STAND-IN for CKAN's search index — NOT Apache Solr.

What this is
------------
A small in-memory HTTP server, standard library only, that answers the
handful of Solr requests CKAN 2.12 makes (through ``pysolr`` 3.11 and
``requests``) so that a real CKAN portal can run in integration tests on a
machine where Apache Solr cannot be installed.  It stands in for the
*search index only*: CKAN keeps every dataset in PostgreSQL, and
``package_create``/``package_update``/``package_delete`` write to the search
index before they commit to the database, so *something* must accept those
writes and answer the searches that CKAN pages and ``package_search`` make.

It is not a search engine.  Relevance is a crude term count, text analysis
is lower-casing plus splitting on non-word characters, and only the query
syntax listed below is understood.  Do not use it to test search quality.

Requests implemented (read from ``ckan/lib/search/`` and ``pysolr.py``)
----------------------------------------------------------------------
Every path is ``/solr/<core>/<handler>`` (any core name, each core has its
own documents); point CKAN at ``solr_url = http://127.0.0.1:8983/solr/ckan``.

``GET <core>/schema?wt=schema.xml``
    ``ckan.lib.search.check_solr_schema_version()`` at CKAN start-up reads
    the ``name`` attribute (``ckan-2.12``) of the schema's root element.
    ``GET <core>/admin/file/?file=schema.xml`` (the fallback) returns the same.
    Without ``wt=schema.xml`` the schema is returned as JSON.
``GET|POST <core>/select``
    ``pysolr.Solr.search`` (GET, or a form-encoded POST for long queries),
    used by ``is_available()`` (``q=*:*&rows=1``), ``package_search``,
    ``PackageSearchQuery.get_index`` / ``get_all_entity_ids`` (``ckan
    search-index``).  Parameters honoured: ``q``, ``fq`` (repeatable), ``fl``,
    ``rows``, ``start``, ``sort``, ``defType`` (``lucene``, ``dismax``,
    ``edismax``), ``qf``, ``mm``, ``q.op``, ``df``, ``facet``,
    ``facet.field`` (repeatable), ``facet.limit``, ``facet.mincount``.
    The answer is Solr's JSON shape: ``responseHeader``, ``response``
    (``numFound``, ``start``, ``docs``) and, when faceting, ``facet_counts``.
``POST <core>/update`` (also ``update/json``)
    ``pysolr.Solr.add`` sends a JSON array of documents
    (``Content-type: application/json``), ``delete(q=...)``/``delete(id=...)``
    send ``<delete><query>..</query></delete>`` / ``<delete><id>..</id>``
    XML, ``commit()`` sends ``<commit />``; ``?commit=true`` may be on any of
    them.  XML ``<add><doc><field name=..>`` and the JSON command object
    (``{"add": {"doc": ..}, "delete": {"query": ..}, "commit": {}}``) are
    accepted too.  Documents are keyed by ``index_id`` (CKAN's schema's
    uniqueKey), falling back to ``id``.  Changes are visible at once (as if
    every request were followed by a commit).
``GET <core>/admin/ping``
    ``{"status": "OK"}`` (pysolr's ``ping()``).
``GET /solr/admin/cores?action=STATUS``
    A minimal core list, for humans and health checks.

Query syntax understood
-----------------------
``*:*``; ``field:value``, ``field:"a phrase"``, ``field:(a OR b)``,
``field:*``, ``field:pre*``, ``field:[a TO b]`` / ``{a TO b}`` (string or
numeric comparison; ``*`` for open ends); ``+``, ``-``, ``!``, ``NOT``,
``AND``/``&&``, ``OR``/``||`` and parentheses, with Lucene's classic-parser
rules for how they combine; unfielded terms are matched, lower-cased, against
the tokens of the text-like fields (``qf`` under dismax, ``df`` otherwise,
both meaning roughly "name, title, notes, tags, ..."). ``sort`` accepts
``score`` and any stored field, ``asc``/``desc``, comma separated.

String fields (``id``, ``name``, ``site_id``, ``state``, ``capacity``,
``permission_labels`` ...) match exactly, as Solr's ``string`` type does;
the text fields in ``TEXT_FIELDS`` match by token, case-insensitively.

Usage
-----
    python .ci/ckan/solr_standin.py --port 8983 [--host 127.0.0.1]
                                         [--persist FILE] [--quiet]

``--persist FILE`` writes the documents to FILE (JSON) after every change and
loads them at start, so the index survives a restart of the stand-in (the
CKAN database does survive ``.ci/ckan/stop.sh``).  Without it everything is
kept in memory only.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SCHEMA_NAME = "ckan-2.12"  # CKAN accepts ckan-2.8 .. ckan-2.12
SCHEMA_VERSION = "1.6"
UNIQUE_KEY = "index_id"

# Fields that CKAN's Solr schema (ckan/config/solr/schema.xml) analyses as
# text; every other field behaves like Solr's exact-match ``string`` type.
TEXT_FIELDS = frozenset(
    {
        "text",
        "title",
        "notes",
        "author",
        "maintainer",
        "res_name",
        "res_description",
        "urls",
        "res_url",
        "url",
        "download_url",
        "license",
        "ckan_url",
        "title_ngram",
    }
)
# What an unfielded term searches when neither qf nor df says otherwise:
# Solr's catch-all ``text`` field is a copyField of these.
CATCH_ALL_FIELDS = (
    "name",
    "title",
    "notes",
    "tags",
    "groups",
    "organization",
    "text",
    "res_name",
    "res_description",
    "res_format",
    "author",
    "maintainer",
    "license",
    "license_id",
    "url",
    "urls",
    "version",
    "ckan_url",
)
NUMERIC_RE = re.compile(r"^-?\d+(\.\d+)?$")
TOKEN_RE = re.compile(r"\w+", re.UNICODE)


class QueryError(ValueError):
    """A query this stand-in cannot parse; answered with HTTP 400."""


# --------------------------------------------------------------------------
# Query parsing (a subset of the Lucene classic query parser)
# --------------------------------------------------------------------------

MUST, SHOULD, MUST_NOT = "MUST", "SHOULD", "MUST_NOT"


class Node:
    """A parsed query node.

    kind is one of: "all", "bool" (clauses: list of (occur, Node)),
    "term" (field, value, phrase), "range" (field, lo, hi, lo_incl, hi_incl).
    """

    __slots__ = (
        "analyzed",
        "clauses",
        "field",
        "hi",
        "hi_incl",
        "kind",
        "lo",
        "lo_incl",
        "min_should",
        "phrase",
        "value",
    )

    def __init__(self, kind: str, **kw: Any) -> None:
        self.kind = kind
        self.field = kw.get("field")
        self.value = kw.get("value")
        self.phrase = kw.get("phrase", False)
        self.clauses = kw.get("clauses", [])
        self.lo = kw.get("lo")
        self.hi = kw.get("hi")
        self.lo_incl = kw.get("lo_incl", True)
        self.hi_incl = kw.get("hi_incl", True)
        self.min_should = kw.get("min_should", 0)
        # True for terms searched in the default fields (Solr's catch-all
        # "text" field is tokenised whatever the source field's type)
        self.analyzed = kw.get("analyzed", False)

    def __repr__(self) -> str:  # debugging aid
        if self.kind == "bool":
            return f"Bool({self.clauses!r}, min_should={self.min_should})"
        if self.kind == "term":
            return "Term({}:{!r}{})".format(self.field, self.value, " phrase" if self.phrase else "")
        if self.kind == "range":
            return f"Range({self.field}:{self.lo!r}..{self.hi!r})"
        return "All()"


_SPECIAL = set('+-&|!(){}[]^"~*?:\\/ \t\r\n')


def _tokenize(q: str) -> list[tuple[str, str]]:
    """Split a Lucene query string into (type, text) tokens."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append((c, c))
            i += 1
        elif c in "+-!" and (i + 1 < n and not q[i + 1].isspace()):
            tokens.append(("mod", c))
            i += 1
        elif q.startswith("&&", i):
            tokens.append(("AND", "&&"))
            i += 2
        elif q.startswith("||", i):
            tokens.append(("OR", "||"))
            i += 2
        elif c == '"':
            j = i + 1
            buf = []
            while j < n and q[j] != '"':
                if q[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(q[j])
                j += 1
            if j >= n:
                raise QueryError(f"unterminated quote in query: {q!r}")
            tokens.append(("phrase", "".join(buf)))
            i = j + 1
            # ignore a proximity/boost suffix such as "a b"~2 or "x"^3
            m = re.match(r"[~^][\d.]*", q[i:])
            if m:
                i += m.end()
        elif c in "[{":
            depth_close = None
            for k in range(i + 1, n):
                if q[k] in "]}":
                    depth_close = k
                    break
            if depth_close is None:
                raise QueryError(f"unterminated range in query: {q!r}")
            body = q[i + 1 : depth_close]
            parts = re.split(r"\s+TO\s+", body.strip())
            if len(parts) != 2:
                raise QueryError(f"bad range {body!r}")
            tokens.append(
                (
                    "range",
                    json.dumps(
                        [
                            c == "[",
                            q[depth_close] == "]",
                            _unescape(parts[0].strip().strip('"')),
                            _unescape(parts[1].strip().strip('"')),
                        ]
                    ),
                )
            )
            i = depth_close + 1
        else:
            j = i
            buf = []
            while j < n:
                ch = q[j]
                if ch == "\\" and j + 1 < n:
                    buf.append("\\" + q[j + 1])
                    j += 2
                    continue
                if ch.isspace() or ch in '()"':
                    break
                if ch == ":":
                    buf.append(":")
                    j += 1
                    break
                buf.append(ch)
                j += 1
            word = "".join(buf)
            i = j
            if word.endswith(":") and not word.endswith("\\:"):
                tokens.append(("field", _unescape(word[:-1])))
            elif word in ("AND", "OR", "NOT"):
                tokens.append((word, word))
            else:
                # strip a trailing boost or fuzziness suffix: term^2, term~
                word = re.sub(r"(?<!\\)[\^~][\d.]*$", "", word)
                tokens.append(("word", word))
    return tokens


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


class _Parser:
    """Recursive descent over the tokens with Lucene's clause rules."""

    def __init__(self, tokens: list[tuple[str, str]], default_op: str, default_fields: tuple[str, ...]) -> None:
        self.toks = tokens
        self.pos = 0
        self.default_and = default_op.upper() == "AND"
        self.default_fields = default_fields

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def next(self) -> tuple[str, str]:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.parse_query(field=None)
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()[1]!r}")
        return node

    def parse_query(self, field: str | None) -> Node:
        clauses: list[list[Any]] = []  # [occur, node]
        while True:
            tok = self.peek()
            if tok is None or tok[0] == ")":
                break
            conj = None
            if tok[0] in ("AND", "OR"):
                conj = tok[0]
                self.next()
                tok = self.peek()
                if tok is None:
                    break
            mod = None
            if tok[0] == "mod":
                mod = {"+": "REQ", "-": "NOT", "!": "NOT"}[tok[1]]
                self.next()
            elif tok[0] == "NOT":
                mod = "NOT"
                self.next()
            node = self.parse_clause(field)
            # Lucene QueryParserBase.addClause
            if clauses and conj == "AND" and clauses[-1][0] != MUST_NOT:
                clauses[-1][0] = MUST
            if clauses and self.default_and and conj == "OR" and clauses[-1][0] != MUST_NOT:
                clauses[-1][0] = SHOULD
            if not self.default_and:
                prohibited = mod == "NOT"
                required = mod == "REQ"
                if conj == "AND" and not prohibited:
                    required = True
            else:
                prohibited = mod == "NOT"
                required = (not prohibited) and conj != "OR"
                if mod == "REQ":
                    required = True
            occur = MUST if required else (MUST_NOT if prohibited else SHOULD)
            clauses.append([occur, node])
        if len(clauses) == 1 and clauses[0][0] != MUST_NOT:
            return clauses[0][1]
        return Node("bool", clauses=[(o, n) for o, n in clauses])

    def parse_clause(self, field: str | None) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("query ends too early")
        if tok[0] == "field":
            self.next()
            return self.parse_clause(tok[1])
        if tok[0] == "(":
            self.next()
            node = self.parse_query(field)
            if self.peek() is None or self.peek()[0] != ")":
                raise QueryError("missing ')'")
            self.next()
            # a boost after a group: (a b)^2
            return node
        self.next()
        if tok[0] == "phrase":
            return self.term(field, tok[1], phrase=True)
        if tok[0] == "range":
            lo_incl, hi_incl, lo, hi = json.loads(tok[1])
            return Node("range", field=field, lo=lo, hi=hi, lo_incl=lo_incl, hi_incl=hi_incl)
        if tok[0] == "word":
            if tok[1] == "*" and field in (None, "*"):
                return Node("all")
            return self.term(field, tok[1], phrase=False)
        raise QueryError(f"unexpected {tok[1]!r}")

    def term(self, field: str | None, value: str, phrase: bool) -> Node:
        if field is None or field == "*":
            fields = self.default_fields
            if len(fields) == 1:
                return Node("term", field=fields[0], value=value, phrase=phrase, analyzed=True)
            return Node(
                "bool",
                clauses=[(SHOULD, Node("term", field=f, value=value, phrase=phrase, analyzed=True)) for f in fields],
            )
        return Node("term", field=field, value=value, phrase=phrase)


def _expand_fields(spec: str | None) -> tuple[str, ...]:
    """'name^4 title^4 text' -> ('name', 'title', <catch-all fields>)."""
    out: list[str] = []
    for part in (spec or "").split():
        f = part.split("^", 1)[0]
        if f == "text":
            out.extend(x for x in CATCH_ALL_FIELDS if x not in out)
        elif f and f not in out:
            out.append(f)
    return tuple(out) or CATCH_ALL_FIELDS


def parse_query(
    q: str,
    def_type: str = "lucene",
    q_op: str = "OR",
    qf: str | None = None,
    df: str | None = None,
    mm: str | None = None,
) -> Node:
    q = (q or "").strip()
    if q in ("", "*:*", "*"):
        return Node("all")
    def_type = (def_type or "lucene").lower()
    if def_type == "dismax":
        return _parse_dismax(q, _expand_fields(qf), mm)
    fields = _expand_fields(qf or df) if def_type == "edismax" else _expand_fields(df or "text")
    return _Parser(_tokenize(q), q_op or "OR", fields).parse()


def _parse_dismax(q: str, fields: tuple[str, ...], mm: str | None) -> Node:
    """DisMax: bare terms/phrases with +/- only; each searched in all qf."""
    clauses: list[tuple[str, Node]] = []
    should = 0
    for kind, text in _dismax_tokens(q):
        sub = Node(
            "bool",
            clauses=[
                (SHOULD, Node("term", field=f, value=text, phrase=kind == "phrase", analyzed=True)) for f in fields
            ],
        )
        if kind == "phrase" or kind == "word":
            clauses.append((SHOULD, sub))
            should += 1
        elif kind == "+":
            clauses.append((MUST, sub))
        elif kind == "-":
            clauses.append((MUST_NOT, sub))
    if not clauses:
        return Node("all")
    node = Node("bool", clauses=clauses)
    if re.search(r"(^|\s)(OR|\|\|)(\s|$)", q):
        node.min_should = 1  # "a OR b": DisMax keeps AND/OR as operators
    else:
        node.min_should = _min_should_match(mm, should)
    return node


def _dismax_tokens(q: str) -> Iterable[tuple[str, str]]:
    for m in re.finditer(r'([+-]?)(?:"([^"]*)"|(\S+))', q):
        sign, phrase, word = m.groups()
        text = phrase if phrase is not None else _unescape(word)
        if word in ("AND", "OR", "NOT", "&&", "||"):
            continue
        if sign:
            yield sign, text
        else:
            yield ("phrase" if phrase is not None else "word"), text


def _min_should_match(mm: str | None, n: int) -> int:
    """Solr's mm syntax, e.g. '2<-1 5<80%' (CKAN's default)."""
    if n == 0:
        return 0
    spec = (mm or "100%").strip()

    def one(expr: str) -> int:
        expr = expr.strip()
        if expr.endswith("%"):
            pct = float(expr[:-1])
            v = math.floor(n * abs(pct) / 100.0)
            return n - v if pct < 0 else v
        v = int(expr)
        return n + v if v < 0 else v

    if "<" not in spec:
        req = one(spec)
    else:
        req = n  # below the first threshold every clause is required
        for cond in spec.split():
            limit, expr = cond.split("<", 1)
            if n > int(limit):
                req = one(expr)
    return max(1, min(n, req))


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------


def _values(doc: dict[str, Any], field: str) -> list[Any]:
    v = doc.get(field)
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [x for x in v if x is not None]
    return [v]


def _as_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN_RE.findall(text)]


def _field_names(doc: dict[str, Any], field: str) -> list[str]:
    if any(ch in field for ch in "*?"):
        return [k for k in doc if fnmatch.fnmatchcase(k, field)]
    return [field]


def _term_score(doc: dict[str, Any], node: Node) -> float:
    """0.0 when the term does not match the doc, otherwise a small score."""
    value = node.value
    hits = 0.0
    for fname in _field_names(doc, node.field):
        vals = _values(doc, fname)
        if not vals:
            continue
        if not node.phrase and value == "*":
            return 1.0
        wildcard = (not node.phrase) and any(ch in value for ch in "*?")
        raw = _unescape(value) if not node.phrase else value
        text_field = node.analyzed or fname in TEXT_FIELDS
        for v in vals:
            s = _as_str(v)
            if wildcard:
                if text_field:
                    pat = value.lower()
                    if any(fnmatch.fnmatchcase(t, pat) for t in _tokens(s)):
                        hits += 1
                elif fnmatch.fnmatchcase(s, value):
                    hits += 1
            elif s == raw:
                hits += 2
            elif text_field or fname in ("tags", "groups", "res_format", "organization", "license_id"):
                want = _tokens(raw)
                have = _tokens(s)
                if not want:
                    continue
                if (len(want) == 1 and want[0] in have) or (
                    len(want) > 1 and " {} ".format(" ".join(want)) in " {} ".format(" ".join(have))
                ):
                    hits += 1
            elif isinstance(v, bool) and raw.lower() == s:
                hits += 1
            elif NUMERIC_RE.match(raw) and isinstance(v, (int, float)) and float(raw) == float(v):
                hits += 2
    return hits


def _cmp_key(v: Any) -> tuple[int, Any]:
    s = _as_str(v)
    if NUMERIC_RE.match(s):
        return (0, float(s))
    return (1, s)


def _in_range(doc: dict[str, Any], node: Node) -> bool:
    for fname in _field_names(doc, node.field):
        for v in _values(doc, fname):
            key = _cmp_key(v)
            ok = True
            if node.lo not in (None, "*"):
                lo = _cmp_key(node.lo)
                if lo[0] != key[0]:
                    lo, key2 = (1, _as_str(node.lo)), (1, _as_str(v))
                else:
                    key2 = key
                ok = key2 >= lo if node.lo_incl else key2 > lo
            if ok and node.hi not in (None, "*"):
                hi = _cmp_key(node.hi)
                if hi[0] != key[0]:
                    hi, key2 = (1, _as_str(node.hi)), (1, _as_str(v))
                else:
                    key2 = key
                ok = key2 <= hi if node.hi_incl else key2 < hi
            if ok:
                return True
    return False


def score(doc: dict[str, Any], node: Node) -> float:
    """Score of doc for node; 0.0 means no match."""
    if node.kind == "all":
        return 1.0
    if node.kind == "term":
        return _term_score(doc, node)
    if node.kind == "range":
        return 1.0 if _in_range(doc, node) else 0.0
    # boolean
    total = 0.0
    has_positive = False
    should_matched = 0
    for occur, sub in node.clauses:
        s = score(doc, sub)
        if occur == MUST:
            has_positive = True
            if s <= 0:
                return 0.0
            total += s
        elif occur == MUST_NOT:
            if s > 0:
                return 0.0
        else:
            has_positive = True
            if s > 0:
                should_matched += 1
                total += s
    n_should = sum(1 for o, _ in node.clauses if o == SHOULD)
    n_must = sum(1 for o, _ in node.clauses if o == MUST)
    if node.min_should and should_matched < node.min_should:
        return 0.0
    if n_should and not n_must and should_matched == 0:
        return 0.0
    if not has_positive:
        # purely negative query: Solr matches everything not excluded
        return 1.0
    return total or 1.0


# --------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------


class Core:
    """Documents of one Solr core, keyed by the schema's unique key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.docs: dict[str, dict[str, Any]] = {}

    def add(self, doc: dict[str, Any]) -> None:
        key = doc.get(UNIQUE_KEY) or doc.get("id")
        if key is None:
            raise QueryError(f"document is missing its unique key {UNIQUE_KEY!r}: {sorted(doc)!r}")
        self.docs[_as_str(key)] = doc

    def delete_query(self, q: str) -> int:
        node = parse_query(q, "lucene", "OR", df="text")
        doomed = [k for k, d in self.docs.items() if score(d, node) > 0]
        for k in doomed:
            del self.docs[k]
        return len(doomed)

    def delete_id(self, key: str) -> int:
        n = 0
        for k, d in list(self.docs.items()):
            if k == key or _as_str(d.get("id")) == key:
                del self.docs[k]
                n += 1
        return n


class Store:
    def __init__(self, persist: str | None) -> None:
        self.lock = threading.RLock()
        self.cores: dict[str, Core] = {}
        self.persist = persist
        if persist and os.path.exists(persist):
            with open(persist, encoding="utf-8") as fh:
                data = json.load(fh)
            for cname, docs in data.get("cores", {}).items():
                core = self.core(cname)
                for doc in docs:
                    core.add(doc)

    def core(self, name: str) -> Core:
        with self.lock:
            if name not in self.cores:
                self.cores[name] = Core(name)
            return self.cores[name]

    def save(self) -> None:
        if not self.persist:
            return
        with self.lock:
            data = {"cores": {n: list(c.docs.values()) for n, c in self.cores.items()}}
            folder = os.path.dirname(os.path.abspath(self.persist))
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".solr-standin-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.persist)


def schema_xml(core: str) -> str:
    fields = [
        ("index_id", "string"),
        ("id", "string"),
        ("site_id", "string"),
        ("title", "text"),
        ("entity_type", "string"),
        ("dataset_type", "string"),
        ("state", "string"),
        ("name", "string"),
        ("revision_id", "string"),
        ("version", "string"),
        ("url", "string"),
        ("ckan_url", "string"),
        ("download_url", "string"),
        ("notes", "text"),
        ("author", "textgen"),
        ("author_email", "textgen"),
        ("maintainer", "textgen"),
        ("maintainer_email", "textgen"),
        ("license", "string"),
        ("license_id", "string"),
        ("ratings_count", "int"),
        ("ratings_average", "float"),
        ("tags", "string"),
        ("groups", "string"),
        ("organization", "string"),
        ("capacity", "string"),
        ("permission_labels", "string"),
        ("res_name", "textgen"),
        ("res_description", "textgen"),
        ("res_format", "string"),
        ("res_url", "string"),
        ("res_type", "string"),
        ("text", "text"),
        ("urls", "text"),
        ("depends_on", "text"),
        ("dependency_of", "text"),
        ("derives_from", "text"),
        ("has_derivation", "text"),
        ("links_to", "text"),
        ("linked_from", "text"),
        ("child_of", "text"),
        ("parent_of", "text"),
        ("views_total", "int"),
        ("views_recent", "int"),
        ("resources_accessed_total", "int"),
        ("resources_accessed_recent", "int"),
        ("metadata_created", "date"),
        ("metadata_modified", "date"),
        ("indexed_ts", "date"),
        ("title_string", "string"),
        ("data_dict", "string"),
        ("validated_data_dict", "string"),
        ("_version_", "string"),
    ]
    lines = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        f"<!-- Solr stand-in (.ci/ckan/solr_standin.py) for core {core}: not Apache Solr -->",
        f'<schema name="{SCHEMA_NAME}" version="{SCHEMA_VERSION}">',
        "  <fields>",
    ]
    for name, ftype in fields:
        lines.append(f'    <field name="{name}" type="{ftype}" indexed="true" stored="true" />')
    lines += [
        '    <dynamicField name="*" type="string" indexed="true" stored="false" />',
        "  </fields>",
        f"  <uniqueKey>{UNIQUE_KEY}</uniqueKey>",
        "</schema>",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Handlers
# --------------------------------------------------------------------------


def _first(params: dict[str, list[str]], key: str, default: str | None = None) -> str | None:
    v = params.get(key)
    return v[0] if v else default


def _int(params: dict[str, list[str]], key: str, default: int) -> int:
    v = _first(params, key)
    if v in (None, ""):
        return default
    try:
        return int(v)
    except ValueError:
        raise QueryError(f"{key} must be an integer, got {v!r}") from None


def _sort_key_func(sort: str) -> Callable[[tuple[float, dict]], tuple]:
    specs: list[tuple[str, bool]] = []
    for part in (sort or "").split(","):
        bits = part.strip().split()
        if not bits:
            continue
        field = bits[0]
        desc = len(bits) > 1 and bits[1].lower() == "desc"
        specs.append((field, desc))
    if not specs:
        specs = [("score", True)]

    class Rev:
        __slots__ = ("v",)

        def __init__(self, v: Any) -> None:
            self.v = v

        def __lt__(self, other: Rev) -> bool:
            return other.v < self.v

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Rev) and other.v == self.v

    def key(item: tuple[float, dict]) -> tuple:
        sc, doc = item
        out = []
        for field, desc in specs:
            if field == "score":
                v: Any = (0, sc)
            else:
                vals = _values(doc, field)
                # missing values sort last in both directions
                if not vals:
                    out.append((1, Rev((0, 0)) if desc else (0, 0)))
                    continue
                v = _cmp_key(vals[0])
                if v[0] == 1:
                    v = (1, v[1].lower())
            out.append((0, Rev(v) if desc else v))
        return tuple(out)

    return key


def _project(doc: dict[str, Any], fl: str | None, sc: float) -> dict:
    names = [f for f in re.split(r"[\s,]+", (fl or "*").strip()) if f]
    if not names or "*" in names:
        out = dict(doc)
    else:
        out = {}
        for f in names:
            if f == "score":
                continue
            if any(ch in f for ch in "*?"):
                for k in doc:
                    if fnmatch.fnmatchcase(k, f):
                        out[k] = doc[k]
            elif f in doc:
                out[f] = doc[f]
    if "score" in names:
        out["score"] = sc
    return out


def _facets(matches: list[tuple[float, dict]], params: dict) -> dict:
    fields = params.get("facet.field", [])
    # CKAN/pysolr send a list; a JSON-encoded list is accepted too
    expanded: list[str] = []
    for f in fields:
        f = f.strip()
        if f.startswith("["):
            try:
                expanded.extend(json.loads(f))
                continue
            except ValueError:
                pass
        expanded.append(f)
    out: dict[str, list[Any]] = {}
    for field in expanded:
        limit = _int(params, f"f.{field}.facet.limit", _int(params, "facet.limit", 100))
        mincount = _int(params, f"f.{field}.facet.mincount", _int(params, "facet.mincount", 0))
        counts: dict[str, int] = {}
        for _, doc in matches:
            for v in set(_as_str(x) for x in _values(doc, field)):
                counts[v] = counts.get(v, 0) + 1
        items = sorted(((v, c) for v, c in counts.items() if c >= mincount), key=lambda vc: (-vc[1], vc[0]))
        if limit >= 0:
            items = items[:limit]
        flat: list[Any] = []
        for v, c in items:
            flat.extend([v, c])
        out[field] = flat
    return {"facet_queries": {}, "facet_fields": out, "facet_ranges": {}, "facet_intervals": {}, "facet_heatmaps": {}}


def do_select(core: Core, params: dict[str, list[str]], lock) -> dict:
    started = time.time()
    q = _first(params, "q", "*:*") or "*:*"
    def_type = _first(params, "defType", "lucene")
    q_op = _first(params, "q.op", "OR")
    node = parse_query(q, def_type, q_op, _first(params, "qf"), _first(params, "df"), _first(params, "mm"))
    # Solr's standard parser takes q.op from the request for fq too (CKAN
    # sends q.op=AND and relies on it: "+capacity:public tags:x" needs tags:x)
    fq_nodes = [parse_query(fq, "lucene", q_op, df=_first(params, "df")) for fq in params.get("fq", []) if fq.strip()]
    rows = _int(params, "rows", 10)
    start = _int(params, "start", 0)
    with lock:
        docs = list(core.docs.values())
    matches = []
    for doc in docs:
        if any(score(doc, fn) <= 0 for fn in fq_nodes):
            continue
        sc = score(doc, node)
        if sc > 0:
            matches.append((float(sc), doc))
    sort = _first(params, "sort") or "score desc"
    matches.sort(key=_sort_key_func(sort))
    page = matches[start : start + max(rows, 0)]
    fl = _first(params, "fl")
    max_score = max((m[0] for m in matches), default=0.0)
    body: dict[str, Any] = {
        "responseHeader": {
            "status": 0,
            "QTime": int((time.time() - started) * 1000),
            "params": {k: (v[0] if len(v) == 1 else v) for k, v in params.items()},
        },
        "response": {
            "numFound": len(matches),
            "start": start,
            "numFoundExact": True,
            "docs": [_project(d, fl, sc) for sc, d in page],
        },
    }
    if fl and "score" in fl:
        body["response"]["maxScore"] = max_score
    if (_first(params, "facet", "false") or "").lower() in ("true", "on", "1"):
        body["facet_counts"] = _facets(matches, params)
    return body


def _xml_doc_to_dict(el: ElementTree.Element) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for field in el.findall("field"):
        name = field.get("name")
        if name is None:
            continue
        value: Any = field.text or ""
        if name in doc:
            if not isinstance(doc[name], list):
                doc[name] = [doc[name]]
            doc[name].append(value)
        else:
            doc[name] = value
    return doc


def do_update(core: Core, body: bytes, content_type: str) -> dict:
    """Apply an update message (JSON docs/commands or XML)."""
    text = body.decode("utf-8", errors="replace").strip()
    counts = {"added": 0, "deleted": 0}
    if not text:
        return counts
    if "json" in content_type or text[:1] in "[{":
        data = json.loads(text)
        if isinstance(data, list):
            for doc in data:
                core.add(doc)
                counts["added"] += 1
        elif isinstance(data, dict):
            _json_commands(core, text, counts)
        else:
            raise QueryError("unsupported JSON update message")
        return counts
    root = ElementTree.fromstring(text)
    elements = [root] if root.tag != "update" else list(root)
    for el in elements:
        if el.tag == "add":
            for d in el.findall("doc"):
                core.add(_xml_doc_to_dict(d))
                counts["added"] += 1
        elif el.tag == "delete":
            for sub in el:
                if sub.tag == "query":
                    counts["deleted"] += core.delete_query(sub.text or "")
                elif sub.tag == "id":
                    counts["deleted"] += core.delete_id((sub.text or "").strip())
        elif el.tag in ("commit", "optimize", "rollback"):
            pass
        else:
            raise QueryError(f"unsupported update element <{el.tag}>")
    return counts


def _json_commands(core: Core, text: str, counts: dict) -> None:
    # Solr's JSON command syntax may repeat keys ({"add":..., "add":...}).
    pairs = json.loads(text, object_pairs_hook=lambda p: p)
    for key, value in pairs:
        value = _plain(value)
        if key == "add":
            doc = value.get("doc") if isinstance(value, dict) else None
            if not isinstance(doc, dict):
                raise QueryError("JSON add command without doc")
            core.add(doc)
            counts["added"] += 1
        elif key == "delete":
            if isinstance(value, dict) and "query" in value:
                counts["deleted"] += core.delete_query(value["query"])
            elif isinstance(value, dict) and "id" in value:
                counts["deleted"] += core.delete_id(_as_str(value["id"]))
            elif isinstance(value, list):
                for v in value:
                    counts["deleted"] += core.delete_id(_as_str(v))
            else:
                counts["deleted"] += core.delete_id(_as_str(value))
        elif key in ("commit", "optimize", "rollback"):
            pass
        else:
            raise QueryError(f"unsupported JSON update command {key!r}")


def _plain(v: Any) -> Any:
    """Turn object_pairs_hook lists of pairs back into dicts (recursively)."""
    if isinstance(v, list) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        return {k: _plain(x) for k, x in v}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


class Handler(BaseHTTPRequestHandler):
    server_version = "SolrStandIn/1.0"
    store: Store
    quiet = False

    # -- plumbing -----------------------------------------------------------
    def log_message(self, fmt: str, *args: Any) -> None:
        if not self.quiet:
            sys.stderr.write("{} [solr-standin] {}\n".format(time.strftime("%Y-%m-%d %H:%M:%S"), fmt % args))

    def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        else:
            data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, msg: str) -> None:
        self._send(
            status,
            {
                "responseHeader": {"status": status, "QTime": 0},
                "error": {"msg": msg, "code": status, "metadata": ["error-class", "solr-standin"]},
            },
        )

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        self._dispatch(self._read_body())

    # -- routing ------------------------------------------------------------
    def _dispatch(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        ctype = (self.headers.get("Content-Type") or "").lower()
        if body and "x-www-form-urlencoded" in ctype:
            for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
            body = b""
        segs = [s for s in parts.path.split("/") if s]
        try:
            if not segs or segs == ["solr"]:
                return self._send(200, {"standin": True, "status": "OK", "cores": sorted(self.store.cores)})
            if segs[0] != "solr" or len(segs) < 2:
                return self._error(404, f"no such path: {parts.path}")
            if segs[1] == "admin":
                return self._cores_admin(params)
            core = self.store.core(segs[1])
            handler = "/".join(segs[2:])
            if handler in ("select", "query"):
                return self._send(200, do_select(core, params, self.store.lock))
            if handler in ("update", "update/json", "update/json/docs", "update/xml"):
                return self._update(core, body, ctype, params)
            if handler == "schema" or handler.startswith("schema/"):
                return self._schema(core, params, handler)
            if handler == "admin/file":
                if (_first(params, "file") or "") == "schema.xml":
                    return self._send(200, schema_xml(core.name), "application/xml; charset=utf-8")
                return self._error(404, "no such file")
            if handler == "admin/ping":
                return self._send(200, {"responseHeader": {"status": 0, "QTime": 0}, "status": "OK"})
            return self._error(404, f"handler not implemented by the Solr stand-in: /{handler}")
        except (QueryError, ValueError, ElementTree.ParseError) as exc:
            return self._error(400, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # pragma: no cover - defensive
            import traceback

            traceback.print_exc()
            return self._error(500, f"{type(exc).__name__}: {exc}")

    def _update(self, core: Core, body: bytes, ctype: str, params: dict) -> None:
        started = time.time()
        # also accept stream.body=... in the query string
        if not body and params.get("stream.body"):
            body = params["stream.body"][0].encode("utf-8")
        with self.store.lock:
            counts = do_update(core, body, ctype)
            if counts["added"] or counts["deleted"]:
                self.store.save()
        self._send(
            200, {"responseHeader": {"status": 0, "QTime": int((time.time() - started) * 1000)}, "standin": counts}
        )

    def _schema(self, core: Core, params: dict, handler: str) -> None:
        if (_first(params, "wt") or "") in ("schema.xml", "xml"):
            return self._send(200, schema_xml(core.name), "application/xml; charset=utf-8")
        root = ElementTree.fromstring(schema_xml(core.name).split("\n", 2)[2])
        fields = [dict(f.attrib) for f in root.iter("field")]
        if handler == "schema/version":
            return self._send(200, {"version": float(SCHEMA_VERSION)})
        if handler == "schema/name":
            return self._send(200, {"name": SCHEMA_NAME})
        if handler == "schema/uniquekey":
            return self._send(200, {"uniqueKey": UNIQUE_KEY})
        return self._send(
            200,
            {
                "responseHeader": {"status": 0, "QTime": 0},
                "schema": {
                    "name": SCHEMA_NAME,
                    "version": float(SCHEMA_VERSION),
                    "uniqueKey": UNIQUE_KEY,
                    "fields": fields,
                },
            },
        )

    def _cores_admin(self, params: dict) -> None:
        with self.store.lock:
            status = {name: {"name": name, "index": {"numDocs": len(c.docs)}} for name, c in self.store.cores.items()}
        self._send(200, {"responseHeader": {"status": 0, "QTime": 0}, "status": status})


def make_server(host: str, port: int, persist: str | None = None, quiet: bool = False) -> ThreadingHTTPServer:
    """Build (not start) a stand-in server; port 0 picks a free port."""
    store = Store(persist)
    handler = type("BoundHandler", (Handler,), {"store": store, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Solr stand-in for CKAN's search index (not Apache Solr)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8983)
    ap.add_argument("--persist", metavar="FILE", help="keep the documents in this JSON file across runs")
    ap.add_argument("--quiet", action="store_true", help="do not log every request")
    args = ap.parse_args(argv)
    server = make_server(args.host, args.port, args.persist, args.quiet)
    host, port = server.server_address[:2]
    sys.stderr.write(f"Solr stand-in (not Apache Solr) listening on http://{host}:{port}/solr/<core>\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
