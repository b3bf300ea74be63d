"""Where each IRI's page lives in the site, and relative links between pages.

Why relative links: the same folder works on any static host, under any path (a project
page, ``/policy-toolkit/``, a local ``serve``), with no rewrite step. Why folders
(``id/<slug>/index.html``): every static host answers the IRI's own path ``/id/<slug>`` with
that page (after the usual redirect to ``/id/<slug>/``), so a minted IRI dereferences to its
page once the site is published at the site root the base IRI sits under.

Chinese pages sit at the paths themselves (the sources are Chinese); English pages mirror
them under ``en/``, so the language switch of any page is one fixed prefix away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def site_root_of(base_iri: str) -> str:
    """The site's root IRI for a base IRI: its parent (``.../policy-toolkit/id/`` -> ``.../policy-toolkit/``)."""
    trimmed = base_iri.rstrip("/#")
    head, _, _ = trimmed.rpartition("/")
    if "://" not in head or head.endswith(":/"):
        return base_iri if base_iri.endswith("/") else base_iri + "/"
    return head + "/"


#: what makes a path not a plain page folder: an empty, ``.`` or ``..`` part, or a ``\\``, ``?`` or ``#``
_UNSAFE = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)|[\\?#]")


def safe_rel(path: str) -> str | None:
    """``path`` if it is a plain relative path for a page folder (no ``..``, no empty parts), else None."""
    # one regular expression, not a test of each part: it runs for every resource of the release on every run
    rel = path.strip("/")
    return None if not path or _UNSAFE.search(rel) else rel


@dataclass(frozen=True)
class SiteMap:
    """Maps IRIs to page folders (relative to the site root, ending in ``/``) and back."""

    root_iri: str
    ontology_ns: str

    def page_dir(self, iri: str) -> str | None:
        """The folder of ``iri``'s page, or None when the site has no page for it (an external IRI)."""
        if self.ontology_ns and iri.startswith(self.ontology_ns):
            local = safe_rel(iri[len(self.ontology_ns) :])
            return None if local is None else f"ontology/{local}/"
        if iri.startswith(self.root_iri):
            rest = iri[len(self.root_iri) :]
            if rest.startswith(("ontology/", "en/", "static/", "search/", "release/")):
                return None  # the site's own folders; no resource is placed over them
            rel = safe_rel(rest)
            return None if rel is None else rel + "/"
        return None

    def iri_of(self, page_dir: str) -> str:
        """The IRI a resource page folder stands for (the inverse of :meth:`page_dir` for resources)."""
        return self.root_iri + page_dir.rstrip("/")

    def url(self, path: str, lang: str = DEFAULT_LANG) -> str:
        """The absolute public URL of a site path in ``lang`` (canonical links, sitemap)."""
        return self.root_iri + lang_path(path, lang)


def lang_path(path: str, lang: str) -> str:
    """A site path in ``lang``: Chinese at the path, English under ``en/``."""
    return path if lang == DEFAULT_LANG else "en/" + path


@lru_cache(maxsize=65536)
def rel(from_dir: str, to: str) -> str:
    """A relative link from the page folder ``from_dir`` to the site path ``to`` (folder or file)."""
    # posixpath.relpath without its two os.getcwd() calls (a fifth of a site's time): both are
    # plain site paths (safe_rel: no "..", no empty parts), so the common prefix is all it takes
    target = [p for p in to.split("/") if p and p != "."]
    start = [p for p in from_dir.split("/") if p and p != "."]
    common = 0
    while common < min(len(target), len(start)) and target[common] == start[common]:
        common += 1
    out = "/".join([".."] * (len(start) - common) + target[common:]) or "."
    if to.endswith("/") or not to:
        out = out.rstrip("/") + "/"
    return out
