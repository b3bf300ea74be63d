"""The site's offline search index: one JSON file, Chinese as character bigrams, other words whole.

Why our own small index and not Pagefind: Pagefind's extended build (the one that segments
Chinese) is a binary whose output we cannot promise byte for byte across versions, and the
site must come out byte-identical from the same release; an index of a few hundred pages is
a few tens of kilobytes as JSON. Why bigrams: Chinese has no spaces, and overlapping
character pairs find any word of two or more characters ("长三角" = "长三" + "三角") without
a dictionary; ``static/search.js`` cuts the query the same way (:func:`tokens` is the rule)
and keeps the pages that hold every token, a one-character query matching the bigrams it
begins.
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
    """Pages and their terms (path -> titles, sorted terms, snippet); :meth:`to_json` gives ``search/index.json``."""

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

    def to_json(self) -> bytes:
        paths = sorted(self.docs)
        postings: dict[str, list[int]] = {}
        for n, path in enumerate(paths):
            terms = self.docs[path][1]
            for tok in terms.split("\n") if terms else ():
                found = postings.get(tok)
                if found is None:
                    postings[tok] = [n]
                else:
                    found.append(n)  # in order: n only grows, and a page's terms are each there once
        doc = {
            "version": 1,
            "docs": [
                [path, self.docs[path][0].get("zh", ""), self.docs[path][0].get("en", ""), self.docs[path][2]]
                for path in paths
            ],
            "terms": postings,  # sorted by json.dumps
        }
        return (json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")
