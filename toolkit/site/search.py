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
    """Pages and their terms; :meth:`to_json` gives the bytes of ``search/index.json``."""

    docs: dict[str, tuple[dict[str, str], list[str], str]] = field(default_factory=dict)

    def add(self, path: str, titles: dict[str, str], texts: list[str], kinds: list[str]) -> None:
        """Index a page at ``path`` by its titles (each language) and texts (quotes, comments)."""
        texts = [t for t in texts if t]
        snippet = texts[0][:SNIPPET] if texts else ""
        self.docs[path] = (titles, [*sorted(titles.values()), *texts, *kinds], snippet)

    def to_json(self) -> bytes:
        paths = sorted(self.docs)
        postings: dict[str, set[int]] = {}
        for n, path in enumerate(paths):
            for text in self.docs[path][1]:
                for tok in tokens(text):
                    postings.setdefault(tok, set()).add(n)
        doc = {
            "version": 1,
            "docs": [
                [path, self.docs[path][0].get("zh", ""), self.docs[path][0].get("en", ""), self.docs[path][2]]
                for path in paths
            ],
            "terms": {tok: sorted(ids) for tok, ids in sorted(postings.items())},
        }
        return (json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")
