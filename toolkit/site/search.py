"""The site's offline search index: JSON shards loaded on demand, Chinese as character bigrams, other words whole.

Why our own small index and not Pagefind: Pagefind's extended build (the one that segments
Chinese) is a binary whose output we cannot promise byte for byte across versions, and the
site must come out byte-identical from the same release; an index of a few hundred pages is
a few tens of kilobytes as JSON. Why bigrams: Chinese has no spaces, and overlapping
character pairs find any word of two or more characters ("长三角" = "长三" + "三角") without
a dictionary; ``static/search.js`` cuts the query the same way (:func:`tokens` is the rule)
and keeps the pages that hold every token, a one-character query matching the bigrams it
begins.

Why shards: at a million triples the index is tens of megabytes, which no browser should fetch
to look up one word, and one changed page would rewrite all of it. ``search/index.json`` says
how many shards there are; a term lives in ``search/terms/<n>.json`` by a hash of its first
character (Han) or first two characters (words), so a query fetches the shard of each of its
tokens and a prefix of a token finds its terms in the same shard (a one-letter word fetches
them all); a page's titles and snippet live in ``search/docs/<n>.json`` by a hash of its path.
Postings name pages by path, not by number: a page added or gone changes only the shards of its
own terms, not every number after it. :func:`shard_of` is the rule, ``search.js`` its twin.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

#: a run of Han characters (CJK unified ideographs, extension A, compatibility)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9a-z]+")
SNIPPET = 120
#: pages per shard that the automatic shard count aims at (a power of two, at most MAX_SHARDS)
DOCS_PER_SHARD = 2000
MAX_SHARDS = 1024


def fnv1a(text: str) -> int:
    """32-bit FNV-1a over the code points of ``text`` (``search.js`` computes the same with Math.imul)."""
    h = 0x811C9DC5
    for ch in text:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h


def term_key(term: str) -> str:
    """What decides a term's shard: its first character when it is Han, else its first two."""
    return term[:1] if _HAN.match(term[:1]) else term[:2]


def shard_of(key: str, shards: int) -> int:
    """The shard of ``key``: its hash folded (the high half into the low: the low bits of FNV-1a alone
    depend only on the low bits of each character) modulo the number of shards."""
    h = fnv1a(key)
    return (h ^ (h >> 16)) % shards


def auto_shards(docs: int) -> int:
    """The smallest power of two that keeps about :data:`DOCS_PER_SHARD` pages a shard (1 for a small site)."""
    n = 1
    while n < MAX_SHARDS and n * DOCS_PER_SHARD < docs:
        n *= 2
    return n


def dumps(doc: object) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


def tokens(text: str) -> list[str]:
    """The index terms of ``text``: NFKC, lower case; Han runs as bigrams (a lone character as itself), words whole."""
    norm = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for run in _HAN.findall(norm):
        if len(run) == 1:
            out.append(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    out.extend(_WORD.findall(_HAN.sub(" ", norm)))
    return out


@dataclass
class SearchIndex:
    """Pages and their terms (path -> titles, sorted terms, snippet); :meth:`to_files` gives the index's files."""

    docs: dict[str, tuple[dict[str, str], str, str]] = field(default_factory=dict)

    def add(self, path: str, titles: dict[str, str], texts: list[str], kinds: list[str]) -> None:
        """Index a page at ``path`` by its titles (each language) and texts (quotes, comments).

        The terms are cut here, once, and kept (sorted, each once) with the page's entry: the
        resource pages are indexed in the workers, and a page kept from the last site brings its
        terms from the state, so :meth:`to_json` only gathers them (it runs after every change)."""
        texts = [t for t in texts if t]
        snippet = texts[0][:SNIPPET] if texts else ""
        terms = {tok for text in [*sorted(titles.values()), *texts, *kinds] for tok in tokens(text)}
        # one string, a term a line (no term holds a line break): the state keeps one object a page
        self.docs[path] = (titles, "\n".join(sorted(terms)), snippet)

    def to_files(self, shards: int | None = None) -> dict[str, bytes]:
        """``search/index.json`` (the number of shards) and the shards: terms -> paths of the pages that
        hold them, path -> [zh title, en title, snippet]. Every run gathers them (the pages' terms are
        kept with their entries); each file is written only when its bytes changed."""
        n = shards or auto_shards(len(self.docs))
        postings: list[dict[str, list[str]]] = [{} for _ in range(n)]
        where: dict[str, dict[str, list[str]]] = {}  # a term's postings, found once
        docs: list[dict[str, list[str]]] = [{} for _ in range(n)]
        for path in sorted(self.docs):
            titles, terms, snippet = self.docs[path]
            docs[shard_of(path, n)][path] = [titles.get("zh", ""), titles.get("en", ""), snippet]
            for tok in terms.split("\n") if terms else ():
                found = where.get(tok)
                if found is None:
                    found = where[tok] = postings[shard_of(term_key(tok), n)].setdefault(tok, [])
                found.append(path)  # in path order: each page's terms are there once
        files = {"search/index.json": dumps({"version": 2, "shards": n})}
        for i in range(n):
            files[f"search/terms/{i}.json"] = dumps(postings[i])
            files[f"search/docs/{i}.json"] = dumps(docs[i])
        return files
