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
        end = len(raw) if end is None else end
        chars: list[str] = []
        offsets: list[int] = []
        i = start
        while i < end:
            ch = raw[i]
            if ch.isspace():
                j = i
                while j < end and raw[j].isspace():
                    j += 1
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    offsets.append(i)
                i = j
                continue
            chars.append(ch)
            offsets.append(i)
            i += 1
        return cls("".join(chars), offsets)


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


def closest_passage(quote: str, body: Normalised) -> str:
    """The body sentence most like the quote, to show a person where it went wrong."""
    q = normalise(quote)
    best, best_score = "", -1.0
    for m in _SENTENCE.finditer(body.text):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        matcher = difflib.SequenceMatcher(None, q, sentence, autojunk=False)
        score = matcher.find_longest_match(0, len(q), 0, len(sentence)).size + matcher.ratio()
        if score > best_score:
            best, best_score = sentence, score
    return best
