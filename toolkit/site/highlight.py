"""Cut a paragraph into plain and highlighted runs for quotes that may overlap.

Why runs and not inserted tags: the template escapes every run's text itself (no HTML is
built by hand), and overlapping quotes (two facts citing overlapping words) still give
well-nested markup: each run is covered by a fixed set of quotes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    """A quote's span in the text (file offsets), with where it links and its anchor id."""

    start: int
    end: int
    anchor: str
    href: str
    title: str


def runs(text: str, offset: int, marks: list[Mark]) -> list[dict[str, object]]:
    """Runs of ``text`` (which starts at file offset ``offset``) split at every quote boundary.

    A run covered by quotes links to the first of them; a quote's anchor is put on the run
    where it starts. Returned as plain dicts for the template.
    """
    end = offset + len(text)
    inside = sorted((m for m in marks if m.start < end and m.end > offset), key=lambda m: (m.start, m.end, m.anchor))
    cuts = {offset, end}
    for m in inside:
        cuts.add(min(max(m.start, offset), end))
        cuts.add(min(max(m.end, offset), end))
    points = sorted(cuts)
    out: list[dict[str, object]] = []
    for a, b in itertools.pairwise(points):
        if a == b:
            continue
        covering = tuple(m for m in inside if m.start <= a and m.end >= b)
        starting = [m.anchor for m in covering if m.start == a]
        first = covering[0] if covering else None
        out.append(
            {
                "text": text[a - offset : b - offset],
                "marked": bool(covering),
                "href": first.href if first else "",
                "title": first.title if first else "",
                "anchors": starting,
                "count": len(covering),
            }
        )
    return out
