"""Find evidence quotes in an archived text, verbatim after whitespace normalisation.

Offsets are character (code point) offsets into the archived file exactly as stored, so
anyone can check a quote with ``text[start:end]``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Normalised:
    """Whitespace-collapsed text with a map from each of its characters to the raw offset."""

    text: str
    offsets: list[int]

    @classmethod
    def of(cls, raw: str, start: int = 0, end: int | None = None) -> Normalised:
        """``raw[start:end]`` with each run of whitespace made one space (none before the first
        character), and the raw offset of every character kept. Run by run with the regex
        engine, not character by character (a build normalises every source's text)."""
        end = len(raw) if end is None else end
        parts: list[str] = []
        offsets: list[int] = []
        i = start
        for m in _WS.finditer(raw, start, end):
            a, b = m.span()
            if a > i:
                parts.append(raw[i:a])
                offsets.extend(range(i, a))
            if offsets:
                parts.append(" ")
                offsets.append(a)
            i = b
        if i < end:
            parts.append(raw[i:end])
            offsets.extend(range(i, end))
        return cls("".join(parts), offsets)


def normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def find_span(quote: str, body: Normalised) -> tuple[int, int] | None:
    """Raw (start, end) of the first occurrence of ``quote`` in the body, or None."""
    q = normalise(quote)
    if not q:
        return None
    pos = body.text.find(q)
    if pos < 0:
        return None
    last = pos + len(q) - 1
    return body.offsets[pos], body.offsets[last] + 1


_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
#: the longest passage a hint quotes: a report shows a window of the text, never the text
MAX_PASSAGE_CHARS = 80


def closest_passage(quote: str, body: Normalised, width: int = MAX_PASSAGE_CHARS) -> str:
    """The body sentence most like the quote, to show a person where it went wrong.

    At most ``width`` characters of it, centred on the part it shares with the quote, with
    "…" where it was cut: enough to spot a typo, never a way to print a whole file.
    """
    q = normalise(quote)
    best, best_score, best_at = "", -1.0, 0
    for m in _SENTENCE.finditer(body.text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        matcher = difflib.SequenceMatcher(None, q, sentence, autojunk=False)
        match = matcher.find_longest_match(0, len(q), 0, len(sentence))
        score = match.size + matcher.ratio()
        if score > best_score:
            best, best_score, best_at = sentence, score, match.b + match.size // 2
    if len(best) <= width:
        return best
    start = max(0, min(best_at - width // 2, len(best) - width))
    end = start + width
    return ("…" if start else "") + best[start:end] + ("…" if end < len(best) else "")
