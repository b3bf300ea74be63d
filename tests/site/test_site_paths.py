"""Where a page goes: the fast test of a page folder's path against the part-by-part reading it replaced."""

from __future__ import annotations

import itertools

from toolkit.site.paths import SiteMap, safe_rel


def part_by_part(path: str) -> str | None:
    """The oracle: each part of the path looked at on its own (the first implementation, kept here)."""
    parts = path.strip("/").split("/")
    if not path or any(p in ("", ".", "..") or "\\" in p or "?" in p or "#" in p for p in parts):
        return None
    return "/".join(parts)


def test_safe_rel_agrees_with_the_part_by_part_reading_on_every_short_path() -> None:
    # every path of up to five pieces from an alphabet of the characters that matter (a newline: a
    # regular expression's "$" would match before one at the end; "\Z" does not)
    alphabet = ["a", "é", ".", "..", "...", ".a", "a.", "/", "\\", "?", "#", "\n"]
    tried = 0
    for size in range(6):
        for pieces in itertools.product(alphabet, repeat=size):
            path = "".join(pieces)
            assert safe_rel(path) == part_by_part(path), repr(path)
            tried += 1
    assert tried == sum(len(alphabet) ** n for n in range(6))


def test_page_dir_places_resources_and_terms_and_refuses_the_rest() -> None:
    sitemap = SiteMap(root_iri="https://example.org/id/", ontology_ns="https://example.org/ontology#")
    assert sitemap.page_dir("https://example.org/id/source/s1") == "source/s1/"
    assert sitemap.page_dir("https://example.org/ontology#Gizmo") == "ontology/Gizmo/"
    assert sitemap.page_dir("https://example.org/id/a/../b") is None
    assert sitemap.page_dir("https://example.org/id/static/x") is None  # the site's own folder
    assert sitemap.page_dir("https://elsewhere.org/id/x") is None
